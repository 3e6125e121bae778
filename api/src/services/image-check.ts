// What makes stored bytes an acceptable photo: an allowed type by its magic bytes, the declared type,
// the shape limits every part of the product shares (core's PHOTO_LIMITS: pixels, longest side,
// aspect), and a full decode (so no decompression bomb and no truncated file gets through).
// What is kept is the decoded pixels encoded again: upright, without metadata (EXIF, GPS, XMP of any
// size) and without whatever followed the image in the file (a polyglot's HTML or ZIP, a phone's
// motion-photo video).
//
// Memory: decoding streams (libvips reads and writes strips) except where a format needs the whole
// frame: a progressive JPEG's coefficients, an interlaced PNG, a WebP, a photo to be turned upright.
// Each decode's memory is estimated from the header before any pixel is decoded; one that could not
// fit the process's decode budget is refused, and the others wait until theirs is free. The bytes
// read and written around a decode are bounded by uploads.ts (two completions at once per process).
// bench/decode.ts measures the api's peak against these estimates (input-and-memory-defences.md).
import { createHash } from "node:crypto";
import { PHOTO_LIMITS, photoShapeMessage, photoShapeProblem } from "@faceapp/core";
import sharp, { type Metadata, type OutputInfo } from "sharp";
import { createBudget } from "./decode-budget.ts";

export const UPLOAD_TYPES = ["image/jpeg", "image/png", "image/webp"] as const;
export type UploadType = (typeof UPLOAD_TYPES)[number];

export type ImageCheck =
  | { ok: true; type: UploadType; width: number; height: number; clean: Buffer; sha256: string }
  | { ok: false; reason: string };

// Every upload is a different image: libvips' operation cache would only hold on to memory.
sharp.cache(false);

/** The memory the decodes of one api process may hold at once, by their estimates. */
export const DECODE_BUDGET_BYTES = 224 * 1024 * 1024;
/** What any decode holds whatever its size: libvips' threads and codec state. */
export const DECODE_FIXED_BYTES = 8 * 1024 * 1024;
const budget = createBudget(DECODE_BUDGET_BYTES);

/** The image type named by a file's first bytes, or null. */
export function sniffType(bytes: Buffer): UploadType | null {
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return "image/jpeg";
  if (bytes.length >= 8 && bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])))
    return "image/png";
  if (bytes.length >= 12 && bytes.toString("latin1", 0, 4) === "RIFF" && bytes.toString("latin1", 8, 12) === "WEBP")
    return "image/webp";
  return null;
}

/**
 * The memory decoding and re-encoding this image holds, per pixel: an eighth of a decoded pixel for
 * what streams (libvips' strips, the encoder's output), plus what some kinds keep whole (`kinds`).
 * Factors measured with bench/decode.ts (libvips 8.18).
 */
export function decodeCost(meta: Metadata): { perPixel: number; kinds: string[] } {
  const bands = meta.channels ?? 3;
  const sample = meta.depth === "ushort" || meta.depth === "short" ? 2 : meta.depth === "uchar" ? 1 : 4;
  const kinds: string[] = [];
  let perPixel = (bands * sample) / 8;
  if (meta.format === "webp") {
    perPixel += 12; // libwebp's RGBA frame, libvips' copy of it, and the encoder's picture (measured ≈ 11.5)
    kinds.push("WebP");
  }
  if (meta.format === "jpeg" && meta.isProgressive) {
    // libjpeg keeps every DCT coefficient (2 bytes) of every component at its sampled resolution.
    const ss = meta.chromaSubsampling ?? "4:4:4";
    const chroma = ss.startsWith("4:2:0") ? 0.25 : ss.startsWith("4:2:2") ? 0.5 : 1;
    perPixel += 2 * (bands - Math.min(2, bands - 1) * (1 - chroma));
    kinds.push("progressive JPEG");
  }
  if (meta.format === "png" && meta.isProgressive) {
    perPixel += bands * sample; // an interlaced PNG is decoded whole
    kinds.push("interlaced PNG");
  }
  if ((meta.orientation ?? 1) > 1) {
    perPixel += bands * sample; // turning it upright needs the whole decoded frame
    kinds.push("rotated");
  }
  return { perPixel, kinds };
}

/** Checks uploaded bytes and re-encodes them; width and height are as displayed (EXIF orientation applied). */
export async function checkImage(bytes: Buffer, declared: UploadType): Promise<ImageCheck> {
  const type = sniffType(bytes);
  if (!type) return { ok: false, reason: "not_an_image: the file is not a JPEG, PNG or WebP image" };
  if (type !== declared) return { ok: false, reason: `type_mismatch: the file is ${type}, not ${declared}` };
  const options = { limitInputPixels: PHOTO_LIMITS.maxPixels, failOn: "truncated" as const, sequentialRead: true };
  let meta: Metadata;
  try {
    meta = await sharp(bytes, { limitInputPixels: false }).metadata(); // the header only: the limits come next
  } catch {
    return { ok: false, reason: "undecodable: the image is damaged or incomplete" };
  }
  if (!meta.width || !meta.height) return { ok: false, reason: "undecodable: the image has no size" };
  const problem = photoShapeProblem(meta.width, meta.height);
  if (problem) return { ok: false, reason: `${problem}: ${photoShapeMessage(problem)}` };
  const { perPixel, kinds } = decodeCost(meta);
  const cost = DECODE_FIXED_BYTES + meta.width * meta.height * perPixel;
  if (cost > DECODE_BUDGET_BYTES) {
    const most = Math.floor((DECODE_BUDGET_BYTES - DECODE_FIXED_BYTES) / perPixel / 1e5) / 10;
    return { ok: false, reason: `too_many_pixels: a ${kinds.join(", ")} image may have at most ${most} megapixels` };
  }
  let clean: { data: Buffer; info: OutputInfo };
  try {
    clean = await budget.run(cost, () => {
      // Decoding every pixel is what finds truncated and corrupt files.
      const upright = sharp(bytes, options).rotate();
      return (
        type === "image/jpeg"
          ? upright.jpeg({ quality: 92, optimiseCoding: false }) // optimised coding buffers the whole image
          : type === "image/png"
            ? upright.png()
            : upright.webp({ quality: 92 })
      ).toBuffer({ resolveWithObject: true });
    });
  } catch (error) {
    const message = (error as Error).message ?? "";
    if (/pixel limit/i.test(message))
      return { ok: false, reason: `too_many_pixels: ${photoShapeMessage("too_many_pixels")}` };
    return { ok: false, reason: "undecodable: the image is damaged or incomplete" };
  }
  const sha256 = createHash("sha256").update(clean.data).digest("hex");
  return { ok: true, type, width: clean.info.width, height: clean.info.height, clean: clean.data, sha256 };
}
