// The demo books as `npm start` serves them (generated art, imported with the import CLI), each
// personalised with a fixture photo through the real api, gpu runner (the composite engine) and render
// runner, its preview opened in Chromium: the face page shows the child drawn into the illustration.
// Screenshots land in web/test-results/e2e/ (demo-<slug>-…).
import { execFile } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { type Manifest, repoRoot } from "@faceapp/core";
import { fixturePath, redisUrl, serviceEnv, type Spawned, spawnRunner } from "@faceapp/testkit";
import type { Browser } from "puppeteer-core";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useApi } from "@faceapp/testkit/api";
import { generateBooks } from "../../books/generate.ts";
import { descriptor, distance, recognise, SAME_PERSON } from "@faceapp/runners/likeness";
import {
  allowBrowserUploads,
  buildWeb,
  CHROMIUM,
  hasChromium,
  launchBrowser,
  serveApi,
  shooter,
  shotsDir,
} from "./e2e.helpers.ts";

const LONG = 600_000;
const PHOTO = fixturePath("face-astronaut.png");
const BOOKS = [
  { slug: "land-of-wonders", child: "Ada" },
  { slug: "dyvokrai", child: "Соломія" },
] as const;
/** The first face page of the preview (both books draw the child on page 1). */
const FACE_PAGE = 1;
const WEB = 1200;
type Box = { x: number; y: number; width: number; height: number };

if (!hasChromium) console.warn(`[demo books e2e] skipped: no Chromium at ${CHROMIUM} (set CHROMIUM_PATH)`);

/** The personalisations' seed (each page's seed derives from it): the same drawing every run. */
const DRAWING_SEED = 1;

/** A picture at the web image's size, as raw RGB. */
const rgbAt = async (input: Buffer | string) =>
  sharp(input).removeAlpha().resize(WEB, WEB, { fit: "cover" }).raw().toBuffer();

/** The white part of a mask at the web image's size: which pixels, and their bounding box. */
async function maskAt(file: string): Promise<{ inside: Uint8Array; box: Box }> {
  const data = await sharp(file).greyscale().resize(WEB, WEB, { fit: "cover" }).raw().toBuffer();
  const inside = new Uint8Array(WEB * WEB);
  let [x0, y0, x1, y1] = [WEB, WEB, -1, -1];
  for (let i = 0; i < inside.length; i++) {
    if (data[i]! <= 127) continue;
    inside[i] = 1;
    const [x, y] = [i % WEB, Math.floor(i / WEB)];
    [x0, y0, x1, y1] = [Math.min(x0, x), Math.min(y0, y), Math.max(x1, x), Math.max(y1, y)];
  }
  return { inside, box: { x: x0, y: y0, width: x1 - x0 + 1, height: y1 - y0 + 1 } };
}

describe.skipIf(!hasChromium)("the demo books, personalised, in Chromium", { timeout: LONG }, () => {
  const api = useApi();
  const runners: Spawned[] = [];
  let server: Awaited<ReturnType<typeof serveApi>>;
  let browser: Browser;
  let photo: Float32Array;

  beforeAll(async () => {
    const webDist = buildWeb();
    await allowBrowserUploads(api.s3Config);
    const env = serviceEnv(api.pg.url, api.s3Config, redisUrl);
    // As `npm start` does (scripts/stack.ts): the art generated once, each book imported by the CLI.
    if (BOOKS.some((b) => !fs.existsSync(path.join(repoRoot, "books", b.slug, "art")))) await generateBooks();
    for (const { slug } of BOOKS) {
      await promisify(execFile)(
        process.execPath,
        ["--import", "tsx", "api/src/cli/import-book.ts", path.join("books", slug)],
        // Without Redis: the import leaves the shared catalog cache alone (this api has its own prefix).
        {
          cwd: repoRoot,
          env: { PATH: process.env.PATH, ...serviceEnv(api.pg.url, api.s3Config), MIGRATE_ON_START: "false" },
        },
      );
    }
    server = await serveApi(api, webDist);
    runners.push(...(await Promise.all([spawnRunner("gpu", env), spawnRunner("render", env)])));
    expect(runners[0]!.logs.find((l) => l.msg === "gpu engines ready")?.faceEngine).toBe("composite");
    browser = await launchBrowser();
    photo = (await descriptor(fs.readFileSync(PHOTO)))!;
    expect(photo).toBeTruthy();
  }, LONG);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await Promise.all(runners.map((r) => r.stop()));
  });

  for (const { slug, child } of BOOKS) {
    it(`${slug}: the preview's face page shows the child drawn into the illustration, inside its face box`, async () => {
      const shot = shooter(`demo-${slug}`);
      const origin = server.origin;
      const signup = await fetch(`${origin}/v1/auth/signup`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ email: `demo-${slug}-${Date.now()}@example.com`, password: "correct horse battery" }),
      });
      expect(signup.status).toBe(201);
      const { token } = (await signup.json()) as { token: string };
      const session = (signup.headers.get("set-cookie") ?? "").split(";")[0]!.split("=");
      const call = async (method: string, route: string, body?: unknown) => {
        const res = await fetch(`${origin}${route}`, {
          method,
          headers: { authorization: `Bearer ${token}`, ...(body ? { "content-type": "application/json" } : {}) },
          ...(body ? { body: JSON.stringify(body) } : {}),
        });
        if (!res.ok) throw new Error(`${method} ${route}: ${res.status} ${await res.text()}`);
        return (await res.json()) as Record<string, unknown>;
      };
      // The photo as the web app sends it: a presigned POST straight to the bucket, then verified.
      const bytes = fs.readFileSync(PHOTO);
      const ticket = await call("POST", "/v1/uploads", { contentType: "image/png", byteSize: bytes.length });
      const form = new FormData();
      for (const [k, v] of Object.entries(ticket.fields as Record<string, string>)) form.append(k, v);
      form.append("file", new Blob([bytes], { type: "image/png" }));
      expect((await fetch(String(ticket.url), { method: "POST", body: form })).ok).toBe(true);
      await call("POST", `/v1/uploads/${ticket.id}/complete`);
      const { id } = await call("POST", "/v1/personalizations", { bookSlug: slug, photoUploadId: ticket.id });

      const page = await browser.newPage();
      await page.setViewport({ width: 1280, height: 900 });
      await page.evaluateOnNewDocument(() => {
        Object.defineProperty(navigator, "languages", { get: () => ["en-GB", "en"] });
      });
      await page.setCookie({ name: session[0]!, value: session.slice(1).join("="), url: origin });
      await page.goto(`${origin}/p/${id}`);
      await page.waitForSelector('section.personalization[data-status="analyzed"]', { timeout: LONG });
      // One fixed seed, so each run draws (and screenshots) the same face: the likeness over many
      // seeds is runners/test/gpu/composite.test.ts's to measure.
      await api.pg.sql`update app.personalizations set seed = ${DRAWING_SEED} where id = ${String(id)}`;
      await call("POST", `/v1/personalizations/${id}/generate`, { childName: child });
      await page.waitForSelector('section.personalization[data-status="preview_ready"]', { timeout: LONG });
      await shot(page, "preview-ready");

      // The viewer's first spread: the face page, as the parent sees it.
      await (await page.waitForSelector("xpath///button[contains(., 'Open the book')]"))!.click();
      await page.waitForSelector("dialog.viewer[open] .spread[data-spread='0'] img.page");
      await page.keyboard.press("ArrowRight");
      const shown = `dialog.viewer .spread[data-spread='${FACE_PAGE}'] img.page[alt='Page ${FACE_PAGE}']`;
      await page.waitForFunction(
        (s) => document.querySelector<HTMLImageElement>(s)?.complete,
        { timeout: LONG },
        shown,
      );
      await shot(page, "face-page", { fullPage: false });
      const src = await page.$eval(shown, (img) => (img as HTMLImageElement).currentSrc);
      await page.close();

      // What the browser showed, against the book's own illustration at the same size.
      const web = Buffer.from(await (await fetch(src)).arrayBuffer());
      expect((await sharp(web).metadata()).width).toBe(WEB);
      const manifest = JSON.parse(
        fs.readFileSync(path.join(repoRoot, "books", slug, "manifest.json"), "utf8"),
      ) as Manifest;
      const art = manifest.pages[FACE_PAGE]!;
      const base = path.join(repoRoot, "books", slug, art.base_uri);
      const [after, before, mask] = await Promise.all([
        rgbAt(web),
        rgbAt(base),
        maskAt(base.replace(/\.png$/, "_mask.png")),
      ]);
      const changed = (i: number) =>
        Math.max(...[0, 1, 2].map((c) => Math.abs(after[i * 3 + c]! - before[i * 3 + c]!))) > 40;
      // Inside the face region (the mask), the drawn face; around it, where a halo, the photo's hair
      // or its background would show (a quarter of the region's width wide, from 2 pixels off its
      // edge, past JPEG's ringing), the illustration as drawn.
      const { box, inside } = mask;
      const reach = Math.round(box.width / 4);
      const offEdge = (x: number, y: number) => {
        for (let dy = -2; dy <= 2; dy++)
          for (let dx = -2; dx <= 2; dx++) if (inside[(y + dy) * WEB + x + dx]) return false;
        return true;
      };
      let face = 0;
      let faceChanged = 0;
      let around = 0;
      let aroundChanged = 0;
      for (let y = box.y - reach; y < box.y + box.height + reach; y++) {
        for (let x = box.x - reach; x < box.x + box.width + reach; x++) {
          const i = y * WEB + x;
          if (inside[i]) {
            face++;
            if (changed(i)) faceChanged++;
          } else if (offEdge(x, y)) {
            around++;
            if (changed(i)) aroundChanged++;
          }
        }
      }
      console.info(
        `${slug}: ${faceChanged} of ${face} face-region pixels redrawn, ${aroundChanged} of ${around} around it changed`,
      );
      // The drawn face's middle tone is the page's own skin: what changes is its features and shade
      // (the region also holds the page's hair, which stays).
      expect.soft(face).toBeGreaterThan(1000);
      expect.soft(faceChanged / face).toBeGreaterThan(0.03);
      expect.soft(aroundChanged / around).toBeLessThan(0.01);
      // A close-up of the face as shown (the web image around the face region, enlarged 3×).
      const margin = Math.round(box.width * 0.4);
      await sharp(web)
        .extract({
          left: box.x - margin,
          top: box.y - margin,
          width: box.width + 2 * margin,
          height: box.height + 2 * margin,
        })
        .resize({ width: 3 * (box.width + 2 * margin), kernel: "nearest" })
        .png()
        .toFile(path.join(shotsDir, `demo-${slug}-03-face-closeup.png`));

      // A face is there, where the region is, and face-api's recogniser takes it for the child.
      const found = await recognise(web, box);
      expect(found, "a face is found in the page's face region").not.toBeNull();
      for (const eye of found!.eyes) {
        expect(eye.x).toBeGreaterThan(box.x);
        expect(eye.x).toBeLessThan(box.x + box.width);
        expect(eye.y).toBeGreaterThan(box.y);
        expect(eye.y).toBeLessThan(box.y + box.height);
      }
      // The book's own cartoon face there is not taken for the child (so the figure below means something).
      const cartoon = await recognise(await sharp(base).resize(WEB).png().toBuffer(), box);
      const cartoonDistance = cartoon ? await distance(photo, cartoon.descriptor) : null;
      console.info(`${slug}: the unpersonalised page's face against the photo: ${cartoonDistance ?? "no face found"}`);
      if (cartoonDistance !== null) expect.soft(cartoonDistance).toBeGreaterThan(SAME_PERSON);
      const likeness = await distance(photo, found!.descriptor);
      console.info(
        `likeness (descriptor distance, photo vs ${slug} page ${FACE_PAGE} as shown): ${likeness.toFixed(3)}`,
      );
      expect(likeness).toBeLessThan(SAME_PERSON);
    });
  }
});
