// The e2e rig: the web app built for same-origin use, served by a real api (with its own database,
// bucket and Redis), runner processes, and Debian's headless Chromium driven by puppeteer-core.
import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import fs from "node:fs";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { PutBucketCorsCommand } from "@aws-sdk/client-s3";
import { createS3Client, type S3Config } from "@faceapp/core";
import { redisUrl, seedBook, serviceEnv } from "@faceapp/testkit";
import { serve } from "@hono/node-server";
import puppeteer, { type Browser, type Page } from "puppeteer-core";
import { createApp } from "../../api/src/app.ts";
import type { TestApi } from "@faceapp/testkit/api";
import { contrast, parseColor, seen } from "./contrast.ts";

export const webRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
export const hasChromium = fs.existsSync(CHROMIUM);
/** Screenshots of every step (git-ignored). */
export const shotsDir = path.join(webRoot, "test-results", "e2e");

/** Builds the app with VITE_API_BASE_URL="" (the api serves it from its own origin) into a temp folder. */
export function buildWeb(): string {
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), "faceapp-web-"));
  const vite = path.join(webRoot, "../node_modules/vite/bin/vite.js");
  execFileSync(process.execPath, [vite, "build", "--outDir", outDir, "--emptyOutDir", "--logLevel", "warn"], {
    cwd: webRoot,
    env: { ...process.env, VITE_API_BASE_URL: "" },
    stdio: "pipe",
  });
  return outDir;
}

/** Browsers post photos straight to the bucket: it needs CORS, as the real store has. */
export async function allowBrowserUploads(s3Config: S3Config): Promise<void> {
  await createS3Client(s3Config).send(
    new PutBucketCorsCommand({
      Bucket: s3Config.bucket,
      CORSConfiguration: {
        CORSRules: [
          {
            AllowedOrigins: ["*"],
            AllowedMethods: ["GET", "HEAD", "POST", "PUT"],
            AllowedHeaders: ["*"],
            ExposeHeaders: ["ETag"],
          },
        ],
      },
    }),
  );
}

/** The api (serving the built app) on a free port. */
export async function serveApi(api: TestApi, webDist: string): Promise<{ origin: string; close(): Promise<void> }> {
  const app = createApp({ ...api.deps, webDist });
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        (server as import("node:http").Server).closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

/**
 * The stack both e2e files drive: the app built and served by the api, browser uploads allowed, the
 * test book "moon" (a face on page 1, pages 1 and 2 in the preview), and the env runners are given.
 */
export async function serveFlow(api: TestApi): Promise<{
  server: Awaited<ReturnType<typeof serveApi>>;
  origin: string;
  env: Record<string, string>;
}> {
  const webDist = buildWeb();
  await allowBrowserUploads(api.s3Config);
  await seedBook(api.pg, api.s3Config, { slug: "moon", facePages: [1], previewPages: [1, 2] });
  const server = await serveApi(api, webDist);
  return { server, origin: server.origin, env: serviceEnv(api.pg.url, api.s3Config, redisUrl) };
}

export async function launchBrowser(): Promise<Browser> {
  return puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    protocolTimeout: 600_000,
    userDataDir: fs.mkdtempSync(path.join(os.tmpdir(), "faceapp-chromium-")),
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
      "--disable-dev-shm-usage",
      "--hide-scrollbars",
      "--font-render-hinting=none",
    ],
  });
}

/** A screenshot of the whole page (or only the viewport: a modal viewer), numbered in the order taken. */
export function shooter(prefix: string) {
  fs.mkdirSync(shotsDir, { recursive: true });
  for (const old of fs.readdirSync(shotsDir)) if (old.startsWith(`${prefix}-`)) fs.rmSync(path.join(shotsDir, old));
  let n = 0;
  return async (page: Page, name: string, options: { fullPage?: boolean } = {}) => {
    n += 1;
    await page.screenshot({
      path: path.join(shotsDir, `${prefix}-${String(n).padStart(2, "0")}-${name}.png`),
      fullPage: options.fullPage ?? true,
    });
  };
}

export interface ConsoleProblem {
  /** The test that was running. */
  step: string;
  type: string;
  text: string;
  url: string | undefined;
}

/** Records every console error and uncaught exception of a tab (and prints it as it happens). */
export function watchConsole(page: Page, into: ConsoleProblem[], step: () => string): void {
  page.on("pageerror", (err) => {
    const problem = { step: step(), type: "pageerror", text: String(err), url: page.url() };
    console.error("[browser pageerror]", problem);
    into.push(problem);
  });
  page.on("console", (m) => {
    if (m.type() !== "error") return;
    const problem = { step: step(), type: m.type(), text: m.text(), url: m.location().url };
    console.error("[browser console error]", problem);
    into.push(problem);
  });
}

/** Waits until Chromium has finished saving `name` into `dir` (its partial file is gone). */
export async function waitForDownload(dir: string, name: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const files = fs.readdirSync(dir);
    if (files.includes(name) && !files.some((f) => f.endsWith(".crdownload"))) return;
    if (Date.now() > deadline)
      throw new Error(`no download named ${JSON.stringify(name)} in ${dir}: ${files.join(", ")}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** An HTML page listing the files in a downloads folder (for a screenshot of what was saved). */
export function downloadsReport(dir: string, details: Record<string, string[]> = {}): string {
  const esc = (t: string) => t.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
  const rows = fs
    .readdirSync(dir)
    .sort()
    .map((name) => {
      const more = details[name] ? `<br><small>${details[name].map(esc).join(" · ")}</small>` : "";
      return `<li><b>${esc(name)}</b> — ${fs.statSync(path.join(dir, name)).size} bytes${more}</li>`;
    });
  return `<!doctype html><meta charset="utf-8"><title>Downloads</title><body style="font:15px system-ui,sans-serif">
<h1>Saved by Chromium into ${esc(dir)}</h1><ul>${rows.join("")}</ul></body>`;
}

const AXE = createRequire(import.meta.url).resolve("axe-core/axe.min.js");
/** WCAG 2.2 A and AA, and axe's best practices. */
const AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"];

/** axe-core's violations on the page as it is now, one line each (rule, help, the elements). */
export async function axeViolations(page: Page): Promise<string[]> {
  // Evaluated through DevTools, not added as a <script>: the app's Content-Security-Policy refuses
  // scripts that are not its own, as it should.
  if (!(await page.evaluate(() => "axe" in window))) await page.evaluate(fs.readFileSync(AXE, "utf8"));
  return page.evaluate(async (tags) => {
    type Axe = {
      run(
        context: Document,
        options: unknown,
      ): Promise<{ violations: { id: string; help: string; nodes: { target: string[] }[] }[] }>;
    };
    const axe = (window as unknown as { axe: Axe }).axe;
    const { violations } = await axe.run(document, { runOnly: { type: "tag", values: tags } });
    return violations.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).join(", ")})`);
  }, AXE_TAGS);
}

/** Where focus is and how it is shown: the ring's colour and what is seen on each side of it. */
export interface FocusIndicator {
  /** The focused element, briefly ("button.primary “Make my preview”"); "body" when focus is lost. */
  focused: string;
  /** The element that draws the ring: the focused one, or the label of a hidden file input. */
  drawnBy: string | null;
  ring: string | null;
  /** The backgrounds (topmost first) at each on-screen point just beside the ring, outside and inside. */
  beside: string[][];
  /** The lowest contrast between the ring and what is beside it (0: no ring, or none on screen). */
  contrast: number;
}

/**
 * Measures the focus indicator as it is painted: the focused element's outline (or its label's, for an
 * input hidden behind its label) and, at the middle of each side, the colours just outside and just
 * inside the ring, read from the elements actually at those points (what is behind a skip link is
 * the header it covers, not its parent's background). A ring thinner than 2px counts as none.
 */
export async function focusIndicator(page: Page): Promise<FocusIndicator> {
  const found = await page.evaluate(() => {
    const describe = (el: Element) => {
      const text = (el.getAttribute("aria-label") ?? el.textContent ?? "").trim().replace(/\s+/g, " ").slice(0, 40);
      const cls = [...el.classList].map((c) => `.${c}`).join("");
      return `${el.localName}${el.id ? `#${el.id}` : ""}${cls}${text ? ` “${text}”` : ""}`;
    };
    const el = document.activeElement;
    if (!el || el === document.body) return { focused: "body", drawnBy: null, ring: null, beside: [] };
    const candidates = [el, ...((el as HTMLInputElement).labels ?? [])];
    const drawnBy = candidates.find((c) => {
      const s = getComputedStyle(c);
      const box = c.getBoundingClientRect();
      // Painted at all: not clipped away (as a visually hidden input is), not invisible.
      const shows = s.clip === "auto" && s.clipPath === "none" && s.visibility === "visible" && Number(s.opacity) > 0;
      return (
        shows && s.outlineStyle !== "none" && Number.parseFloat(s.outlineWidth) >= 2 && box.width > 2 && box.height > 2
      );
    });
    if (!drawnBy) return { focused: describe(el), drawnBy: null, ring: null, beside: [] };
    const style = getComputedStyle(drawnBy);
    const width = Number.parseFloat(style.outlineWidth);
    const offset = Number.parseFloat(style.outlineOffset);
    const box = drawnBy.getBoundingClientRect();
    // Distances from the border box's edge, outward: the ring spans [offset, offset + width]. Inside
    // it is the gap an offset leaves (its middle), else the element's own edge.
    const outside = offset + width + 1.5;
    const inside = offset >= 1 ? offset / 2 : offset - 1.5;
    const midX = box.left + box.width / 2;
    const midY = box.top + box.height / 2;
    const points = [outside, inside].flatMap((d) => [
      [midX, box.top - d],
      [midX, box.bottom + d],
      [box.left - d, midY],
      [box.right + d, midY],
    ]);
    const beside = points
      .filter(([x, y]) => x! >= 0 && y! >= 0 && x! < innerWidth && y! < innerHeight)
      .map(([x, y]) => {
        const layers: string[] = [];
        for (const at of document.elementsFromPoint(x!, y!)) {
          const bg = getComputedStyle(at).backgroundColor;
          layers.push(bg);
          if (/^rgb\(/.test(bg)) break; // opaque: nothing below shows
        }
        return layers;
      });
    return { focused: describe(el), drawnBy: describe(drawnBy), ring: style.outlineColor, beside };
  });
  const contrasts = found.ring ? found.beside.map((layers) => contrast(parseColor(found.ring!), seen(layers))) : [];
  return { ...found, contrast: contrasts.length ? Math.min(...contrasts) : 0 };
}

/** The contrast of the focus ring against what is beside it (see focusIndicator). */
export async function focusRingContrast(page: Page): Promise<number> {
  return (await focusIndicator(page)).contrast;
}

/** Counts the pages of a PDF (its /Type /Page objects, not the /Pages tree). */
export function pdfPageCount(bytes: Buffer): number {
  return (bytes.toString("latin1").match(/\/Type\s*\/Page(?![s\w])/g) ?? []).length;
}
