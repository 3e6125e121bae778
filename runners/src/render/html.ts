// The HTML of a text page. Everything that came from a manifest or a parent is text, escaped; the
// document also forbids every fetch but data: by CSP, in case escaping were ever wrong.

import {
  type Cover,
  fillTemplate,
  type Manifest,
  type Page,
  type PageId,
  type TextLayer,
  type TextVariables,
} from "@faceapp/core";
import { fontStack } from "./fonts.ts";
import { type LayerBox, layerBox, pageSize, pxPerPt } from "./layout.ts";

/** The values a template may use. Anything a parent typed is only ever inserted as text. */
export type Variables = TextVariables;

const ENTITIES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

export const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => ENTITIES[c]!);

/** Drops control characters (except line breaks and tabs), which have no business on a printed page. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this removes
const stripControls = (s: string) => s.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, "");

/** A layer's template with its variables filled in, as plain text. */
export function substitute(layer: TextLayer, variables: Variables): string {
  return stripControls(fillTemplate(layer, variables).normalize("NFC"));
}

export interface LayerSpec {
  box: LayerBox;
  fontPx: number;
  lineHeight: number;
  text: string;
}

export interface PageDocument {
  html: string;
  width: number;
  height: number;
  layers: LayerSpec[];
}

const CSP = "default-src 'none'; font-src data:; img-src data:; style-src 'unsafe-inline'; script-src 'none'";

/** Builds the transparent page that holds a page's text layers, one absolutely placed box per layer. */
export function pageDocument(
  manifest: Manifest,
  page: PageId,
  art: Page | Cover,
  variables: Variables,
  fontCss: string,
): PageDocument {
  const { width, height } = pageSize(manifest, page);
  const t = manifest.typography;
  const layers: LayerSpec[] = [];
  const divs = art.text_layers.map((layer, i) => {
    const box = layerBox(manifest, page, art, layer);
    const pt = layer.size === "body" ? t.body_size_pt : layer.size === "accent" ? t.accent_size_pt : layer.size;
    const fontPx = pt * pxPerPt(manifest);
    const text = substitute(layer, variables);
    layers.push({ box, fontPx, lineHeight: t.line_height, text });
    const vertical =
      box.anchor === "top"
        ? `top:${box.y}px`
        : box.anchor === "bottom"
          ? `bottom:${height - box.y}px`
          : `top:${box.y}px;transform:translateY(-50%)`;
    const shadow = layer.text_shadow ?? t.text_shadow;
    const style = [
      `left:${box.left}px`,
      vertical,
      `width:${box.width}px`,
      `font-family:${fontStack(manifest, layer.font ?? t.body_font)}`,
      `font-weight:${t.fonts[layer.font ?? t.body_font]!.weight}`,
      `font-size:${fontPx.toFixed(2)}px`,
      `line-height:${t.line_height}`,
      `color:${layer.color ?? t.color}`,
      `text-align:${layer.align}`,
      shadow ? `text-shadow:${shadow}` : "",
    ]
      .filter(Boolean)
      .join(";");
    return `<div class="L" id="l${i}" style="${escapeHtml(style)}">${escapeHtml(text)}</div>`;
  });
  const html = `<!doctype html><html lang="${manifest.language}"><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="${CSP}"><style>${fontCss}
html,body{margin:0;padding:0;background:transparent;width:${width}px;height:${height}px;overflow:hidden}
.L{position:absolute;margin:0;padding:0;white-space:pre-wrap;overflow-wrap:normal;word-break:normal;hyphens:none;font-kerning:normal;text-rendering:geometricPrecision}
</style></head><body>${divs.join("")}</body></html>`;
  return { html, width, height, layers };
}
