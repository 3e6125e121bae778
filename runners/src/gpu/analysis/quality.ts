import type { Box, DetectedFace, RgbImage } from "./types.ts";

/**
 * Sharpness of a region: the variance of the Laplacian of its grey levels, sampled onto a 128×128
 * grid so the figure does not depend on the photo's resolution. Sharp faces score in the hundreds,
 * badly blurred ones in single digits.
 */
export function sharpness(image: RgbImage, box: Box, grid = 128): number {
  const grey = new Float64Array(grid * grid);
  for (let gy = 0; gy < grid; gy++) {
    for (let gx = 0; gx < grid; gx++) {
      const x = Math.min(image.width - 1, Math.max(0, Math.floor(box.x + ((gx + 0.5) * box.width) / grid)));
      const y = Math.min(image.height - 1, Math.max(0, Math.floor(box.y + ((gy + 0.5) * box.height) / grid)));
      const i = (y * image.width + x) * 3;
      grey[gy * grid + gx] = 0.299 * image.data[i]! + 0.587 * image.data[i + 1]! + 0.114 * image.data[i + 2]!;
    }
  }
  let sum = 0;
  let sumSq = 0;
  let n = 0;
  for (let y = 1; y < grid - 1; y++) {
    for (let x = 1; x < grid - 1; x++) {
      const c = y * grid + x;
      const lap = grey[c - 1]! + grey[c + 1]! + grey[c - grid]! + grey[c + grid]! - 4 * grey[c]!;
      sum += lap;
      sumSq += lap * lap;
      n++;
    }
  }
  const m = sum / n;
  return sumSq / n - m * m;
}

/** Faces at least `ratio` of the largest face's size: the ones a parent would call "in the photo". */
export function prominentFaces(faces: DetectedFace[], ratio = 0.5): DetectedFace[] {
  const side = (f: DetectedFace) => Math.max(f.box.width, f.box.height);
  const largest = Math.max(0, ...faces.map(side));
  return faces.filter((f) => side(f) >= ratio * largest).sort((a, b) => side(b) - side(a));
}
