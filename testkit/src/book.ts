import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import sharp from "sharp";
import * as v from "valibot";
import { createS3Client, keys, Manifest, putObjectBytes, type S3Config } from "@faceapp/core";
import type { Pg } from "@faceapp/sql";

const require = createRequire(import.meta.url);

export interface TestBookOptions {
  slug?: string;
  /** Block pages with a face slot. */
  facePages?: number[];
  /** Block pages in the free preview (the front cover always is). */
  previewPages?: number[];
  /** Text of page 1's layer; `{child_name}` and its forms (`{child_name.gen}` …) are substituted. */
  text?: string;
  /** The book's language (`en` by default). */
  language?: string;
  /** Width of page 1's text box as a share of the page (default 0.8). */
  boxWidth?: number;
}

/** A small but complete book (24 pages, covers, masks, a real font) in the database and the bucket. */
export async function seedBook(pg: Pg, s3Config: S3Config, options: TestBookOptions = {}): Promise<Manifest> {
  const slug = options.slug ?? "test-book";
  const facePages = new Set(options.facePages ?? [1]);
  const preview = new Set(options.previewPages ?? [1, 2]);
  const s3 = createS3Client(s3Config);
  const put = (relative: string, body: Buffer, type: string) =>
    putObjectBytes(s3, s3Config.bucket, keys.bookFile(slug, relative), body, type);
  const solid = (r: number, g: number, b: number) =>
    sharp({ create: { width: 96, height: 96, channels: 3, background: { r, g, b } } })
      .png()
      .toBuffer();
  const mask = await sharp(
    Buffer.from(
      '<svg xmlns="http://www.w3.org/2000/svg" width="96" height="96"><rect width="96" height="96"/><circle cx="48" cy="40" r="20" fill="#fff"/></svg>',
    ),
  )
    .png()
    .toBuffer();
  const fontFile = path.join(
    path.dirname(require.resolve("@fontsource/rubik/package.json")),
    "files/rubik-cyrillic-400-normal.woff2",
  );
  await put("fonts/rubik.woff2", fs.readFileSync(fontFile), "font/woff2");

  const layer = (template: string, boxWidth = 0.8) => ({
    template,
    variables: /\{child_name(\.\w+)?\}/.test(template) ? ["child_name"] : [],
    position: "bottom-center",
    box_width: boxWidth,
  });
  const pages = [];
  for (let n = 0; n < 24; n++) {
    const file = `pages/page_${n}.png`;
    await put(file, await solid(40 + n * 8, 120, 200 - n * 5), "image/png");
    if (facePages.has(n)) await put(`pages/page_${n}_mask.png`, mask, "image/png");
    pages.push({
      page_num: n,
      base_uri: file,
      needs_face_swap: facePages.has(n),
      text_layers:
        n === 1
          ? [layer(options.text ?? "{child_name} and the moon", options.boxWidth)]
          : n % 2
            ? [layer("Once upon a time")]
            : [],
      availability: preview.has(n) ? "prepay" : "postpay",
    });
  }
  await put("covers/front.png", await solid(200, 60, 60), "image/png");
  await put("covers/back.png", await solid(60, 60, 200), "image/png");
  const manifest = v.parse(Manifest, {
    slug,
    title: `Test book ${slug}`,
    description: "A book for tests",
    language: options.language ?? "en",
    category: "adventure",
    age_min: 2,
    age_max: 7,
    typography: {
      fonts: { rubik: { file: "fonts/rubik.woff2", family: "Rubik" } },
      body_font: "rubik",
      accent_font: "rubik",
      body_size_pt: 18,
      accent_size_pt: 28,
      line_height: 1.3,
      color: "#222222",
    },
    pages,
    covers: {
      front: {
        base_uri: "covers/front.png",
        text_layers: [layer("{child_name}'s book")],
        web_crop: { left: 25, top: 210, width: 2551, height: 2551 },
      },
      back: { base_uri: "covers/back.png", web_crop: { left: 210, top: 210, width: 2551, height: 2551 } },
    },
    output: { dpi: 300, page_size_px: 2551, cover_size_px: { width: 2800, height: 3000 }, safe_zone_pt: 24 },
  });
  await put("manifest.json", Buffer.from(JSON.stringify(manifest)), "application/json");
  await pg.db
    .insertInto("app.books")
    .values({
      slug,
      title: manifest.title,
      description: manifest.description,
      language: manifest.language,
      category: manifest.category,
      age_min: manifest.age_min,
      age_max: manifest.age_max,
      manifest_key: keys.bookManifest(slug),
      manifest,
      cover_key: keys.bookFile(slug, manifest.covers.front.base_uri),
      page_count: 24,
      preview_pages: manifest.pages.filter((p) => p.availability === "prepay").map((p) => `page_${p.page_num}`),
      published: true,
    })
    .execute();
  return manifest;
}
