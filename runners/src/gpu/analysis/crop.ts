import sharp from "sharp";
import type { Box, Point, RgbImage } from "./types.ts";

export interface FaceCrop {
  png: Buffer;
  size: number;
  /** The crop's square in working-image pixels (may extend past the photo; edges are repeated). */
  region: Box;
  /** The five landmarks in crop pixels. */
  landmarks: Point[];
  /** The 68 points in crop pixels (a tenth of a pixel), when the detector gave them. */
  landmarks68?: Point[];
}

/**
 * A square crop around the face with room for hair and chin (twice the face box), resized to
 * `size`: what the face engines receive as the child's photo.
 */
export async function cropFace(
  image: RgbImage,
  box: Box,
  landmarks: Point[],
  size = 512,
  landmarks68?: Point[],
): Promise<FaceCrop> {
  const side = Math.round(2 * Math.max(box.width, box.height));
  const cx = box.x + box.width / 2;
  const cy = box.y + box.height / 2 - 0.1 * box.height;
  const left = Math.round(cx - side / 2);
  const top = Math.round(cy - side / 2);
  const pad = {
    left: Math.max(0, -left),
    top: Math.max(0, -top),
    right: Math.max(0, left + side - image.width),
    bottom: Math.max(0, top + side - image.height),
  };
  const padded = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } })
    .extend({ ...pad, extendWith: "copy" })
    .raw()
    .toBuffer();
  const png = await sharp(padded, {
    raw: { width: image.width + pad.left + pad.right, height: image.height + pad.top + pad.bottom, channels: 3 },
  })
    .extract({ left: left + pad.left, top: top + pad.top, width: side, height: side })
    .resize(size, size)
    .png()
    .toBuffer();
  const k = size / side;
  const toCrop = (p: Point) => ({ x: (p.x - left) * k, y: (p.y - top) * k });
  const tenth = (p: Point) => ({ x: Math.round(p.x * 10) / 10, y: Math.round(p.y * 10) / 10 });
  return {
    png,
    size,
    region: { x: left, y: top, width: side, height: side },
    landmarks: landmarks.map(toCrop),
    ...(landmarks68 ? { landmarks68: landmarks68.map((p) => tenth(toCrop(p))) } : {}),
  };
}
