import sharp from "sharp";
import type { Point, RgbImage } from "../../analysis/types.ts";
import type { PageTones, Rgb } from "./page.ts";
import type { Variant } from "./variant.ts";

/** Where the ink line's blurs stop (libvips' mask amplitude). */
const INK_MIN_AMPLITUDE = 0.01;

const mix = (a: number, b: number, t: number) => a + (b - a) * t;
const clamp01 = (t: number) => Math.max(0, Math.min(1, t));
const smoothstep = (a: number, b: number, t: number) => {
  const u = clamp01((t - a) / (b - a));
  return u * u * (3 - 2 * u);
};

/**
 * A difference of Gaussians of the luma, surround minus centre, in luma levels: positive on the dark
 * side of an edge. Two separable blurs by libvips (16-bit, so the difference keeps its fractions)
 * instead of one square kernel: the same filter at a fraction of the work for a wide stroke.
 */
async function differenceOfGaussians(luma: Uint8Array, width: number, height: number, sigma: number) {
  const deep = new Uint16Array(luma.length);
  for (let i = 0; i < luma.length; i++) deep[i] = luma[i]! << 8;
  const blur = async (s: number) => {
    const out = await sharp(deep, { raw: { width, height, channels: 1 } })
      .blur({ sigma: s, minAmplitude: INK_MIN_AMPLITUDE })
      .toColourspace("grey16")
      .raw({ depth: "ushort" })
      .toBuffer();
    return new Uint16Array(out.buffer, out.byteOffset, width * height);
  };
  const [centre, surround] = await Promise.all([blur(sigma), blur(sigma * 1.6)]);
  const out = new Float32Array(width * height);
  for (let i = 0; i < out.length; i++) out[i] = (surround[i]! - centre[i]!) / 256;
  return out;
}

/** How far a Gaussian blur of `sigma` reaches: libvips' mask ends where it falls below `minAmplitude`. */
export const blurReach = (sigma: number, minAmplitude: number) =>
  Math.ceil(sigma * Math.sqrt(-2 * Math.log(minAmplitude))) + 1;

/** The median's window and the ink line's blur for a face whose eyes are `ipd` pixels apart. */
function filters(variant: Variant, ipd: number) {
  return { size: Math.max(3, 2 * Math.round(ipd / 24) + 1), sigma: Math.max(0.7, (variant.stroke * ipd) / 55) };
}

/**
 * How far from a pixel the photo can change its drawing: the median's radius and then the ink
 * line's wider blur. A drawing of any part of the face that extends this far past it is the same
 * there as a drawing of the whole.
 */
export function drawingReach(variant: Variant, ipd: number): number {
  const { size, sigma } = filters(variant, ipd);
  return (size >> 1) + blurReach(sigma * 1.6, INK_MIN_AMPLITUDE);
}

export interface FaceFeatures {
  eyes: [Point, Point];
  mouth: [Point, Point];
  /** Distance between the eyes, in pixels of the drawing. */
  ipd: number;
  /**
   * Where `face` lies in the drawing, when it is a part of it (the features are in the drawing's
   * pixels); default (0, 0).
   */
  origin?: Point;
}

/**
 * The photo's face redrawn in the page's idiom: smoothed with edges kept (median), its light and
 * shade reduced to a few tones built from the page's skin (the skin itself is the middle tone, so
 * the face sits in the page's colour), a little of the photo's own colour for lips and eyes, rosy
 * cheeks, and an ink line in the page's line colour where the face has edges (a difference of
 * Gaussians by convolution). `open` marks the pixels the drawing will be seen through.
 */
export async function drawFace(
  face: RgbImage,
  open: Uint8Array,
  tones: PageTones,
  variant: Variant,
  features: FaceFeatures,
): Promise<Uint8Array> {
  const { width, height } = face;
  const raw = { raw: { width, height, channels: 3 as const } };
  const { size, sigma } = filters(variant, features.ipd);
  const origin = features.origin ?? { x: 0, y: 0 };
  const smooth = await sharp(face.data, raw).median(size).median(size).raw().toBuffer();
  const luma = new Uint8Array(width * height);
  for (let i = 0; i < luma.length; i++)
    luma[i] = Math.round(0.299 * smooth[i * 3]! + 0.587 * smooth[i * 3 + 1]! + 0.114 * smooth[i * 3 + 2]!);
  const edges = await differenceOfGaussians(luma, width, height, sigma);

  // Light and colour of the face where it shows: its median and spread, and its mean colour.
  const histogram = new Uint32Array(256);
  const mean = [0, 0, 0];
  let seen = 0;
  for (let i = 0; i < open.length; i++) {
    if (!open[i]) continue;
    histogram[luma[i]!]!++;
    seen++;
    for (let c = 0; c < 3; c++) mean[c]! += smooth[i * 3 + c]!;
  }
  /** The luma below which a share `q` of the seen pixels lie. */
  const at = (q: number) => {
    if (!seen) return 128;
    const rank = Math.min(seen - 1, Math.floor(q * seen));
    let level = 0;
    for (let below = histogram[0]!; below <= rank; below += histogram[++level]!);
    return level;
  };
  const [lo, mid, hi] = [at(0.04), at(0.5), at(0.96)];
  for (let c = 0; c < 3; c++) mean[c]! /= Math.max(1, seen);
  const meanLuma = 0.299 * mean[0]! + 0.587 * mean[1]! + 0.114 * mean[2]!;
  // Only the face's strong edges are inked (eyes, brows, nostrils, mouth), never its skin's grain.
  const inkFrom = Math.max(1.5, 0.022 * (hi - lo));

  const { skin, line } = tones;
  const shade = variant.coolShadow ? [0.95, 0.96, 1.02] : [1.03, 0.95, 0.92];
  const shadow = tones.shadow ?? (skin.map((c, k) => Math.min(255, c * variant.shadow * shade[k]!)) as Rgb);
  const light = skin.map((c) => mix(c, 255, variant.highlight)) as Rgb;
  const steps = variant.tones - 1;
  const [left, right] = [0, 1].map((k) => ({
    x: mix(features.eyes[k]!.x, features.mouth[k]!.x, 0.55) + (k ? 1 : -1) * 0.18 * features.ipd,
    y: mix(features.eyes[k]!.y, features.mouth[k]!.y, 0.55),
  })) as [Point, Point];
  const blushR2 = (0.3 * features.ipd) ** 2;

  const out = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      if (!open[i]) continue;
      const l = luma[i]!;
      const t = l >= mid ? clamp01((l - mid) / Math.max(8, hi - mid)) : -clamp01((mid - l) / Math.max(8, mid - lo));
      // A few flat tones with soft steps between them, from shadow (−1) through skin (0) to light (1).
      const u = ((t + 1) / 2) * steps;
      const step = Math.floor(u);
      const v = ((Math.min(steps, step + smoothstep(0.3, 0.7, u - step)) / steps) * 2 - 1) as number;
      // The nearer cheek's blush.
      const dx = x + origin.x;
      const dy = y + origin.y;
      const near = Math.min((dx - left.x) ** 2 + (dy - left.y) ** 2, (dx - right.x) ** 2 + (dy - right.y) ** 2);
      const cheek = variant.blush ? Math.exp(-near / blushR2) * variant.blush : 0;
      const ink = smoothstep(inkFrom, 2 * inkFrom, edges[i]!) * variant.ink;
      for (let c = 0; c < 3; c++) {
        let value = v < 0 ? mix(skin[c]!, shadow[c]!, -v) : mix(skin[c]!, light[c]!, v);
        // The photo's own hue (lips, irises), relative to its mean, so it never shifts the skin.
        value += variant.chroma * (smooth[i * 3 + c]! - l - (mean[c]! - meanLuma));
        value = mix(value, c === 0 ? 232 : c === 1 ? 128 : 128, cheek);
        out[i * 3 + c] = Math.round(Math.min(255, Math.max(0, mix(value, line[c]!, ink))));
      }
    }
  }
  return out;
}
