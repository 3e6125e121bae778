import sharp from "sharp";
import type { Box, Point } from "../analysis/types.ts";
import { type Affine, applyAffine, arcfaceTemplate, warpAffine } from "../geometry.ts";
import { faceOutline, fillPolygon } from "./drawn/outline.ts";
import { namedTones, pageTones, readMask, skinArea } from "./drawn/page.ts";
import { blurReach, drawFace, drawingReach } from "./drawn/style.ts";
import { type Variant, variantFor } from "./drawn/variant.ts";
import { FaceEngineError } from "./errors.ts";
import type { EngineReadiness, FaceEngine, PersonalizeRequest } from "./types.ts";

/** Where the feather's blur stops (sharp's default mask amplitude). */
const FEATHER_MIN_AMPLITUDE = 0.2;

/**
 * The bounds of the 1s of a `width`×`height` grid, grown by `margin` on every side and kept inside
 * the grid (at least one pixel, where the grid has no 1).
 */
function grownBounds(grid: Uint8Array, width: number, height: number, margin: number): Box {
  let [x0, y0, x1, y1] = [width, height, -1, -1];
  for (let y = 0; y < height; y++) {
    const row = grid.subarray(y * width, (y + 1) * width);
    const first = row.indexOf(1);
    if (first < 0) continue;
    x0 = Math.min(x0, first);
    x1 = Math.max(x1, row.lastIndexOf(1));
    y0 = Math.min(y0, y);
    y1 = y;
  }
  if (x1 < 0) return { x: 0, y: 0, width: 1, height: 1 };
  const [left, top] = [Math.max(0, x0 - margin), Math.max(0, y0 - margin)];
  return {
    x: left,
    y: top,
    width: Math.min(width - 1, x1 + margin) - left + 1,
    height: Math.min(height - 1, y1 + margin) - top + 1,
  };
}

export interface CompositeEngineConfig {
  /** Width of the feather inside the face's edge, as a share of the distance between the eyes; default 0.1. */
  feather?: number;
}

/** Where a seed puts the face on the page. */
export interface Placement {
  /** Face-crop pixels → page pixels. */
  transform: Affine;
  /** The face's outline (jaw and brows) in page pixels: nothing of the photo is drawn outside it. */
  outline: Point[];
  /** The eyes in page pixels. */
  eyes: [Point, Point];
  variant: Variant;
}

/**
 * The seed's placement of the face in the page's face box: the eyes where ArcFace's template,
 * fitted into the box, puts them (the eyes of a face that fills it), turned level, then tilted,
 * sized and shifted by the seed's variant.
 */
export function placeFace(
  request: Pick<PersonalizeRequest, "landmarks" | "landmarks68" | "seed">,
  box: Box,
): Placement {
  const variant = variantFor(request.seed);
  const side = Math.min(box.width, box.height);
  const k = side / 112;
  const ox = box.x + (box.width - side) / 2;
  const oy = box.y + (box.height - side) / 2;
  const [tl, tr] = arcfaceTemplate.map((p) => ({ x: ox + p.x * k, y: oy + p.y * k })) as [Point, Point];
  const [sl, sr] = request.landmarks as [Point, Point];
  const targetIpd = Math.hypot(tr.x - tl.x, tr.y - tl.y) * variant.scale;
  const sourceIpd = Math.hypot(sr.x - sl.x, sr.y - sl.y);
  const angle = variant.tilt - Math.atan2(sr.y - sl.y, sr.x - sl.x);
  const a = (Math.cos(angle) * targetIpd) / sourceIpd;
  const b = (Math.sin(angle) * targetIpd) / sourceIpd;
  const from = { x: (sl.x + sr.x) / 2, y: (sl.y + sr.y) / 2 };
  const to = { x: (tl.x + tr.x) / 2 + variant.shiftX * targetIpd, y: (tl.y + tr.y) / 2 + variant.shiftY * targetIpd };
  const transform: Affine = [a, -b, to.x - (a * from.x - b * from.y), b, a, to.y - (b * from.x + a * from.y)];
  const outline = faceOutline(request.landmarks, request.landmarks68, variant).map((p) => applyAffine(transform, p));
  return { transform, outline, eyes: [applyAffine(transform, sl), applyAffine(transform, sr)], variant };
}

/**
 * The CPU face engine draws the child rather than pasting the photo: the face is cut along its
 * jaw and brows (the detector's landmarks), placed by the eyes in the page's face box, redrawn in
 * the page's own skin and line colours (drawn/style.ts), and laid only over the illustration's skin
 * inside the mask, with the feather inside that edge. The page's hair, ears, outline and every pixel
 * outside the mask stay as drawn. Each seed is another drawing: tilt, size, palette, line weight,
 * crop of brows and jaw, cheeks (drawn/variant.ts).
 */
export function createCompositeEngine(config: CompositeEngineConfig = {}): FaceEngine {
  async function personalize(request: PersonalizeRequest): Promise<Buffer> {
    const { signal } = request;
    const progress = request.onProgress ?? (() => {});
    progress(0);
    if (request.landmarks.length !== 5) {
      throw new FaceEngineError("invalid_input", "the face crop needs its five landmarks", false);
    }
    const meta = await sharp(request.illustration).metadata();
    if (!meta.width || !meta.height) throw new FaceEngineError("invalid_input", "the illustration has no size", false);
    const region = await readMask(request.mask, meta.width, meta.height);
    const { box } = region;
    const [art, crop] = await Promise.all([
      sharp(request.illustration)
        .extract({ left: box.x, top: box.y, width: box.width, height: box.height })
        .removeAlpha()
        .toColourspace("srgb")
        .raw()
        .toBuffer(),
      sharp(request.faceCrop).removeAlpha().toColourspace("srgb").raw().toBuffer({ resolveWithObject: true }),
    ]);
    signal?.throwIfAborted();
    progress(20);

    const place = placeFace(request, box);
    const toBox = (p: Point) => ({ x: p.x - box.x, y: p.y - box.y });
    const ipd = Math.hypot(place.eyes[1].x - place.eyes[0].x, place.eyes[1].y - place.eyes[0].y);
    // Where the page draws skin is read from its pixels; the colours the face is drawn in are the
    // book's, where its manifest names them.
    const read = pageTones(art, region);
    const skin = skinArea(art, region, read.skin);
    const tones = namedTones(read, request.colours);
    const polygon = fillPolygon(place.outline.map(toBox), box.width, box.height);
    const inBox = new Uint8Array(polygon.length);
    for (let i = 0; i < inBox.length; i++) inBox[i] = region.inside[i]! & polygon[i]! & (skin ? skin[i]! : 1);
    signal?.throwIfAborted();
    progress(40);

    // Only the part of the box around what shows is drawn: as far past it as the drawing's filters
    // and the feather reach, so every pixel that shows is drawn as in a drawing of the whole box.
    const sigma = Math.max(0.6, (config.feather ?? 0.1) * ipd);
    const reach = Math.max(drawingReach(place.variant, ipd), blurReach(sigma, FEATHER_MIN_AMPLITUDE));
    const win = grownBounds(inBox, box.width, box.height, reach);
    const open = new Uint8Array(win.width * win.height);
    for (let y = 0; y < win.height; y++) {
      const from = (win.y + y) * box.width + win.x;
      open.set(inBox.subarray(from, from + win.width), y * win.width);
    }
    const local: Affine = [...place.transform];
    local[2] -= box.x;
    local[5] -= box.y;
    const face = { data: crop.data, width: crop.info.width, height: crop.info.height };
    const warped = warpAffine(face, local, win.width, win.height, win);
    const mouth = [request.landmarks[3]!, request.landmarks[4]!].map((p) => toBox(applyAffine(place.transform, p)));
    const drawn = await drawFace(warped, open, tones, place.variant, {
      eyes: [toBox(place.eyes[0]), toBox(place.eyes[1])],
      mouth: mouth as [Point, Point],
      ipd,
      origin: win,
    });
    signal?.throwIfAborted();
    progress(70);

    // The feather lies inside the edge: blurred, then rescaled so the edge itself is 0 and the
    // interior 1, and nothing outside the open area is touched.
    const opaque = new Uint8Array(open.length);
    for (let i = 0; i < open.length; i++) opaque[i] = open[i]! * 255;
    const blurred = await sharp(opaque, { raw: { width: win.width, height: win.height, channels: 1 } })
      .blur({ sigma, minAmplitude: FEATHER_MIN_AMPLITUDE })
      .toColourspace("b-w")
      .extractChannel(0)
      .raw()
      .toBuffer();
    const patch = Buffer.alloc(win.width * win.height * 4);
    for (let i = 0; i < open.length; i++) {
      if (!open[i]) continue;
      patch[i * 4] = drawn[i * 3]!;
      patch[i * 4 + 1] = drawn[i * 3 + 1]!;
      patch[i * 4 + 2] = drawn[i * 3 + 2]!;
      patch[i * 4 + 3] = Math.round(255 * Math.min(1, Math.max(0, (blurred[i]! - 127.5) / 127.5)));
    }
    // An intermediate file for the render runner: zlib level 3 is a third faster than 6 at the same size.
    const png = await sharp(request.illustration)
      .composite([
        {
          input: patch,
          raw: { width: win.width, height: win.height, channels: 4 },
          left: box.x + win.x,
          top: box.y + win.y,
        },
      ])
      .png({ compressionLevel: 3 })
      .toBuffer();
    signal?.throwIfAborted();
    progress(100);
    return png;
  }

  return {
    name: "composite",
    personalize,
    async readiness(): Promise<EngineReadiness> {
      return { engine: "composite", ready: true, status: "ready" };
    },
    async close() {},
  };
}
