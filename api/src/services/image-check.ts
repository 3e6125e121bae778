// What makes stored bytes an acceptable photo: an allowed type by its magic bytes, the declared type,
// a full decode under a pixel limit (so no decompression bomb and no truncated file gets through).
import { createHash } from "node:crypto";
import sharp from "sharp";

export const UPLOAD_TYPES = ["image/jpeg", "image/png", "image/webp"] as const;
export type UploadType = (typeof UPLOAD_TYPES)[number];

export type ImageCheck =
  | { ok: true; type: UploadType; width: number; height: number; bytes: number; sha256: string }
  | { ok: false; reason: string };

/** The image type named by a file's first bytes, or null. */
export function sniffType(bytes: Buffer): UploadType | null {
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return "image/jpeg";
  if (bytes.length >= 8 && bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])))
    return "image/png";
  if (bytes.length >= 12 && bytes.toString("latin1", 0, 4) === "RIFF" && bytes.toString("latin1", 8, 12) === "WEBP")
    return "image/webp";
  return null;
}

/** Checks uploaded bytes; width and height are as displayed (EXIF orientation applied). */
export async function checkImage(bytes: Buffer, declared: UploadType, maxPixels: number): Promise<ImageCheck> {
  const type = sniffType(bytes);
  if (!type) return { ok: false, reason: "not_an_image: the file is not a JPEG, PNG or WebP image" };
  if (type !== declared) return { ok: false, reason: `type_mismatch: the file is ${type}, not ${declared}` };
  const options = { limitInputPixels: maxPixels, failOn: "truncated" as const, sequentialRead: true };
  let width: number;
  let height: number;
  try {
    const meta = await sharp(bytes, options).metadata();
    if (!meta.width || !meta.height) return { ok: false, reason: "undecodable: the image has no size" };
    if (meta.width * meta.height > maxPixels)
      return { ok: false, reason: `too_many_pixels: the image is larger than ${maxPixels} pixels` };
    // Decoding every pixel is what finds truncated and corrupt files; stats() keeps no full copy.
    await sharp(bytes, options).stats();
    const turned = (meta.orientation ?? 1) >= 5;
    width = turned ? meta.height : meta.width;
    height = turned ? meta.width : meta.height;
  } catch (error) {
    const message = (error as Error).message ?? "";
    if (/pixel limit/i.test(message))
      return { ok: false, reason: `too_many_pixels: the image is larger than ${maxPixels} pixels` };
    return { ok: false, reason: "undecodable: the image is damaged or incomplete" };
  }
  const sha256 = createHash("sha256").update(bytes).digest("hex");
  return { ok: true, type, width, height, bytes: bytes.length, sha256 };
}
