// Text fits: long names stay inside the safe zone, shrunk rather than cut; the rest of the page is untouched.

import sharp from "sharp";
import { afterAll, describe, expect, it } from "vitest";
import { background, layer, readBookFile, testManifest } from "./fixtures.ts";
import {
  fontFaceCss,
  type Manifest,
  type PageId,
  pageArt,
  pageDocument,
  PRINT_JPEG,
  type Rect,
  renderPage,
  safeRect,
  Typesetter,
} from "./imports.ts";

const typesetter = new Typesetter({ timeoutMs: 20_000 });
afterAll(() => typesetter.close());

const NAME_40 = "Maximilian-Alexander Montgomery-Smithson";
const NAME_40_ONE_WORD = "Оксанаоксанаоксанаоксанаоксанаоксанаокса";

/** The bounding box of a transparent PNG's non-transparent pixels, or null when it has none. */
async function inkBox(png: Buffer): Promise<Rect | null> {
  const { data, info } = await sharp(png).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  let [x0, y0, x1, y1] = [Infinity, Infinity, -1, -1];
  for (let y = 0; y < info.height; y++) {
    for (let x = 0; x < info.width; x++) {
      if (data[(y * info.width + x) * 4 + 3]! > 0) {
        x0 = Math.min(x0, x);
        x1 = Math.max(x1, x);
        y0 = Math.min(y0, y);
        y1 = Math.max(y1, y);
      }
    }
  }
  return x1 < 0 ? null : { left: x0, top: y0, width: x1 - x0 + 1, height: y1 - y0 + 1 };
}

const inside = (r: Rect, outer: Rect) =>
  r.left >= outer.left &&
  r.top >= outer.top &&
  r.left + r.width <= outer.left + outer.width &&
  r.top + r.height <= outer.top + outer.height;

async function typesetPage(manifest: Manifest, page: PageId, name: string) {
  const art = pageArt(manifest, page);
  const doc = pageDocument(manifest, page, art, { child_name: name }, await fontFaceCss(manifest, readBookFile));
  const safe = safeRect(manifest, page, art);
  return { safe, result: await typesetter.typeset(doc, safe) };
}

describe("a 40-character name", () => {
  const cases: [string, PageId, Parameters<typeof layer>[0]][] = [
    [
      "accent size in a narrow top-left box",
      "page_3",
      { template: "{child_name}", position: "top-left", size: "accent", box_width: 0.3 },
    ],
    [
      "huge, in one unbreakable word, centred",
      "page_4",
      { template: "{child_name}!", position: "center", size: 200, box_width: 0.5 },
    ],
    [
      "in the accent font at the bottom right, pushed off the page by its offset",
      "page_5",
      { template: "{child_name}", position: "bottom-right", font: "accent", size: 120, offset_x: 300, offset_y: 300 },
    ],
    [
      "on the front cover, above the title",
      "cover_front",
      { template: "{child_name}\n{child_name}", position: "top-center", size: "accent", font: "accent" },
    ],
    [
      "on the back cover, in a long paragraph",
      "cover_back",
      { template: `${"{child_name} ".repeat(30)}`, position: "middle-left", size: 40, box_width: 0.6 },
    ],
  ];
  for (const [what, page, spec] of cases) {
    it(`fits inside the safe zone: ${what}`, async () => {
      const manifest = testManifest({ [page]: [layer(spec)] });
      for (const name of [NAME_40, NAME_40_ONE_WORD]) {
        expect([...name].length).toBe(40);
        const { safe, result } = await typesetPage(manifest, page, name);
        expect(result.clips.length).toBeGreaterThan(0);
        for (const clip of result.clips) {
          expect(inside(clip.rect, safe)).toBe(true);
          const ink = await inkBox(clip.png);
          expect(ink).not.toBeNull();
          // Never cut: the ink keeps clear of the clip's edges (a cut glyph would touch them).
          expect(ink!.left).toBeGreaterThan(0);
          expect(ink!.top).toBeGreaterThan(0);
          expect(ink!.left + ink!.width).toBeLessThan(clip.rect.width);
          expect(ink!.top + ink!.height).toBeLessThan(clip.rect.height);
        }
        for (const l of result.layers) expect(l.scale).toBeLessThanOrEqual(1);
      }
    });
  }

  it("is shrunk only when it must be: a short name keeps the manifest's size", async () => {
    const manifest = testManifest({
      page_6: [layer({ template: "{child_name}", position: "top-left", size: "accent", box_width: 0.3 })],
    });
    expect((await typesetPage(manifest, "page_6", "Ія")).result.layers[0]!.scale).toBe(1);
    expect((await typesetPage(manifest, "page_6", NAME_40_ONE_WORD)).result.layers[0]!.scale).toBeLessThan(1);
  });
});

describe("the composed page", () => {
  // The print master is a 4:4:4 JPEG: each 8×8 block is coded on its own (no chroma shared across
  // blocks), so a block that no text box touches decodes exactly as the background's own JPEG does.
  it("is a 300 dpi 4:4:4 JPEG equal to the background's JPEG in every 8×8 block outside the text boxes", async () => {
    const manifest = testManifest({
      page_7: [
        layer({ template: "{child_name} went to the sea, and the sea said hello.", position: "bottom-center" }),
        layer({
          template: "{child_name}",
          position: "top-right",
          font: "accent",
          size: "accent",
          text_shadow: "4px 4px 8px #00000080",
        }),
      ],
      cover_front: [layer({ template: "{child_name} and the Sea", position: "top-center", size: "accent" })],
    });
    for (const page of ["page_7", "cover_front", "page_8"] as PageId[]) {
      const bg = await background(manifest, page);
      const out = await renderPage(typesetter, {
        manifest,
        page,
        background: bg,
        variables: { child_name: NAME_40 },
        readBookFile,
      });
      const meta = await sharp(out.print).metadata();
      expect([meta.format, meta.width, meta.height]).toEqual(["jpeg", out.width, out.height]);
      expect([meta.chromaSubsampling, meta.density]).toEqual(["4:4:4", 300]);
      const a = await sharp(out.print).raw().toBuffer({ resolveWithObject: true });
      const bgJpeg = await sharp(bg).removeAlpha().jpeg(PRINT_JPEG).toBuffer();
      const b = await sharp(bgJpeg).raw().toBuffer();
      expect(a.info.channels).toBe(3);
      // A block is "touched" when any of its pixels lies in a text box.
      const touched = (x: number, y: number) => {
        const [bx, by] = [x - (x % 8), y - (y % 8)];
        return out.textBoxes.some(
          (r) => bx < r.left + r.width && bx + 8 > r.left && by < r.top + r.height && by + 8 > r.top,
        );
      };
      let differentOutside = 0;
      let differentInside = 0;
      for (let y = 0; y < out.height; y++) {
        for (let x = 0; x < out.width; x++) {
          const i = (y * out.width + x) * 3;
          const same = a.data[i] === b[i] && a.data[i + 1] === b[i + 1] && a.data[i + 2] === b[i + 2];
          if (!same) touched(x, y) ? differentInside++ : differentOutside++;
        }
      }
      expect(differentOutside).toBe(0);
      // page_8 has no text: the print is the background's JPEG itself.
      if (page === "page_8") expect(differentInside).toBe(0);
      else expect(differentInside).toBeGreaterThan(1000);
      const web = await sharp(out.web).metadata();
      expect([web.format, web.width, web.height]).toEqual(["jpeg", 1200, 1200]);
    }
  });
});
