import { readFile } from "node:fs/promises";
import sharp from "sharp";
import { beforeAll, describe, expect, it } from "vitest";
import { fixturePath } from "@faceapp/testkit";
import { type Accepted, createAnalyzer, createCompositeEngine, FaceEngineError } from "../../src/gpu/index.ts";

const W = 640;
const H = 480;
/** The face region: a circle of radius 110 around (380, 220). */
const inMask = (x: number, y: number) => (x - 380) ** 2 + (y - 220) ** 2 <= 110 ** 2;

let illustration: Buffer;
let mask: Buffer;
let astronaut: Accepted;
beforeAll(async () => {
  // A drawn-looking page: smooth gradients with stripes, so any stray change outside the mask shows.
  const art = Buffer.alloc(W * H * 3);
  const m = Buffer.alloc(W * H);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const i = (y * W + x) * 3;
      art[i] = (x * 255) / W;
      art[i + 1] = (y * 255) / H;
      art[i + 2] = ((x + y) >> 4) % 2 ? 200 : 90;
      m[y * W + x] = inMask(x, y) ? 255 : 0;
    }
  }
  illustration = await sharp(art, { raw: { width: W, height: H, channels: 3 } })
    .png()
    .toBuffer();
  mask = await sharp(m, { raw: { width: W, height: H, channels: 1 } })
    .png()
    .toBuffer();
  const analyzer = await createAnalyzer();
  const outcome = await analyzer.analyze(await readFile(fixturePath("face-astronaut.png")));
  if (!outcome.accepted) throw new Error("the astronaut was refused");
  astronaut = outcome;
});

const raw = async (png: Buffer) => (await sharp(png).raw().toBuffer({ resolveWithObject: true })).data;

describe("composite face engine", () => {
  it("puts the face inside the mask and leaves every pixel outside it as drawn", async () => {
    const engine = createCompositeEngine();
    const progress: number[] = [];
    const out = await engine.personalize({
      faceCrop: astronaut.faceCrop,
      landmarks: astronaut.analysis.crop.landmarks,
      illustration,
      mask,
      prompt: astronaut.analysis.prompt,
      seed: 1,
      onProgress: (p) => progress.push(p),
    });
    const meta = await sharp(out).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(["png", W, H]);
    const before = await raw(illustration);
    const after = await raw(out);
    let outsideChanged = 0;
    let insideDiff = 0;
    let inside = 0;
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const i = (y * W + x) * 3;
        const d =
          Math.abs(after[i]! - before[i]!) +
          Math.abs(after[i + 1]! - before[i + 1]!) +
          Math.abs(after[i + 2]! - before[i + 2]!);
        if (inMask(x, y)) {
          insideDiff += d;
          inside++;
        } else if (d !== 0) outsideChanged++;
      }
    }
    expect(outsideChanged).toBe(0);
    expect(insideDiff / inside).toBeGreaterThan(30);
    expect(progress[0]).toBe(0);
    expect(progress.at(-1)).toBe(100);

    // A face detector finds the face on the page, and inside the mask.
    const analyzer = await createAnalyzer({ minSharpness: 0 });
    const found = await analyzer.analyze(out);
    if (!found.accepted) throw new Error(`no face on the page: ${found.reason}`);
    const { box, landmarks } = found.analysis.face;
    expect(inMask(box.x + box.width / 2, box.y + box.height / 2)).toBe(true);
    for (const p of landmarks) expect(inMask(p.x, p.y)).toBe(true);
  });

  it("refuses an empty mask with a reason", async () => {
    const empty = await sharp({ create: { width: W, height: H, channels: 3, background: "#000" } })
      .png()
      .toBuffer();
    const error = await createCompositeEngine()
      .personalize({
        faceCrop: astronaut.faceCrop,
        landmarks: astronaut.analysis.crop.landmarks,
        illustration,
        mask: empty,
        prompt: "",
        seed: 1,
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FaceEngineError);
    expect(error).toMatchObject({ code: "invalid_input", message: "the page's face mask is empty" });
  });
});
