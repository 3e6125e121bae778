// One render on a page of the pool: load the document, fit every layer (shrinking, never cutting),
// and screenshot only the text boxes, clipped to the safe area.

import { FinalError } from "@faceapp/core";
import type { Page } from "puppeteer-core";
import type { PageDocument } from "./html.ts";
import { intersect, mergeOverlapping, type Rect } from "./layout.ts";

/** A typeset page: transparent PNG clips at print pixels, and where each layer ended up. */
export interface Typeset {
  clips: { rect: Rect; png: Buffer }[];
  layers: { rect: Rect; fontPx: number; scale: number }[];
}

/** The text of a layer cannot fit its box even at a tiny size: the manifest is wrong; retrying will not help. */
/** Final: the same text, font and box never fit, whatever the attempt (retrying cannot help). */
export class TextDoesNotFitError extends FinalError {
  override name = "TextDoesNotFitError";
}

/** The fitting step, run inside the page (by the DevTools protocol: page scripts stay disabled). */
interface FitInput {
  width: number;
  maxHeight: number;
  fontPx: number;
}

/** Where a render is, for the error that says a hung one was cut. */
export interface RenderStep {
  step: string;
}

export async function render(
  page: Page,
  doc: PageDocument,
  safe: Rect,
  at: RenderStep = { step: "" },
): Promise<Typeset> {
  at.step = "viewport";
  const viewport = page.viewport();
  if (viewport?.width !== doc.width || viewport.height !== doc.height) {
    await page.setViewport({ width: doc.width, height: doc.height, deviceScaleFactor: 1 });
  }
  at.step = "content";
  await page.setContent(doc.html, { waitUntil: "load" });
  at.step = "fit";
  const input: FitInput[] = doc.layers.map((l) => ({
    width: l.box.width,
    // Room for ascenders and descenders that reach past the line box.
    maxHeight: l.box.maxHeight - 0.25 * l.fontPx,
    fontPx: l.fontPx,
  }));
  const fitted = await page.evaluate(async (layers: FitInput[]) => {
    await document.fonts.ready;
    return layers.map((layer, i) => {
      const el = document.getElementById(`l${i}`) as HTMLElement;
      let size = layer.fontPx;
      let fits = false;
      for (let step = 0; step < 60; step++) {
        const h = Math.max(el.getBoundingClientRect().height, el.scrollHeight);
        const w = el.scrollWidth;
        const room = layer.maxHeight - 0.25 * (size - layer.fontPx);
        if (w <= layer.width + 0.5 && h <= room + 0.5) {
          fits = true;
          break;
        }
        // Width shrinks linearly with the size; height roughly with its square (lines × line height).
        const f = Math.min(w > layer.width ? layer.width / w : 1, h > room ? Math.sqrt(room / h) : 1, 0.98);
        size = Math.max(size * f, 1);
        el.style.fontSize = `${size}px`;
      }
      const r = el.getBoundingClientRect();
      return { fits, size, left: r.left, top: r.top, width: Math.max(r.width, el.scrollWidth), height: r.height };
    });
  }, input);

  const layers = fitted.map((f, i) => {
    if (!f.fits) throw new TextDoesNotFitError(`text layer ${i} does not fit its box`);
    return {
      rect: { left: f.left, top: f.top, width: f.width, height: f.height },
      fontPx: f.size,
      scale: f.size / doc.layers[i]!.fontPx,
    };
  });
  // Each clip: the layer's box with room for glyph overhang and shadows, never outside the safe area.
  const boxes = layers.map(({ rect, fontPx }) => {
    const pad = 0.3 * fontPx;
    const outer = {
      left: Math.floor(rect.left - pad),
      top: Math.floor(rect.top - pad),
      width: Math.ceil(rect.width + 2 * pad),
      height: Math.ceil(rect.height + 2 * pad),
    };
    return intersect(outer, safe);
  });
  const clips: Typeset["clips"] = [];
  for (const rect of mergeOverlapping(boxes.filter((b) => b.width > 0 && b.height > 0))) {
    at.step = "screenshot";
    const png = await page.screenshot({
      type: "png",
      omitBackground: true,
      captureBeyondViewport: false,
      optimizeForSpeed: true,
      clip: { x: rect.left, y: rect.top, width: rect.width, height: rect.height },
    });
    clips.push({ rect, png: Buffer.from(png) });
  }
  return { clips, layers };
}

/** A font Chromium drew some of a node's text with, and how many glyphs it drew. */
export interface PlatformFont {
  familyName: string;
  postScriptName: string;
  isCustomFont: boolean;
  glyphCount: number;
}

/** Loads a page document and asks DevTools which fonts drew each layer's text. */
export async function platformFonts(page: Page, doc: PageDocument, at: RenderStep): Promise<PlatformFont[][]> {
  at.step = "content";
  await page.setContent(doc.html, { waitUntil: "load" });
  await page.evaluate(() => document.fonts.ready.then(() => undefined));
  at.step = "fonts";
  const cdp = await page.createCDPSession();
  try {
    await cdp.send("DOM.enable");
    await cdp.send("CSS.enable");
    const { root } = await cdp.send("DOM.getDocument");
    const used: PlatformFont[][] = [];
    for (let i = 0; i < doc.layers.length; i++) {
      const { nodeId } = await cdp.send("DOM.querySelector", { nodeId: root.nodeId, selector: `#l${i}` });
      const { fonts } = await cdp.send("CSS.getPlatformFontsForNode", { nodeId });
      used.push(fonts);
    }
    return used;
  } finally {
    await cdp.detach().catch(() => {});
  }
}
