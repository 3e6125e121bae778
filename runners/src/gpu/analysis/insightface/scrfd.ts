import { warpAffine } from "../../geometry.ts";
import type { Box, DetectedFace, Point, RgbImage } from "../types.ts";

// SCRFD's pre- and post-processing as InsightFace's `scrfd.py` does it, in plain functions that the
// tests drive with synthetic tensors.

export const scrfdStrides = [8, 16, 32] as const;
const anchorsPerCell = 2;

/**
 * The detector's input: the image scaled to fit `size`×`size` (top-left, zero padding), channels
 * RGB, (v − 127.5) / 128, NCHW. `scale` maps image pixels to input pixels.
 */
export function scrfdInput(image: RgbImage, size: number): { tensor: Float32Array; scale: number } {
  const scale = Math.min(size / image.width, size / image.height);
  const resized = warpAffine(image, [scale, 0, 0, 0, scale, 0], size, size);
  const plane = size * size;
  const tensor = new Float32Array(3 * plane);
  const usedW = Math.round(image.width * scale);
  const usedH = Math.round(image.height * scale);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const i = y * size + x;
      const inside = x < usedW && y < usedH;
      for (let c = 0; c < 3; c++) tensor[c * plane + i] = ((inside ? resized.data[i * 3 + c]! : 0) - 127.5) / 128;
    }
  }
  return { tensor, scale };
}

/** Anchor centres of one stride, in input pixels, each repeated per anchor (x, y, x, y, …). */
export function anchorCenters(size: number, stride: number): Float32Array {
  const cells = Math.ceil(size / stride);
  const out = new Float32Array(cells * cells * anchorsPerCell * 2);
  let k = 0;
  for (let y = 0; y < cells; y++) {
    for (let x = 0; x < cells; x++) {
      for (let a = 0; a < anchorsPerCell; a++) {
        out[k++] = x * stride;
        out[k++] = y * stride;
      }
    }
  }
  return out;
}

export interface StrideOutput {
  stride: number;
  /** [N] scores (already sigmoid-ed by the model). */
  scores: Float32Array;
  /** [N, 4] distances left, top, right, bottom in stride units. */
  boxes: Float32Array;
  /** [N, 10] landmark offsets in stride units. */
  keypoints: Float32Array;
}

/** Decodes every anchor above `threshold` into a face in image pixels (dividing by the input `scale`). */
export function decodeScrfd(
  outputs: StrideOutput[],
  size: number,
  scale: number,
  threshold = 0.5,
): Array<Pick<DetectedFace, "box" | "score" | "landmarks">> {
  const faces: Array<Pick<DetectedFace, "box" | "score" | "landmarks">> = [];
  for (const out of outputs) {
    const centers = anchorCenters(size, out.stride);
    for (let i = 0; i < out.scores.length; i++) {
      const score = out.scores[i]!;
      if (score < threshold) continue;
      const cx = centers[i * 2]!;
      const cy = centers[i * 2 + 1]!;
      const d = (k: number) => out.boxes[i * 4 + k]! * out.stride;
      const x1 = cx - d(0);
      const y1 = cy - d(1);
      const x2 = cx + d(2);
      const y2 = cy + d(3);
      const landmarks: Point[] = [];
      for (let p = 0; p < 5; p++) {
        landmarks.push({
          x: (cx + out.keypoints[i * 10 + p * 2]! * out.stride) / scale,
          y: (cy + out.keypoints[i * 10 + p * 2 + 1]! * out.stride) / scale,
        });
      }
      faces.push({
        score,
        box: { x: x1 / scale, y: y1 / scale, width: (x2 - x1) / scale, height: (y2 - y1) / scale },
        landmarks,
      });
    }
  }
  return faces;
}

export function iou(a: Box, b: Box): number {
  const x1 = Math.max(a.x, b.x);
  const y1 = Math.max(a.y, b.y);
  const x2 = Math.min(a.x + a.width, b.x + b.width);
  const y2 = Math.min(a.y + a.height, b.y + b.height);
  const inter = Math.max(0, x2 - x1) * Math.max(0, y2 - y1);
  const union = a.width * a.height + b.width * b.height - inter;
  return union <= 0 ? 0 : inter / union;
}

/** Greedy non-maximum suppression: highest score first, dropping boxes overlapping a kept one by more than `threshold`. */
export function nms<T extends { box: Box; score: number }>(faces: T[], threshold = 0.4): T[] {
  const sorted = [...faces].sort((a, b) => b.score - a.score);
  const kept: T[] = [];
  for (const f of sorted) if (kept.every((k) => iou(k.box, f.box) <= threshold)) kept.push(f);
  return kept;
}
