// A small book built in the test: real fonts from the @fontsource packages, flat-colour art made by sharp.

import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { Manifest, type PageId, type TextLayer } from "@faceapp/core";
import puppeteer, { type Page } from "puppeteer-core";
import sharp from "sharp";
import * as v from "valibot";
import { pageSize } from "../../src/render/index.ts";

const require = createRequire(import.meta.url);
const fontsource = (pkg: string) => path.dirname(require.resolve(`@fontsource/${pkg}/package.json`));

const FONT_FILES: Record<string, string> = {
  "fonts/rubik-latin-400.woff2": path.join(fontsource("rubik"), "files/rubik-latin-400-normal.woff2"),
  "fonts/rubik-cyrillic-400.woff2": path.join(fontsource("rubik"), "files/rubik-cyrillic-400-normal.woff2"),
  "fonts/bubbles-latin-400.woff2": path.join(fontsource("rubik-bubbles"), "files/rubik-bubbles-latin-400-normal.woff2"),
};

/** Reads the test book's files: only its fonts exist. */
export const readBookFile = async (relative: string) => {
  const file = FONT_FILES[relative];
  if (!file) throw new Error(`no book file ${relative}`);
  return readFile(file);
};

const layer = (over: Partial<TextLayer> & { template: string }): TextLayer => ({
  variables: over.template.includes("{child_name}") ? ["child_name"] : [],
  position: "bottom-center",
  box_width: 0.8,
  align: "center",
  offset_x: 0,
  offset_y: 0,
  size: "body",
  ...over,
});

/** A valid manifest whose pages carry the given text layers (page_1 and the covers by default). */
export function testManifest(layers: { [K in PageId]?: TextLayer[] } = {}): Manifest {
  const text = (p: PageId) => layers[p] ?? [];
  return v.parse(Manifest, {
    slug: "test-book",
    title: "Test Book",
    language: "en",
    category: "test",
    age_min: 3,
    age_max: 7,
    typography: {
      fonts: {
        body: { file: "fonts/rubik-latin-400.woff2", family: "Rubik" },
        body_cyr: { file: "fonts/rubik-cyrillic-400.woff2", family: "Rubik" },
        accent: { file: "fonts/bubbles-latin-400.woff2", family: "Rubik Bubbles" },
      },
      body_font: "body",
      accent_font: "accent",
      body_size_pt: 20,
      accent_size_pt: 48,
      line_height: 1.3,
      color: "#1a1a2e",
    },
    pages: Array.from({ length: 24 }, (_, i) => ({
      page_num: i,
      base_uri: `art/page_${i}.png`,
      availability: i < 4 ? "prepay" : "postpay",
      text_layers: text(`page_${i}`),
    })),
    covers: {
      front: {
        base_uri: "art/cover_front.png",
        web_crop: { left: 25, top: 210, width: 2551, height: 2551 },
        text_layers: text("cover_front"),
      },
      back: {
        base_uri: "art/cover_back.png",
        web_crop: { left: 210, top: 210, width: 2551, height: 2551 },
        text_layers: text("cover_back"),
      },
    },
    output: { dpi: 300, page_size_px: 2551, cover_size_px: { width: 2800, height: 3000 }, safe_zone_pt: 24 },
  });
}

export { layer };

/** A background with structure (a gradient and shapes), so "equals the background" means something. */
export async function background(manifest: Manifest, page: PageId): Promise<Buffer> {
  const { width, height } = pageSize(manifest, page);
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">
<defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="#ffe9a8"/><stop offset="1" stop-color="#8fd3ff"/></linearGradient></defs>
<rect width="100%" height="100%" fill="url(#g)"/><circle cx="${width / 2}" cy="${height / 2}" r="${width / 4}" fill="#ff8fab"/>
<rect x="0" y="${height * 0.7}" width="${width}" height="${height * 0.3}" fill="#6cc551"/></svg>`;
  return sharp(Buffer.from(svg)).png({ compressionLevel: 1 }).toBuffer();
}

/** A page of its own headless Chromium with JavaScript off, as the typesetter's; the browser is closed after `use`. */
export async function withChromiumPage<T>(use: (page: Page) => Promise<T>): Promise<T> {
  const browser = await puppeteer.launch({
    executablePath: "/usr/bin/chromium",
    headless: true,
    pipe: true,
    args: ["--no-sandbox"],
  });
  try {
    const page = await browser.newPage();
    await page.setJavaScriptEnabled(false);
    return await use(page);
  } finally {
    await browser.close();
  }
}
