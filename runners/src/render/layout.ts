// Page geometry (docs/book-format.md): sizes, the safe area, and where each text layer may go.

import type { Cover, Manifest, Page, PageId, TextLayer } from "@faceapp/core";

export interface Rect {
  left: number;
  top: number;
  width: number;
  height: number;
}

export interface Size {
  width: number;
  height: number;
}

/** Print pixels per typographic point at the manifest's dpi (300 / 72). */
export const pxPerPt = (manifest: Manifest) => manifest.output.dpi / 72;

export const isCover = (page: PageId): page is "cover_front" | "cover_back" =>
  page === "cover_front" || page === "cover_back";

/** The print size of a page id: 2551×2551 for the block, 2800×3000 for covers. */
export function pageSize(manifest: Manifest, page: PageId): Size {
  if (isCover(page)) return { ...manifest.output.cover_size_px };
  return { width: manifest.output.page_size_px, height: manifest.output.page_size_px };
}

/**
 * The frame text is laid out in: the whole page for the block; for a cover, its web crop (the part
 * the reader sees on the web and on the front or back of the printed book, away from spine and wrap).
 */
export function frame(manifest: Manifest, page: PageId, art: Page | Cover): Rect {
  if (isCover(page)) return { ...(art as Cover).web_crop };
  const s = manifest.output.page_size_px;
  return { left: 0, top: 0, width: s, height: s };
}

/** The frame inset by `safe_zone_pt`: no text pixel may fall outside it. */
export function safeRect(manifest: Manifest, page: PageId, art: Page | Cover): Rect {
  const f = frame(manifest, page, art);
  const inset = Math.round(manifest.output.safe_zone_pt * pxPerPt(manifest));
  return { left: f.left + inset, top: f.top + inset, width: f.width - 2 * inset, height: f.height - 2 * inset };
}

/** Where a layer's box goes: a fixed width, a horizontal position, a vertical anchor and the height it may use. */
export interface LayerBox {
  left: number;
  width: number;
  /** `top`: the box's top edge; `bottom`: its bottom edge; `middle`: its centre line. */
  anchor: "top" | "bottom" | "middle";
  y: number;
  /** The tallest the box may grow and stay inside the safe area. */
  maxHeight: number;
}

const clamp = (x: number, lo: number, hi: number) => Math.min(Math.max(x, lo), hi);

export function layerBox(manifest: Manifest, page: PageId, art: Page | Cover, layer: TextLayer): LayerBox {
  const f = frame(manifest, page, art);
  const safe = safeRect(manifest, page, art);
  const k = pxPerPt(manifest);
  const width = Math.min(Math.round(layer.box_width * f.width), safe.width);
  const [vertical, horizontal] = splitPosition(layer.position);

  let left =
    horizontal === "left"
      ? safe.left
      : horizontal === "right"
        ? safe.left + safe.width - width
        : f.left + (f.width - width) / 2;
  left = Math.round(clamp(left + layer.offset_x * k, safe.left, safe.left + safe.width - width));

  const safeBottom = safe.top + safe.height;
  if (vertical === "top") {
    const y = Math.round(clamp(safe.top + layer.offset_y * k, safe.top, safeBottom - 1));
    return { left, width, anchor: "top", y, maxHeight: safeBottom - y };
  }
  if (vertical === "bottom") {
    const y = Math.round(clamp(safeBottom + layer.offset_y * k, safe.top + 1, safeBottom));
    return { left, width, anchor: "bottom", y, maxHeight: y - safe.top };
  }
  const y = Math.round(clamp(f.top + f.height / 2 + layer.offset_y * k, safe.top + 1, safeBottom - 1));
  return { left, width, anchor: "middle", y, maxHeight: 2 * Math.min(y - safe.top, safeBottom - y) };
}

function splitPosition(position: TextLayer["position"]): ["top" | "middle" | "bottom", "left" | "center" | "right"] {
  if (position === "center") return ["middle", "center"];
  const [v, h] = position.split("-") as [string, string];
  return [v as "top" | "middle" | "bottom", h as "left" | "center" | "right"];
}

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

export const intersects = (a: Rect, b: Rect) =>
  a.left < b.left + b.width && b.left < a.left + a.width && a.top < b.top + b.height && b.top < a.top + a.height;

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
