import { readFile } from "node:fs/promises";
import sharp from "sharp";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { fixturePath } from "@faceapp/testkit";
import { placeFace } from "../../src/gpu/engines/composite.ts";
import { readMask } from "../../src/gpu/engines/drawn/page.ts";
import { drawFace, drawingReach } from "../../src/gpu/engines/drawn/style.ts";
import { variantFor } from "../../src/gpu/engines/drawn/variant.ts";
import {
  type Accepted,
  createAnalyzer,
  createCompositeEngine,
  FaceEngineError,
  type Point,
  type PersonalizeRequest,
} from "../../src/gpu/index.ts";
import { descriptor, distance, recognise, SAME_PERSON } from "../../src/gpu/analysis/likeness.ts";

// Real face-api models on a busy 2-core machine: the limit guards against hangs only.
vi.setConfig({ testTimeout: 120_000 });

const W = 640;
const H = 600;
const SKIN = "#f2c9a0";
const HAIR = "#6f4e37";
/** A page drawn as the demo books draw a child: a flat skin head, hair cap and fringe, dot eyes, a smile. */
const head = { cx: 320, cy: 270, r: 120 };
const inEllipse = (x: number, y: number) =>
  ((x - head.cx) / (head.r * 1.15)) ** 2 + ((y - head.cy) / (head.r * 1.3)) ** 2 <= 1;
/** The mask's bounding box in whole pixels: the page's face box, as the engine reads it. */
const box = (() => {
  const xs: number[] = [];
  const ys: number[] = [];
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++)
      if (inEllipse(x, y)) {
        xs.push(x);
        ys.push(y);
      }
  const [x0, y0] = [Math.min(...xs), Math.min(...ys)];
  return { x: x0, y: y0, width: Math.max(...xs) - x0 + 1, height: Math.max(...ys) - y0 + 1 };
})();

function pageSvg(): string {
  const { cx, r } = head;
  const top = head.cy - 0.08 * r;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}">
<rect width="${W}" height="${H}" fill="#fde0c0"/>
<path d="M ${cx - 1.7 * r} ${H} L ${cx - 0.9 * r} ${top + 1.1 * r} L ${cx + 0.9 * r} ${top + 1.1 * r} L ${cx + 1.7 * r} ${H} Z" fill="#2a9d8f"/>
<path d="M ${cx - 1.05 * r} ${top} A ${1.05 * r} ${1.1 * r} 0 0 1 ${cx + 1.05 * r} ${top} Z" fill="${HAIR}"/>
<circle cx="${cx}" cy="${head.cy}" r="${r}" fill="${SKIN}"/>
<circle cx="${cx - 0.35 * r}" cy="${top}" r="${0.09 * r}" fill="#222"/><circle cx="${cx + 0.35 * r}" cy="${top}" r="${0.09 * r}" fill="#222"/>
<path d="M ${cx - 0.35 * r} ${top + 0.4 * r} q ${0.35 * r} ${0.3 * r} ${0.7 * r} 0" stroke="#9d4b3a" stroke-width="${0.08 * r}" fill="none"/>
<path d="M ${cx - r} ${top - 0.1 * r} Q ${cx} ${top - 1.3 * r} ${cx + r} ${top - 0.1 * r} Q ${cx} ${top - 0.6 * r} ${cx - r} ${top - 0.1 * r} Z" fill="${HAIR}"/>
</svg>`;
}

let illustration: Buffer;
let mask: Buffer;
let before: Buffer;
let astronaut: Accepted;
let photographer: Accepted;
beforeAll(async () => {
  illustration = await sharp(Buffer.from(pageSvg())).removeAlpha().png().toBuffer();
  const m = Buffer.alloc(W * H);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) m[y * W + x] = inEllipse(x, y) ? 255 : 0;
  mask = await sharp(m, { raw: { width: W, height: H, channels: 1 } })
    .png()
    .toBuffer();
  before = await raw(illustration);
  // The photographer's face is small and turned: accepted here only to have a second person.
  const analyzer = await createAnalyzer({ minFaceSide: 0, minSharpness: 0 });
  const analyse = async (name: string) => {
    const outcome = await analyzer.analyze(await readFile(fixturePath(name)));
    if (!outcome.accepted) throw new Error(`${name} was refused: ${outcome.reason}`);
    return outcome;
  };
  astronaut = await analyse("face-astronaut.png");
  photographer = await analyse("face-camera-small.png");
});

async function raw(png: Buffer): Promise<Buffer> {
  return (await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true })).data;
}

function request(who: Accepted, seed: number, extra: Partial<PersonalizeRequest> = {}): PersonalizeRequest {
  return {
    faceCrop: who.faceCrop,
    landmarks: who.analysis.crop.landmarks,
    ...(who.analysis.crop.landmarks68 ? { landmarks68: who.analysis.crop.landmarks68 } : {}),
    illustration,
    mask,
    prompt: who.analysis.prompt,
    seed,
    ...extra,
  };
}

function insidePolygon(polygon: Point[], x: number, y: number): boolean {
  let inside = false;
  for (let i = 0, j = polygon.length - 1; i < polygon.length; j = i++) {
    const a = polygon[i]!;
    const b = polygon[j]!;
    if (a.y > y !== b.y > y && x < ((b.x - a.x) * (y - a.y)) / (b.y - a.y) + a.x) inside = !inside;
  }
  return inside;
}

/** Which pixels differ from the illustration (any channel). */
function changed(after: Buffer): Uint8Array {
  const out = new Uint8Array(W * H);
  for (let i = 0; i < out.length; i++)
    out[i] =
      after[i * 3] !== before[i * 3] || after[i * 3 + 1] !== before[i * 3 + 1] || after[i * 3 + 2] !== before[i * 3 + 2]
        ? 1
        : 0;
  return out;
}

const luma = (img: Buffer, i: number) => 0.299 * img[i * 3]! + 0.587 * img[i * 3 + 1]! + 0.114 * img[i * 3 + 2]!;
const hex = (s: string) => [1, 3, 5].map((k) => Number.parseInt(s.slice(k, k + 2), 16));

describe("composite face engine", () => {
  it("draws the face only inside its landmark outline, over the page's skin, keeping the page's hair", async () => {
    const engine = createCompositeEngine();
    for (const [who, seed, five] of [
      [astronaut, 1, false],
      [astronaut, 2, true],
      [photographer, 3, false],
    ] as const) {
      const req = request(who, seed, five ? { landmarks68: undefined } : {});
      const progress: number[] = [];
      const out = await engine.personalize({ ...req, onProgress: (p) => progress.push(p) });
      const meta = await sharp(out).metadata();
      expect([meta.format, meta.width, meta.height]).toEqual(["png", W, H]);
      expect(progress[0]).toBe(0);
      expect(progress.at(-1)).toBe(100);
      const after = await raw(out);
      const diff = changed(after);
      const { outline } = placeFace(req, box);
      const hair = hex(HAIR);
      let drawn = 0;
      let stray = 0;
      let hairTouched = 0;
      for (let y = 0; y < H; y++) {
        for (let x = 0; x < W; x++) {
          const i = y * W + x;
          if (before[i * 3] === hair[0] && before[i * 3 + 1] === hair[1] && before[i * 3 + 2] === hair[2] && diff[i])
            hairTouched++;
          if (!diff[i]) continue;
          drawn++;
          if (!inEllipse(x, y) || !insidePolygon(outline, x + 0.5, y + 0.5)) stray++;
        }
      }
      expect(stray).toBe(0);
      expect(hairTouched).toBe(0);
      // A whole face is drawn: most of the head's skin below the fringe.
      expect(drawn).toBeGreaterThan(0.5 * Math.PI * head.r ** 2 * 0.6);
    }
  });

  it("puts the eyes where the outline says, so the outline is the face's (checked by a detector)", async () => {
    const req = request(astronaut, 5);
    const out = await createCompositeEngine().personalize(req);
    const found = await recognise(out, box);
    if (!found) throw new Error("no face found on the page");
    const { eyes } = placeFace(req, box);
    const ipd = Math.hypot(eyes[1].x - eyes[0].x, eyes[1].y - eyes[0].y);
    for (const k of [0, 1]) {
      const seen = found.eyes[k]!;
      expect(Math.hypot(seen.x - eyes[k]!.x, seen.y - eyes[k]!.y)).toBeLessThan(0.3 * ipd);
    }
  });

  it("leaves no light ring at the edge: just inside it the page is not lighter than the skin just outside", async () => {
    const engine = createCompositeEngine();
    const skin = hex(SKIN);
    for (const seed of [1, 2, 3, 4]) {
      const after = await raw(await engine.personalize(request(astronaut, seed)));
      const diff = changed(after);
      const near = (x: number, y: number, want: number, reach: number) => {
        for (let dy = -reach; dy <= reach; dy++)
          for (let dx = -reach; dx <= reach; dx++) {
            const i = (y + dy) * W + x + dx;
            if (i >= 0 && i < diff.length && diff[i] === want) return true;
          }
        return false;
      };
      const inner: number[] = [];
      const outer: number[] = [];
      for (let y = 4; y < H - 4; y++) {
        for (let x = 4; x < W - 4; x++) {
          const i = y * W + x;
          if (diff[i] && near(x, y, 0, 3)) inner.push(luma(after, i));
          const isSkin = before[i * 3] === skin[0] && before[i * 3 + 1] === skin[1] && before[i * 3 + 2] === skin[2];
          if (!diff[i] && isSkin && near(x, y, 1, 3)) outer.push(luma(after, i));
        }
      }
      const mean = (xs: number[]) => xs.reduce((s, v) => s + v, 0) / xs.length;
      expect(inner.length).toBeGreaterThan(100);
      expect(outer.length).toBeGreaterThan(100);
      expect(mean(inner) - mean(outer)).toBeLessThan(4);
    }
  });

  it("draws another face for every seed, and the same face for the same seed", async () => {
    const engine = createCompositeEngine();
    const pages = await Promise.all([11, 12, 13, 14].map((seed) => engine.personalize(request(astronaut, seed))));
    expect((await engine.personalize(request(astronaut, 12))).equals(pages[1]!)).toBe(true);
    const images = await Promise.all(pages.map(raw));
    const faces = images.map(changed);
    for (let a = 0; a < images.length; a++) {
      for (let b = a + 1; b < images.length; b++) {
        // Visibly different: of the pixels either drawing covers, at least 15% differ by more than
        // 24 levels in a channel (the same face moved, turned, shaded and inked otherwise).
        let face = 0;
        let differing = 0;
        for (let i = 0; i < W * H; i++) {
          if (!faces[a]![i] && !faces[b]![i]) continue;
          face++;
          const d = Math.max(
            Math.abs(images[a]![i * 3]! - images[b]![i * 3]!),
            Math.abs(images[a]![i * 3 + 1]! - images[b]![i * 3 + 1]!),
            Math.abs(images[a]![i * 3 + 2]! - images[b]![i * 3 + 2]!),
          );
          if (d > 24) differing++;
        }
        expect(differing / face).toBeGreaterThan(0.15);
      }
    }
  });

  it("keeps the child recognisable: face-api's recogniser says same person, and tells another person apart", async () => {
    const engine = createCompositeEngine();
    const photo = await descriptor(await readFile(fixturePath("face-astronaut.png")));
    const other = await descriptor(await readFile(fixturePath("face-camera-small.png")));
    const figures: Record<string, number> = {};
    for (const seed of [1, 2, 3, 4, 5, 6]) {
      const page = await descriptor(await engine.personalize(request(astronaut, seed)), box);
      expect(page, `a face is found on the page of seed ${seed}`).not.toBeNull();
      figures[`seed ${seed}`] = await distance(photo!, page!);
      figures[`seed ${seed}, another person's photo`] = await distance(other!, page!);
    }
    console.info("likeness (descriptor distance, astronaut photo vs drawn page):", figures);
    for (const [name, d] of Object.entries(figures)) {
      if (name.includes("another")) expect(d, name).toBeGreaterThan(SAME_PERSON);
      else expect(d, name).toBeLessThan(SAME_PERSON);
    }
  });

  it("draws in the colours the book names, and still only over the page's skin", async () => {
    const engine = createCompositeEngine();
    const named = { skin: "#a0704f", shadow: "#5a3424", line: "#1030c0" };
    const hair = hex(HAIR);
    for (const seed of [21, 22]) {
      const plain = await raw(await engine.personalize(request(astronaut, seed)));
      const after = await raw(await engine.personalize(request(astronaut, seed, { colours: named })));
      const diff = changed(after);
      const plainDiff = changed(plain);
      // The drawing's middle tone is the named skin: the median drawn colour lies near it, far from
      // the page's own (which the same seed draws in without the name).
      const medianColour = (img: Buffer, drawn: Uint8Array) =>
        [0, 1, 2].map((c) => {
          const values: number[] = [];
          for (let i = 0; i < drawn.length; i++) if (drawn[i]) values.push(img[i * 3 + c]!);
          values.sort((a, b) => a - b);
          return values[values.length >> 1]!;
        });
      const gap = (a: number[], b: number[]) => Math.max(...a.map((v, k) => Math.abs(v - b[k]!)));
      expect(gap(medianColour(after, diff), hex(named.skin))).toBeLessThan(24);
      expect(gap(medianColour(plain, plainDiff), hex(SKIN))).toBeLessThan(24);
      // Its ink is the named line (blue), which the page's own tones never are; its darkest tones the
      // named shadow's (darker than anything the page's skin makes).
      let blue = 0;
      let plainBlue = 0;
      let shadowed = 0;
      let hairTouched = 0;
      for (let i = 0; i < diff.length; i++) {
        if (after[i * 3 + 2]! > after[i * 3]! + 40 && diff[i]) blue++;
        if (plainDiff[i] && plain[i * 3 + 2]! > plain[i * 3]! + 40) plainBlue++;
        if (diff[i] && gap([after[i * 3]!, after[i * 3 + 1]!, after[i * 3 + 2]!], hex(named.shadow)) < 16) shadowed++;
        if (diff[i] && before[i * 3] === hair[0] && before[i * 3 + 1] === hair[1] && before[i * 3 + 2] === hair[2])
          hairTouched++;
      }
      expect(blue).toBeGreaterThan(50);
      expect(plainBlue).toBe(0);
      expect(shadowed).toBeGreaterThan(50);
      expect(hairTouched).toBe(0);
    }
  });

  it("reads the face region of any mask as sharp's threshold(128) would (grey, colour with alpha, 16-bit, another size)", async () => {
    const colour = await sharp(
      Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="${W / 2}" height="${H / 2}">
        <rect width="100%" height="100%" fill="#203040"/><ellipse cx="150" cy="140" rx="70" ry="90" fill="#e0c0ff"/>
        <circle cx="250" cy="60" r="30" fill="#ffffff" fill-opacity="0.4"/><circle cx="60" cy="230" r="25" fill="#ff0000"/></svg>`),
    )
      .png()
      .toBuffer();
    const deep = new Uint16Array(W * H);
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) deep[y * W + x] = inEllipse(x, y) ? 40_000 : (x * 50) % 400;
    const grey16 = await sharp(Buffer.from(deep.buffer), { raw: { width: W, height: H, channels: 1 } })
      .toColourspace("grey16")
      .png()
      .toBuffer();
    for (const m of [mask, colour, grey16]) {
      // The plain reading: thresholded by sharp, then scanned pixel by pixel.
      const { data } = await sharp(m)
        .flatten({ background: "#000000" })
        .resize(W, H, { fit: "fill" })
        .threshold(128)
        .extractChannel(0)
        .raw()
        .toBuffer({ resolveWithObject: true });
      const white: number[] = [];
      for (let i = 0; i < W * H; i++) if (data[i] === 255) white.push(i);
      const xs = white.map((i) => i % W);
      const ys = white.map((i) => Math.floor(i / W));
      const want = { x: Math.min(...xs), y: Math.min(...ys), width: 0, height: 0 };
      want.width = Math.max(...xs) - want.x + 1;
      want.height = Math.max(...ys) - want.y + 1;
      const region = await readMask(m, W, H);
      expect(region.box).toEqual(want);
      const inside = new Uint8Array(want.width * want.height);
      for (const i of white) inside[(Math.floor(i / W) - want.y) * want.width + (i % W) - want.x] = 1;
      expect(Buffer.from(region.inside).equals(Buffer.from(inside))).toBe(true);
    }
  });

  it("draws a part of the face, grown by the drawing's reach, as it draws the whole", async () => {
    // The engine draws only around what shows; every pixel that shows must come out as before.
    const face = await sharp(astronaut.faceCrop).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const { width, height } = face.info;
    const [l, r, , ml, mr] = astronaut.analysis.crop.landmarks as Point[];
    const features = {
      eyes: [l!, r!] as [Point, Point],
      mouth: [ml!, mr!] as [Point, Point],
      ipd: Math.hypot(r!.x - l!.x, r!.y - l!.y),
    };
    const tones = { skin: hex(SKIN) as [number, number, number], line: [40, 30, 30] as [number, number, number] };
    const shows = (x: number, y: number) => ((x - 250) / 130) ** 2 + ((y - 290) / 150) ** 2 <= 1;
    const open = new Uint8Array(width * height).map((_, i) => (shows(i % width, Math.floor(i / width)) ? 1 : 0));
    for (const seed of [3, 8]) {
      const variant = variantFor(seed);
      const whole = await drawFace({ data: face.data, width, height }, open, tones, variant, features);
      const reach = drawingReach(variant, features.ipd);
      const win = { x: 120 - reach, y: 140 - reach, width: 261 + 2 * reach, height: 301 + 2 * reach };
      const part = (src: Uint8Array, channels: number) => {
        const out = new Uint8Array(win.width * win.height * channels);
        for (let y = 0; y < win.height; y++) {
          const from = ((win.y + y) * width + win.x) * channels;
          out.set(src.subarray(from, from + win.width * channels), y * win.width * channels);
        }
        return out;
      };
      const drawn = await drawFace(
        { data: part(face.data, 3), width: win.width, height: win.height },
        part(open, 1),
        tones,
        variant,
        { ...features, origin: win },
      );
      let shown = 0;
      let differing = 0;
      for (let y = 0; y < win.height; y++)
        for (let x = 0; x < win.width; x++) {
          if (!open[(win.y + y) * width + win.x + x]) continue;
          shown++;
          for (let c = 0; c < 3; c++)
            if (drawn[(y * win.width + x) * 3 + c] !== whole[((win.y + y) * width + win.x + x) * 3 + c]) differing++;
        }
      expect(shown).toBeGreaterThan(50_000);
      expect(differing).toBe(0);
    }
  });

  it("refuses an empty mask with a reason", async () => {
    const empty = await sharp({ create: { width: W, height: H, channels: 3, background: "#000" } })
      .png()
      .toBuffer();
    const error = await createCompositeEngine()
      .personalize(request(astronaut, 1, { mask: empty }))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FaceEngineError);
    expect(error).toMatchObject({ code: "invalid_input", message: "the page's face mask is empty" });
  });
});
