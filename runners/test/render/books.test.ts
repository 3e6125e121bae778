// The demo books: the generator writes valid manifests, art at print size, masks for face pages,
// fonts with their licence; and their pages render.

import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import sharp from "sharp";
import { declineName, keepOutViolations, type NameForms } from "@faceapp/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EDITIONS, generateBooks, readManifest } from "../../../books/generate.ts";
import {
  fontFaceCss,
  maskUri,
  type PageId,
  pageArt,
  pageDocument,
  pageSize,
  renderPage,
  Typesetter,
} from "./imports.ts";
import { withChromiumPage } from "./fixtures.ts";

let root: string;
const typesetter = new Typesetter({ timeoutMs: 30_000 });

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), "faceapp-books-"));
  await generateBooks(root);
});
afterAll(async () => {
  await typesetter.close();
  await rm(root, { recursive: true, force: true });
});

const ids: PageId[] = [...Array.from({ length: 24 }, (_, i) => `page_${i}` as PageId), "cover_front", "cover_back"];

describe.each(EDITIONS.map((e) => [e.slug, e.language]))("the demo book %s (%s)", (slug, language) => {
  it("has a valid manifest: 24 pages, both covers, face pages with masks, text with the child's name", async () => {
    const dir = path.join(root, slug);
    const manifest = await readManifest(dir);
    expect(manifest.language).toBe(language);
    expect(manifest.pages).toHaveLength(24);
    const faces = ids.filter((id) => pageArt(manifest, id).needs_face_swap);
    expect(faces.length).toBeGreaterThanOrEqual(8);
    expect(faces).toContain("cover_front");
    for (const id of ids) {
      const art = pageArt(manifest, id);
      const meta = await sharp(path.join(dir, art.base_uri)).metadata();
      expect([meta.width, meta.height]).toEqual([pageSize(manifest, id).width, pageSize(manifest, id).height]);
      expect(art.text_layers.length).toBeGreaterThan(0);
      if (art.needs_face_swap) {
        const mask = await sharp(path.join(dir, maskUri(art)))
          .greyscale()
          .stats();
        // Some white (the face), mostly black.
        expect(mask.channels[0]!.max).toBe(255);
        expect(mask.channels[0]!.mean).toBeLessThan(20);
      } else {
        expect(existsSync(path.join(dir, maskUri(art)))).toBe(false);
      }
    }
    const named = ids.filter((id) => pageArt(manifest, id).text_layers.some((l) => l.variables.includes("child_name")));
    expect(named.length).toBeGreaterThanOrEqual(10);
    for (const font of Object.values(manifest.typography.fonts))
      expect(existsSync(path.join(dir, font.file))).toBe(true);
    for (const pkg of ["rubik", "rubik-bubbles"]) {
      expect(await readFile(path.join(dir, "fonts", `${pkg}-LICENSE.txt`), "utf8")).toContain("SIL Open Font License");
    }
  });

  it("declares its key art and keeps every text box off it; its front cover is its own", async () => {
    const manifest = await readManifest(path.join(root, slug));
    expect(keepOutViolations(manifest)).toEqual([]);
    // Every child drawn is key art, and so are the whale, the boat and the oak of the scenes that have them.
    for (const id of ids) {
      const art = pageArt(manifest, id);
      if (art.needs_face_swap)
        expect(
          art.keep_out.map((k) => k.label),
          id,
        ).toContain("child");
    }
    expect(manifest.pages[14]!.keep_out.map((k) => k.label)).toEqual(expect.arrayContaining(["whale", "child"]));
    expect(manifest.pages[17]!.keep_out.map((k) => k.label)).toEqual(expect.arrayContaining(["boat", "child"]));
    expect(manifest.pages[6]!.keep_out.map((k) => k.label)).toEqual(expect.arrayContaining(["oak", "child"]));
    const [uk, en] = await Promise.all(EDITIONS.map((e) => readFile(path.join(root, e.slug, "art/cover_front.png"))));
    expect(uk!.equals(en!)).toBe(false);
  });

  it("prints the child's name in the forms its language needs", async () => {
    const manifest = await readManifest(path.join(root, slug));
    const name = language === "uk" ? "Соломія" : "Zoë";
    const forms: NameForms = await declineName(name, language, "girl");
    const css = await fontFaceCss(manifest, (f) => readFile(path.join(root, slug, f)));
    const text = ids
      .flatMap(
        (id) =>
          pageDocument(manifest, id, pageArt(manifest, id), { child_name: name, child_name_forms: forms }, css).layers,
      )
      .map((l) => l.text)
      .join("\n");
    expect(text).not.toMatch(/\{child_name/);
    if (language === "uk") {
      for (const phrase of ["для Соломії", "Привіт, Соломіє!", "Соломії чути шепіт", "кличуть Соломію", "з Соломією"])
        expect(text).toContain(phrase);
    } else {
      expect(text).toContain("And Zoë’s wish?");
    }
  });

  it("sets every character of every page in the book's own fonts (no fallback to system fonts)", async () => {
    const dir = path.join(root, slug);
    const manifest = await readManifest(dir);
    const css = await fontFaceCss(manifest, (f) => readFile(path.join(dir, f)));
    await withChromiumPage(async (page) => {
      const cdp = await page.createCDPSession();
      await cdp.send("DOM.enable");
      await cdp.send("CSS.enable");
      for (const id of ids) {
        const doc = pageDocument(
          manifest,
          id,
          pageArt(manifest, id),
          {
            child_name: language === "uk" ? "Соломія" : "Oliver",
            child_name_forms: await declineName(language === "uk" ? "Соломія" : "Oliver", language, "girl"),
          },
          css,
        );
        await page.setContent(doc.html, { waitUntil: "load" });
        const { root: dom } = await cdp.send("DOM.getDocument", { depth: -1 });
        for (let i = 0; i < doc.layers.length; i++) {
          const { nodeId } = await cdp.send("DOM.querySelector", { nodeId: dom.nodeId, selector: `#l${i}` });
          const { fonts } = await cdp.send("CSS.getPlatformFontsForNode", { nodeId });
          expect({ id, fonts: fonts.filter((f) => !f.isCustomFont) }).toEqual({ id, fonts: [] });
        }
      }
    });
  });

  it("renders its front cover and a face page with a long name, shrunk to fit when needed", async () => {
    const dir = path.join(root, slug);
    const manifest = await readManifest(dir);
    for (const id of ["cover_front", "page_1", "page_0"] as PageId[]) {
      const out = await renderPage(typesetter, {
        manifest,
        page: id,
        background: await readFile(path.join(dir, pageArt(manifest, id).base_uri)),
        variables: { child_name: "Maximilian-Alexander Montgomery-Smithson" },
        readBookFile: (f) => readFile(path.join(dir, f)),
      });
      expect(out.textBoxes.length).toBeGreaterThan(0);
      expect(out.scales.every((s) => s > 0 && s <= 1)).toBe(true);
    }
  });
});
