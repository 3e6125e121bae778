// The one set of limits a photo must meet, for the api's upload check and the gpu runner's analysis
// alike (they disagreed once: the api let through photos the analysis then refused);
// input-and-memory-defences.md.

export const PHOTO_LIMITS = {
  /** Decoded pixels at most (width × height): the decompression-bomb guard. */
  maxPixels: 40_000_000,
  /** The longest side at most, in pixels. */
  maxSide: 10_000,
  /** Longest side ÷ shortest side at most: a photo of a child is never a 4:1 strip. */
  maxAspect: 3,
} as const;

export type PhotoShapeProblem = "too_many_pixels" | "too_long_side" | "extreme_aspect";

/** What is wrong with a photo of this size (as stored, before orientation), or null when it is acceptable. */
export function photoShapeProblem(width: number, height: number): PhotoShapeProblem | null {
  if (width * height > PHOTO_LIMITS.maxPixels) return "too_many_pixels";
  if (Math.max(width, height) > PHOTO_LIMITS.maxSide) return "too_long_side";
  if (Math.max(width, height) > PHOTO_LIMITS.maxAspect * Math.min(width, height)) return "extreme_aspect";
  return null;
}

/** The limits in words a parent can act on. */
export function photoShapeMessage(problem: PhotoShapeProblem): string {
  switch (problem) {
    case "too_many_pixels":
      return `the image is larger than ${PHOTO_LIMITS.maxPixels / 1e6} megapixels`;
    case "too_long_side":
      return `a side of the image is longer than ${PHOTO_LIMITS.maxSide} pixels`;
    case "extreme_aspect":
      return `the image is more than ${PHOTO_LIMITS.maxAspect} times as long as it is wide`;
  }
}
