import sharp from "sharp";
import type { Box } from "../../analysis/types.ts";
import { FaceEngineError } from "../errors.ts";

export type Rgb = [number, number, number];

/** The page's face region: its bounding box, and which of the box's pixels are in it (1) or not (0). */
export interface FaceRegion {
  box: Box;
  inside: Uint8Array;
}

/** The white part (> 127) of the page's mask, which must be the illustration's size. */
export async function readMask(mask: Buffer, width: number, height: number): Promise<FaceRegion> {
  // Grey as sharp's threshold() sees it, but read as one grey channel: the default sRGB output
  // would first make three channels of every print-size grey pixel.
  const { data } = await sharp(mask)
    .flatten({ background: "#000000" })
    .resize(width, height, { fit: "fill" })
    .toColourspace("b-w")
    .extractChannel(0)
    .raw({ depth: "uchar" })
    .toBuffer({ resolveWithObject: true });
  // Each row's first and last white pixel. A mask is mostly black: its black rows are passed over
  // natively, by comparing them with a black row.
  const black = Buffer.alloc(width);
  let x0 = width;
  let y0 = height;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < height; y++) {
    const from = y * width;
    const to = from + width;
    if (data.compare(black, 0, width, from, to) === 0) continue;
    let first = from;
    while (first < to && data[first]! < 128) first++;
    if (first === to) continue;
    let last = to - 1;
    while (data[last]! < 128) last--;
    x0 = Math.min(x0, first - from);
    x1 = Math.max(x1, last - from);
    y0 = Math.min(y0, y);
    y1 = y;
  }
  if (x1 < 0) throw new FaceEngineError("invalid_input", "the page's face mask is empty", false);
  const box = { x: x0, y: y0, width: x1 - x0 + 1, height: y1 - y0 + 1 };
  const inside = new Uint8Array(box.width * box.height);
  for (let y = 0; y < box.height; y++) {
    const from = (y0 + y) * width + x0;
    for (let x = 0; x < box.width; x++) inside[y * box.width + x] = data[from + x]! >> 7;
  }
  return { box, inside };
}

/**
 * The colours the page draws a face with: its skin, and its line (the darkest colour in the face);
 * its shadow tone when the book names one (else each variant makes one from the skin).
 */
export interface PageTones {
  skin: Rgb;
  line: Rgb;
  shadow?: Rgb;
}

/** `#rrggbb` as numbers (the manifest's schema has checked the form). */
export const hexRgb = (hex: string): Rgb => [1, 3, 5].map((i) => Number.parseInt(hex.slice(i, i + 2), 16)) as Rgb;

/** The tones read from the page, each replaced by the one the book names, if it names it. */
export function namedTones(
  read: PageTones,
  named?: { skin: string; shadow?: string | undefined; line?: string | undefined },
): PageTones {
  if (!named) return read;
  return {
    skin: hexRgb(named.skin),
    line: named.line ? hexRgb(named.line) : read.line,
    ...(named.shadow ? { shadow: hexRgb(named.shadow) } : {}),
  };
}

/**
 * The page's own skin and line colours, read from the illustration under the mask: the skin is the
 * commonest colour in the middle of the region, the line the darkest there (or the skin darkened
 * when the page draws no dark feature).
 */
export function pageTones(art: Uint8Array, region: FaceRegion): PageTones {
  const { box, inside } = region;
  const counts = new Map<number, [number, number, number, number]>();
  let darkest = 255 * 3;
  let line: Rgb | null = null;
  for (let y = Math.floor(box.height * 0.2); y < box.height * 0.8; y++) {
    for (let x = Math.floor(box.width * 0.2); x < box.width * 0.8; x++) {
      const i = y * box.width + x;
      if (!inside[i]) continue;
      const r = art[i * 3]!;
      const g = art[i * 3 + 1]!;
      const b = art[i * 3 + 2]!;
      const bin = ((r >> 3) << 10) | ((g >> 3) << 5) | (b >> 3);
      const c = counts.get(bin) ?? counts.set(bin, [0, 0, 0, 0]).get(bin)!;
      c[0]++;
      c[1] += r;
      c[2] += g;
      c[3] += b;
      if (r + g + b < darkest) {
        darkest = r + g + b;
        line = [r, g, b];
      }
    }
  }
  let mode = [1, 128, 128, 128];
  for (const c of counts.values()) if (c[0] > mode[0]!) mode = c;
  const skin = [1, 2, 3].map((k) => Math.round(mode[k]! / mode[0]!)) as Rgb;
  const dark = line && darkest < 3 * 90 ? line : (skin.map((c) => Math.round(c * 0.3)) as Rgb);
  return { skin, line: dark };
}

/**
 * Where the illustration draws skin inside the face region, with the holes in it (the page's own
 * eyes and mouth) filled: what the drawn face may cover. Whatever is not skin and reaches the
 * region's edge through other non-skin pixels (hair, the head's outline, the background) stays as
 * drawn, so the page keeps its own hair, ears and outline. Null when the page does not draw the face
 * as one flat skin colour (then the whole region is open).
 */
export function skinArea(art: Uint8Array, region: FaceRegion, skin: Rgb): Uint8Array | null {
  const { box, inside } = region;
  const { width, height } = box;
  const out = new Uint8Array(width * height);
  let count = 0;
  let area = 0;
  for (let i = 0; i < out.length; i++) {
    const d =
      Math.abs(art[i * 3]! - skin[0]) + Math.abs(art[i * 3 + 1]! - skin[1]) + Math.abs(art[i * 3 + 2]! - skin[2]);
    area += inside[i]!;
    if (inside[i] && d <= 24) {
      out[i] = 1;
      count++;
    }
  }
  if (count < 0.25 * area) return null;
  // Flood the non-skin from the region's edge; the non-skin it cannot reach is a hole in the skin.
  // Each pixel enters the stack at most once, so a typed stack of the region's size holds it.
  const outside = new Uint8Array(out.length);
  const stack = new Int32Array(out.length);
  let top = 0;
  const push = (i: number) => {
    if (out[i] || outside[i]) return;
    outside[i] = 1;
    stack[top++] = i;
  };
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      if (!inside[i] || x === 0 || y === 0 || x === width - 1 || y === height - 1) push(i);
    }
  }
  while (top) {
    const i = stack[--top]!;
    const x = i % width;
    if (x > 0) push(i - 1);
    if (x < width - 1) push(i + 1);
    if (i >= width) push(i - width);
    if (i < out.length - width) push(i + width);
  }
  for (let i = 0; i < out.length; i++) out[i] = inside[i] && !outside[i] ? 1 : 0;
  return out;
}
