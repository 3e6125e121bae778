// render_page's work: text layers typeset over the background, the print JPEG and the web image.

import { type Manifest, type PageId, pageArt } from "@faceapp/core";
import sharp from "sharp";
import { PRINT_JPEG } from "./assemble.ts";
import { fontFaceCss, type ReadBookFile } from "./fonts.ts";
import { pageDocument, type Variables } from "./html.ts";
import { isCover, pageSize, type Rect, safeRect } from "./layout.ts";
import type { Typesetter } from "./typesetter.ts";

// libvips' operation cache only holds memory in a runner whose every image is new.
sharp.cache(false);

/** The long side of a web image, in pixels. */
export const WEB_SIZE = 1200;

export interface RenderPageInput {
  manifest: Manifest;
  page: PageId;
  /** The page's background: the face engine's output, or the book's illustration for a page without a face. */
  background: Buffer;
  variables: Variables;
  /** Reads the book's files (only its fonts are read here). */
  readBookFile: ReadBookFile;
  signal?: AbortSignal;
}

export interface RenderedPage {
  /** The print master: JPEG (PRINT_JPEG) at print size (2551×2551 block, 2800×3000 covers), 300 dpi, as it goes into the PDF. */
  print: Buffer;
  /** The web image: JPEG, WEB_SIZE px square; for covers, of the web crop. */
  web: Buffer;
  width: number;
  height: number;
  /** Where text pixels may be: outside these rectangles the print equals the background. */
  textBoxes: Rect[];
  /** Per layer: the font size finally used as a share of the manifest's (1 unless shrunk to fit). */
  scales: number[];
}

/** Renders one page: typesets its text layers (if any), composites them over the background. */
export async function renderPage(typesetter: Typesetter, input: RenderPageInput): Promise<RenderedPage> {
  const { manifest, page } = input;
  const art = pageArt(manifest, page);
  const { width, height } = pageSize(manifest, page);
  if (art.text_layers.length > 0) typesetter.warm();
  const background = await fitBackground(input.background, width, height);

  let textBoxes: Rect[] = [];
  let scales: number[] = [];
  let composed = sharp(background, { raw: { width, height, channels: 4 } });
  if (art.text_layers.length > 0) {
    const fontCss = await fontFaceCss(manifest, input.readBookFile);
    const doc = pageDocument(manifest, page, art, input.variables, fontCss);
    const typeset = await typesetter.typeset(doc, safeRect(manifest, page, art), input.signal);
    textBoxes = typeset.clips.map((c) => c.rect);
    scales = typeset.layers.map((l) => l.scale);
    composed = composed.composite(typeset.clips.map((c) => ({ input: c.png, left: c.rect.left, top: c.rect.top })));
  }
  input.signal?.throwIfAborted();
  // One decoded RGBA frame feeds both outputs; the print keeps sRGB and its 300 dpi.
  const flat = await composed.removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const raw = { raw: { width, height, channels: flat.info.channels } } as const;
  const webSource = isCover(page) ? sharp(flat.data, raw).extract(webCrop(manifest, page)) : sharp(flat.data, raw);
  const density = { density: manifest.output.dpi };
  const [print, web] = await Promise.all([
    sharp(flat.data, raw).withMetadata(density).jpeg(PRINT_JPEG).toBuffer(),
    webSource.resize(WEB_SIZE, WEB_SIZE, { fit: "cover" }).jpeg({ quality: 82, mozjpeg: false }).toBuffer(),
  ]);
  return { print, web, width, height, textBoxes, scales };
}

/** The part of a cover shown on the web (docs/book-format.md: 2551×2551 at (25, 210) front, (210, 210) back). */
export function webCrop(manifest: Manifest, page: "cover_front" | "cover_back"): Rect {
  const c = page === "cover_front" ? manifest.covers.front.web_crop : manifest.covers.back.web_crop;
  return { left: c.left, top: c.top, width: c.width, height: c.height };
}

/** The background as raw RGBA at print size (an engine that returns another size is scaled to cover). */
async function fitBackground(input: Buffer, width: number, height: number): Promise<Buffer> {
  const image = sharp(input, { limitInputPixels: 50_000_000 });
  const meta = await image.metadata();
  const resized =
    meta.width === width && meta.height === height ? image : image.resize(width, height, { fit: "cover" });
  return resized.ensureAlpha().raw().toBuffer();
}
