import type { Point } from "../../analysis/types.ts";
import { applyAffine, arcfaceTemplate, similarityTransform } from "../../geometry.ts";

/**
 * Jaw (iBUG points 0–16) and brows (17–26) of a frontal face in ArcFace's 112-pixel template:
 * face-api's 68 points on the astronaut fixture, moved into the template by their five points and
 * made left-right symmetric. The outline used when the analysis kept only five points (InsightFace).
 */
const TEMPLATE_OUTLINE: Point[] = [
  [14.9, 55.0],
  [15.7, 65.4],
  [17.0, 75.3],
  [18.8, 85.3],
  [22.7, 95.2],
  [27.9, 103.5],
  [34.4, 109.0],
  [43.0, 115.5],
  [56.0, 119.0],
  [69.0, 115.5],
  [77.6, 109.0],
  [84.1, 103.5],
  [89.3, 95.2],
  [93.2, 85.3],
  [95.0, 75.3],
  [96.3, 65.4],
  [97.1, 55.0],
  [22.7, 45.4],
  [27.4, 42.4],
  [33.9, 41.6],
  [40.0, 42.4],
  [45.2, 44.6],
  [66.8, 44.6],
  [72.0, 42.4],
  [78.1, 41.6],
  [84.6, 42.4],
  [89.3, 45.4],
].map(([x, y]) => ({ x: x!, y: y! }));

export interface OutlineShape {
  /** How far the brows are raised, as a share of the distance between the eyes. */
  browLift: number;
  /** How far the jaw is pulled towards the face's centre, as a share of its distance from it. */
  jawInset: number;
}

/**
 * The face's outline in face-crop pixels as a closed polygon: the jaw from one ear to the other,
 * then back along the brows. From the detector's 68 points when the analysis kept them, else the
 * template fitted to the five. The forehead above the brows (where the photo's hair starts) is never
 * inside it.
 */
export function faceOutline(five: Point[], all68: Point[] | undefined, shape: OutlineShape): Point[] {
  const points =
    all68 && all68.length === 68
      ? all68.slice(0, 27)
      : TEMPLATE_OUTLINE.map((p) => applyAffine(similarityTransform(arcfaceTemplate, five), p));
  const [left, right, nose] = five as [Point, Point, Point];
  const ipd = Math.hypot(right.x - left.x, right.y - left.y);
  // "Up" in the face: perpendicular to the eye line, away from the nose.
  const up = { x: (right.y - left.y) / ipd, y: -(right.x - left.x) / ipd };
  const centre = { x: (left.x + right.x + nose.x) / 3, y: (left.y + right.y + nose.y) / 3 };
  const jaw = points.slice(0, 17).map((p) => ({
    x: p.x + (centre.x - p.x) * shape.jawInset,
    y: p.y + (centre.y - p.y) * shape.jawInset,
  }));
  const brows = points
    .slice(17, 27)
    .reverse()
    .map((p) => ({ x: p.x + up.x * shape.browLift * ipd, y: p.y + up.y * shape.browLift * ipd }));
  return [...jaw, ...brows];
}

/** A polygon filled into a `width`×`height` grid (1 inside, 0 outside; pixel centres, even-odd rule). */
export function fillPolygon(polygon: Point[], width: number, height: number): Uint8Array {
  const out = new Uint8Array(width * height);
  const xs: number[] = [];
  for (let y = 0; y < height; y++) {
    const cy = y + 0.5;
    xs.length = 0;
    for (let i = 0; i < polygon.length; i++) {
      const a = polygon[i]!;
      const b = polygon[(i + 1) % polygon.length]!;
      if (a.y <= cy === b.y <= cy) continue;
      xs.push(a.x + ((cy - a.y) / (b.y - a.y)) * (b.x - a.x));
    }
    xs.sort((p, q) => p - q);
    for (let k = 0; k + 1 < xs.length; k += 2) {
      const from = Math.max(0, Math.ceil(xs[k]! - 0.5));
      const to = Math.min(width - 1, Math.floor(xs[k + 1]! - 0.5));
      for (let x = from; x <= to; x++) out[y * width + x] = 1;
    }
  }
  return out;
}
