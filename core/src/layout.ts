// Page geometry (docs/book-format.md): sizes, the safe area, where each text layer may go, and the
// keep-out areas of the art. The manifest validator and the typesetter share it.

import type { Cover, Manifest, Page, PageId, TextLayer } from "./manifest.ts";

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

/** The room of a box: what the safe area leaves, capped by the layer's `box_height`. */
const room = (layer: TextLayer, f: Rect, left: number) =>
  layer.box_height === undefined ? left : Math.min(left, Math.round(layer.box_height * f.height));

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
    return { left, width, anchor: "top", y, maxHeight: room(layer, f, safeBottom - y) };
  }
  if (vertical === "bottom") {
    const y = Math.round(clamp(safeBottom + layer.offset_y * k, safe.top + 1, safeBottom));
    return { left, width, anchor: "bottom", y, maxHeight: room(layer, f, y - safe.top) };
  }
  const y = Math.round(clamp(f.top + f.height / 2 + layer.offset_y * k, safe.top + 1, safeBottom - 1));
  return { left, width, anchor: "middle", y, maxHeight: room(layer, f, 2 * Math.min(y - safe.top, safeBottom - y)) };
}

function splitPosition(position: TextLayer["position"]): ["top" | "middle" | "bottom", "left" | "center" | "right"] {
  if (position === "center") return ["middle", "center"];
  const [v, h] = position.split("-") as [string, string];
  return [v as "top" | "middle" | "bottom", h as "left" | "center" | "right"];
}

/** The whole area a layer's text may take: its box at its full room. */
export function layerRect(manifest: Manifest, page: PageId, art: Page | Cover, layer: TextLayer): Rect {
  const box = layerBox(manifest, page, art, layer);
  const top =
    box.anchor === "top" ? box.y : box.anchor === "bottom" ? box.y - box.maxHeight : box.y - box.maxHeight / 2;
  return { left: box.left, top: Math.round(top), width: box.width, height: box.maxHeight };
}

/** A keep-out area of the art, in print pixels of its page. */
export function keepOutRect(
  manifest: Manifest,
  page: PageId,
  area: { left: number; top: number; width: number; height: number },
): Rect {
  const { width, height } = pageSize(manifest, page);
  return { left: area.left * width, top: area.top * height, width: area.width * width, height: area.height * height };
}

export const intersects = (a: Rect, b: Rect) =>
  a.left < b.left + b.width && b.left < a.left + a.width && a.top < b.top + b.height && b.top < a.top + a.height;

/** Every text layer that overlaps a keep-out area of its page: `page_3 text layer 0 overlaps "whale"`. */
export function keepOutViolations(manifest: Manifest): string[] {
  const out: string[] = [];
  const ids: [PageId, Page | Cover][] = [
    ...manifest.pages.map((p) => [`page_${p.page_num}` as PageId, p] as [PageId, Page]),
    ["cover_front", manifest.covers.front],
    ["cover_back", manifest.covers.back],
  ];
  for (const [id, art] of ids) {
    art.text_layers.forEach((layer, i) => {
      const rect = layerRect(manifest, id, art, layer);
      for (const area of art.keep_out)
        if (intersects(rect, keepOutRect(manifest, id, area)))
          out.push(`${id} text layer ${i} overlaps "${area.label}"`);
    });
  }
  return out;
}
