// What makes stored bytes an acceptable photo: an allowed type by its magic bytes, the declared type,
// a full decode under a pixel limit (so no decompression bomb and no truncated file gets through).
// What is kept is the decoded pixels encoded again: upright, without metadata (EXIF, GPS, XMP of any
// size) and without whatever followed the image in the file (a polyglot's HTML or ZIP, a phone's
// motion-photo video).
import { createHash } from "node:crypto";
import sharp, { type OutputInfo } from "sharp";

export const UPLOAD_TYPES = ["image/jpeg", "image/png", "image/webp"] as const;
export type UploadType = (typeof UPLOAD_TYPES)[number];

export type ImageCheck =
  | { ok: true; type: UploadType; width: number; height: number; clean: Buffer; sha256: string }
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

/** Checks uploaded bytes and re-encodes them; width and height are as displayed (EXIF orientation applied). */
export async function checkImage(bytes: Buffer, declared: UploadType, maxPixels: number): Promise<ImageCheck> {
  const type = sniffType(bytes);
  if (!type) return { ok: false, reason: "not_an_image: the file is not a JPEG, PNG or WebP image" };
  if (type !== declared) return { ok: false, reason: `type_mismatch: the file is ${type}, not ${declared}` };
  const options = { limitInputPixels: maxPixels, failOn: "truncated" as const, sequentialRead: true };
  let clean: { data: Buffer; info: OutputInfo };
  try {
    const meta = await sharp(bytes, options).metadata();
    if (!meta.width || !meta.height) return { ok: false, reason: "undecodable: the image has no size" };
    if (meta.width * meta.height > maxPixels)
      return { ok: false, reason: `too_many_pixels: the image is larger than ${maxPixels} pixels` };
    // Decoding every pixel is what finds truncated and corrupt files.
    const upright = sharp(bytes, options).rotate();
    clean = await (type === "image/jpeg"
      ? upright.jpeg({ quality: 92 })
      : type === "image/png"
        ? upright.png()
        : upright.webp({ quality: 92 })
    ).toBuffer({ resolveWithObject: true });
  } catch (error) {
    const message = (error as Error).message ?? "";
    if (/pixel limit/i.test(message))
      return { ok: false, reason: `too_many_pixels: the image is larger than ${maxPixels} pixels` };
    return { ok: false, reason: "undecodable: the image is damaged or incomplete" };
  }
  const sha256 = createHash("sha256").update(clean.data).digest("hex");
  return { ok: true, type, width: clean.info.width, height: clean.info.height, clean: clean.data, sha256 };
}
