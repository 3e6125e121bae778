import sharp from "sharp";
import { loadFaceApi } from "./faceapi.ts";
import type { Box, Point } from "../index.ts";

// The likeness of a drawn face to the photo, as face-api's face recogniser (a ResNet-34 trained for
// face verification, shipped with the npm package) measures it: the Euclidean distance between the
// 128-number descriptors of the two faces. Below 0.6 face-api counts them as the same person. Faces
// are found with face-api's SSD detector, which finds drawn faces the tiny detector misses.

export const SAME_PERSON = 0.6;

interface Found {
  detection: { box: Box };
  landmarks: { positions: Point[] };
  descriptor: Float32Array;
}
interface Recogniser {
  tf: { tensor3d(data: Int32Array, shape: [number, number, number], dtype: "int32"): { dispose(): void } };
  SsdMobilenetv1Options: new (o: { minConfidence: number }) => unknown;
  detectAllFaces(
    input: unknown,
    options: unknown,
  ): { withFaceLandmarks(): { withFaceDescriptors(): Promise<Found[]> } };
  euclideanDistance(a: Float32Array, b: Float32Array): number;
}

const load = async () =>
  (await loadFaceApi(["ssdMobilenetv1", "faceLandmark68Net", "faceRecognitionNet"])) as Recogniser;

/**
 * The largest face in `image`, or in its `region` (with a margin, enlarged to be seen well): its
 * descriptor and its eye centres in the image's pixels. Null when no face is found.
 */
export async function recognise(
  image: Buffer,
  region?: Box,
): Promise<{ descriptor: Float32Array; eyes: [Point, Point] } | null> {
  const faceapi = await load();
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
  const tensor = faceapi.tf.tensor3d(new Int32Array(data), [info.height, info.width, 3], "int32");
  try {
    const faces = await faceapi
      .detectAllFaces(tensor, new faceapi.SsdMobilenetv1Options({ minConfidence: 0.2 }))
      .withFaceLandmarks()
      .withFaceDescriptors();
    const face = faces.sort((a, b) => b.detection.box.width - a.detection.box.width)[0];
    if (!face) return null;
    const eye = (from: number): Point => {
      const ps = face.landmarks.positions.slice(from, from + 6);
      const mean = (f: (p: Point) => number) => ps.reduce((s, p) => s + f(p), 0) / ps.length;
      return { x: origin.x + mean((p) => p.x) / origin.k, y: origin.y + mean((p) => p.y) / origin.k };
    };
    return { descriptor: face.descriptor, eyes: [eye(36), eye(42)] };
  } finally {
    tensor.dispose();
  }
}

export async function descriptor(image: Buffer, region?: Box): Promise<Float32Array | null> {
  return (await recognise(image, region))?.descriptor ?? null;
}

export async function distance(a: Float32Array, b: Float32Array): Promise<number> {
  return (await load()).euclideanDistance(a, b);
}
