import type { Point, RgbImage } from "./analysis/types.ts";

/** A 2×3 affine matrix [a, b, tx, c, d, ty]: x' = a·x + b·y + tx, y' = c·x + d·y + ty. */
export type Affine = [number, number, number, number, number, number];

/** ArcFace's five-point template in a 112×112 crop (InsightFace `arcface_dst`). */
export const arcfaceTemplate: Point[] = [
  { x: 38.2946, y: 51.6963 },
  { x: 73.5318, y: 51.5014 },
  { x: 56.0252, y: 71.7366 },
  { x: 41.5493, y: 92.3655 },
  { x: 70.7299, y: 92.2041 },
];

/**
 * The least-squares similarity transform (rotation, uniform scale, translation) taking `src` onto
 * `dst`: Umeyama's method in 2-D, as InsightFace's `norm_crop` estimates it.
 */
export function similarityTransform(src: Point[], dst: Point[]): Affine {
  const n = src.length;
  const mean = (ps: Point[]) => ({ x: ps.reduce((s, p) => s + p.x, 0) / n, y: ps.reduce((s, p) => s + p.y, 0) / n });
  const ms = mean(src);
  const md = mean(dst);
  let sxx = 0;
  let sxy = 0;
  let varSrc = 0;
  for (let i = 0; i < n; i++) {
    const sx = src[i]!.x - ms.x;
    const sy = src[i]!.y - ms.y;
    const dx = dst[i]!.x - md.x;
    const dy = dst[i]!.y - md.y;
    // Real and imaginary parts of Σ conj(s)·d: the rotation-and-scale as a complex number.
    sxx += sx * dx + sy * dy;
    sxy += sx * dy - sy * dx;
    varSrc += sx * sx + sy * sy;
  }
  const a = sxx / varSrc;
  const b = sxy / varSrc;
  return [a, -b, md.x - (a * ms.x - b * ms.y), b, a, md.y - (b * ms.x + a * ms.y)];
}

export function applyAffine(m: Affine, p: Point): Point {
  return { x: m[0] * p.x + m[1] * p.y + m[2], y: m[3] * p.x + m[4] * p.y + m[5] };
}

export function invertAffine(m: Affine): Affine {
  const det = m[0] * m[4] - m[1] * m[3];
  const a = m[4] / det;
  const b = -m[1] / det;
  const c = -m[3] / det;
  const d = m[0] / det;
  return [a, b, -(a * m[2] + b * m[5]), c, d, -(c * m[2] + d * m[5])];
}

/**
 * Warps an RGB image by `m` (source → destination) into a `width`×`height` image, bilinear, black
 * outside. With `origin`, the image is the part of the destination from that pixel on.
 */
export function warpAffine(
  image: RgbImage,
  m: Affine,
  width: number,
  height: number,
  origin: Point = { x: 0, y: 0 },
): RgbImage {
  const [a, b, c, d, e, f] = invertAffine(m);
  const out = new Uint8Array(width * height * 3);
  const { data, width: w, height: h } = image;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const sx = a * (x + origin.x) + b * (y + origin.y) + c;
      const sy = d * (x + origin.x) + e * (y + origin.y) + f;
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      if (x0 < 0 || y0 < 0 || x0 >= w || y0 >= h) continue;
      const fx = sx - x0;
      const fy = sy - y0;
      // The four neighbours' offsets (the last row and column repeat at the edge).
      const p00 = (y0 * w + x0) * 3;
      const p01 = x0 + 1 < w ? p00 + 3 : p00;
      const down = y0 + 1 < h ? w * 3 : 0;
      const o = (y * width + x) * 3;
      for (let k = 0; k < 3; k++) {
        const top = data[p00 + k]! + (data[p01 + k]! - data[p00 + k]!) * fx;
        const bottom = data[p00 + down + k]! + (data[p01 + down + k]! - data[p00 + down + k]!) * fx;
        out[o + k] = Math.round(top + (bottom - top) * fy);
      }
    }
  }
  return { data: out, width, height };
}
