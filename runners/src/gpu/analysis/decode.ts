import { PHOTO_LIMITS, photoShapeMessage, photoShapeProblem } from "@faceapp/core";
import sharp, { type Metadata } from "sharp";
import type { RgbImage } from "./types.ts";

export interface DecodeLimits {
  /** The longest side of the working image that detection and cropping use. */
  workingSide: number;
}

export type Decoded =
  | {
      ok: true;
      image: RgbImage;
      /** Width and height of the photo after EXIF orientation. */
      original: { width: number; height: number };
      /** Working pixels per original pixel (≤ 1). */
      scale: number;
    }
  | { ok: false; reason: "unreadable_image" | "image_too_large"; detail: string };

/**
 * Decodes a photo within core's PHOTO_LIMITS (the api's upload check uses the same ones), applies its
 * EXIF orientation, flattens alpha and downscales it.
 */
export async function decodePhoto(bytes: Uint8Array, limits: DecodeLimits): Promise<Decoded> {
  let meta: Metadata;
  try {
    meta = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch (error) {
    return { ok: false, reason: "unreadable_image", detail: (error as Error).message };
  }
  if (!meta.width || !meta.height) return { ok: false, reason: "unreadable_image", detail: "no dimensions" };
  const problem = photoShapeProblem(meta.width, meta.height);
  if (problem) {
    return {
      ok: false,
      reason: "image_too_large",
      detail: `${meta.width}×${meta.height}: ${photoShapeMessage(problem)}`,
    };
  }
  const swapped = (meta.orientation ?? 1) >= 5;
  const original = swapped ? { width: meta.height, height: meta.width } : { width: meta.width, height: meta.height };
  try {
    const { data, info } = await sharp(bytes, { limitInputPixels: PHOTO_LIMITS.maxPixels, failOn: "error" })
      .rotate()
      .flatten({ background: "#ffffff" })
      .resize({ width: limits.workingSide, height: limits.workingSide, fit: "inside", withoutEnlargement: true })
      .toColourspace("srgb")
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    const image = { data: toRgb(data, info.channels), width: info.width, height: info.height };
    return { ok: true, image, original, scale: info.width / original.width };
  } catch (error) {
    return { ok: false, reason: "unreadable_image", detail: (error as Error).message };
  }
}

function toRgb(data: Buffer, channels: number): Uint8Array {
  if (channels === 3) return new Uint8Array(data.buffer, data.byteOffset, data.length);
  // Greyscale (and grey + alpha) photos: repeat the first channel.
  const pixels = data.length / channels;
  const out = new Uint8Array(pixels * 3);
  for (let i = 0; i < pixels; i++) out.fill(data[i * channels]!, i * 3, i * 3 + 3);
  return out;
}
