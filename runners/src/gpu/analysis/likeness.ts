import sharp from "sharp";
import { euclidean } from "../../pipeline/likeness.ts";
import { createFaceApiWorker, type FaceApiWorker } from "./faceapi.ts";
import type { Box, Point } from "../index.ts";

// The likeness of a drawn face to the photo, as face-api's face recogniser (a ResNet-34 trained for
// face verification, shipped with the npm package) measures it: the Euclidean distance between the
// 128-number descriptors of the two faces. Below 0.6 face-api counts them as the same person. Faces
// are found with face-api's SSD detector, which finds drawn faces the tiny detector misses. face-api
// runs in its worker thread (faceapi.ts), never in the caller's: the image is decoded and cut here
// (sharp, off the event loop), the pixels go to the worker, the descriptor comes back.

export const SAME_PERSON = 0.6;

let shared: FaceApiWorker | undefined;
/** For callers that bring no worker (tests, the demo books): one per process, ended when idle as any. */
const sharedWorker = () => (shared ??= createFaceApiWorker());

/**
 * The largest face in `image`, or in its `region` (with a margin, enlarged to be seen well): its
 * descriptor and its eye centres in the image's pixels. Null when no face is found. Measured in
 * `worker` (the gpu runner's, shared with its photo analysis), else in a worker of this module's.
 */
export async function recognise(
  image: Buffer,
  region?: Box,
  worker: FaceApiWorker = sharedWorker(),
): Promise<{ descriptor: Float32Array; eyes: [Point, Point] } | null> {
  let pipeline = sharp(image).removeAlpha().toColourspace("srgb");
  let origin = { x: 0, y: 0, k: 1 };
  if (region) {
    const meta = await sharp(image).metadata();
    const m = Math.round(Math.max(region.width, region.height) * 0.4);
    const left = Math.max(0, Math.round(region.x) - m);
    const top = Math.max(0, Math.round(region.y) - m);
    const width = Math.min(meta.width! - left, Math.round(region.width) + 2 * m);
    const height = Math.min(meta.height! - top, Math.round(region.height) + 2 * m);
    const k = 416 / Math.max(width, height);
    origin = { x: left, y: top, k };
    pipeline = pipeline.extract({ left, top, width, height }).resize(Math.round(width * k), Math.round(height * k));
  }
  const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
  const face = await worker.recognise({ data, width: info.width, height: info.height });
  if (!face) return null;
  const eye = (from: number): Point => {
    const ps = face.points.slice(from, from + 6);
    const mean = (f: (p: Point) => number) => ps.reduce((s, p) => s + f(p), 0) / ps.length;
    return { x: origin.x + mean((p) => p.x) / origin.k, y: origin.y + mean((p) => p.y) / origin.k };
  };
  return { descriptor: face.descriptor, eyes: [eye(36), eye(42)] };
}

export async function descriptor(image: Buffer, region?: Box, worker?: FaceApiWorker): Promise<Float32Array | null> {
  return (await recognise(image, region, worker))?.descriptor ?? null;
}

/** face-api's distance of two descriptors (Euclidean), without face-api. */
export async function distance(a: Float32Array, b: Float32Array): Promise<number> {
  return euclidean(a, b);
}
