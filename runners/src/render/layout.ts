// Page geometry (docs/book-format.md): core's (sizes, the safe area, the layer boxes), and the
// rectangle arithmetic of compositing.

import { intersects, type Rect } from "@faceapp/core";

export {
  frame,
  intersects,
  isCover,
  type LayerBox,
  layerBox,
  pageSize,
  pxPerPt,
  type Rect,
  type Size,
  safeRect,
} from "@faceapp/core";

/** The smallest rectangle holding both; used to merge text boxes that overlap. */
export function union(a: Rect, b: Rect): Rect {
  const left = Math.min(a.left, b.left);
  const top = Math.min(a.top, b.top);
  return {
    left,
    top,
    width: Math.max(a.left + a.width, b.left + b.width) - left,
    height: Math.max(a.top + a.height, b.top + b.height) - top,
  };
}

export function intersect(a: Rect, b: Rect): Rect {
  const left = Math.max(a.left, b.left);
  const top = Math.max(a.top, b.top);
  return {
    left,
    top,
    width: Math.max(0, Math.min(a.left + a.width, b.left + b.width) - left),
    height: Math.max(0, Math.min(a.top + a.height, b.top + b.height) - top),
  };
}

/** Merges overlapping rectangles until none overlap (so no pixel is composited twice). */
export function mergeOverlapping(rects: Rect[]): Rect[] {
  const out = [...rects];
  for (let merged = true; merged; ) {
    merged = false;
    outer: for (let i = 0; i < out.length; i++) {
      for (let j = i + 1; j < out.length; j++) {
        if (intersects(out[i]!, out[j]!)) {
          out[i] = union(out[i]!, out[j]!);
          out.splice(j, 1);
          merged = true;
          break outer;
        }
      }
    }
  }
  return out;
}
