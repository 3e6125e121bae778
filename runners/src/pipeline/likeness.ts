import { createHash } from "node:crypto";
import sharp from "sharp";
import type { Logger } from "@faceapp/core";
import { Counter, Histogram, type Registry } from "prom-client";
import { readMask } from "../gpu/engines/drawn/page.ts";
import { FaceEngineError } from "../gpu/engines/errors.ts";

// The likeness check of a face page (docs/likeness.md): the drawn face's descriptor distance to the
// photo's (Euclidean, face-api's 128 numbers; lower is more alike). Over the threshold the page is
// drawn once more with a seed derived from its own; the more alike drawing is kept, flagged when it is
// still over. No face found on a drawing counts as unlike. A measurement that fails keeps the drawing
// unmeasured (distance null, not flagged), logged and counted: the check never fails a page; so is
// a face region too small for the recogniser.

/** The largest distance taken for a likeness: face-api's "same person" line, which the fixtures bear out (docs/likeness.md). */
export const LIKENESS_MAX_DISTANCE = 0.6;

/**
 * A face region smaller than this (its longer side, in the drawn image's pixels) is not measured: the
 * recogniser cannot tell a face there (the test books' 96-pixel pages), so the page is kept unmeasured.
 */
export const MIN_REGION_SIDE = 64;

/** Each drawn face page's descriptor distance to the child's photo (docs/likeness.md), first draw and redraw. */
const likenessDistance = new Histogram({
  name: "faceapp_likeness_distance",
  help: "Descriptor distance of a drawn face to the child's photo (lower is more alike), by draw",
  labelNames: ["draw"],
  buckets: [0.3, 0.4, 0.5, 0.55, 0.6, 0.65, 0.7, 0.8, 1],
  registers: [],
});

/**
 * Face pages by the likeness check's outcome: passed, passed_after_redraw, flagged (kept unlike the
 * child after its redraw), not_measured (no descriptor of the photo, or the measurement failed).
 */
export const likenessPages = new Counter({
  name: "faceapp_likeness_pages_total",
  help: "Face pages by likeness outcome: passed, passed_after_redraw, flagged, not_measured",
  labelNames: ["outcome"],
  registers: [],
});

/** Shows the likeness check's metrics on a runner's /metrics (the gpu runner's). */
export function registerLikenessMetrics(registry: Registry): void {
  registry.registerMetric(likenessDistance);
  registry.registerMetric(likenessPages);
}

export interface Region {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** What measures a face: its descriptor in `image` (looked for in `region`), or null when no face is found. */
export interface LikenessMeter {
  describe(image: Buffer, region?: Region): Promise<number[] | null>;
}

export interface LikenessOutcome {
  image: Buffer;
  /** Distance of the kept drawing; null when not measured or no face was found on it. */
  distance: number | null;
  redrawn: boolean;
  flagged: boolean;
}

/** The redraw's seed: derived from the page's, so a redraw is reproducible (31 bits, as page seeds). */
export function redrawSeed(seed: number): number {
  return createHash("sha256").update(`${seed}:likeness-redraw`).digest().readUInt32BE(0) & 0x7fffffff;
}

export function euclidean(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`descriptors of ${a.length} and ${b.length} numbers`);
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += (a[i]! - b[i]!) ** 2;
  return Math.sqrt(sum);
}

/**
 * The mask's face region (its white part's bounding box, as the composite engine reads it) in the
 * pixels of an image `width` × `height`; undefined when the mask is empty.
 */
export async function faceRegion(mask: Buffer, width: number, height: number): Promise<Region | undefined> {
  try {
    return (await readMask(mask, width, height)).box;
  } catch (err) {
    if (err instanceof FaceEngineError) return undefined;
    throw err;
  }
}

/**
 * Draws the page with `draw(seed)` and checks its likeness to `photo` (the photo's descriptor; without
 * one the page is drawn once, unmeasured). Over the threshold: one redraw, the more alike kept.
 */
export async function drawLikeChild(input: {
  seed: number;
  photo: number[] | null;
  mask: Buffer;
  meter: LikenessMeter;
  draw(seed: number): Promise<Buffer>;
  signal: AbortSignal;
  log: Logger;
}): Promise<LikenessOutcome> {
  const { photo, meter, log } = input;
  const first = await input.draw(input.seed);
  if (!photo) {
    likenessPages.inc({ outcome: "not_measured" });
    return { image: first, distance: null, redrawn: false, flagged: false };
  }
  /** The distance; +Infinity when no face is found; null when the measurement failed. */
  const measure = async (image: Buffer, draw: "first" | "redraw"): Promise<number | null> => {
    try {
      const { width, height } = await sharp(image).metadata();
      const region = await faceRegion(input.mask, width!, height!);
      if (!region || Math.max(region.width, region.height) < MIN_REGION_SIDE) {
        log.info({ draw, region }, "the face region is too small to measure; the drawing is kept unmeasured");
        return null;
      }
      const found = await meter.describe(image, region);
      const distance = found ? euclidean(photo, found) : Number.POSITIVE_INFINITY;
      if (Number.isFinite(distance)) likenessDistance.observe({ draw }, distance);
      log.info({ draw, distance: Number.isFinite(distance) ? distance : "no face found" }, "likeness measured");
      return distance;
    } catch (err) {
      log.warn({ err, draw }, "the likeness could not be measured; the drawing is kept unmeasured");
      return null;
    }
  };
  const firstDistance = await measure(first, "first");
  if (firstDistance === null || firstDistance <= LIKENESS_MAX_DISTANCE) {
    likenessPages.inc({ outcome: firstDistance === null ? "not_measured" : "passed" });
    return { image: first, distance: firstDistance, redrawn: false, flagged: false };
  }
  input.signal.throwIfAborted();
  const second = await input.draw(redrawSeed(input.seed));
  const secondDistance = await measure(second, "redraw");
  // A redraw that could not be measured is not known to be better: the measured first drawing stays.
  const [image, distance] =
    secondDistance !== null && secondDistance < firstDistance ? [second, secondDistance] : [first, firstDistance];
  const flagged = distance > LIKENESS_MAX_DISTANCE;
  likenessPages.inc({ outcome: flagged ? "flagged" : "passed_after_redraw" });
  return { image, distance: Number.isFinite(distance) ? distance : null, redrawn: true, flagged };
}
