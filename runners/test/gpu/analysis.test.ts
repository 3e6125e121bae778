import { readFile } from "node:fs/promises";
import { crc32, deflateSync } from "node:zlib";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PHOTO_LIMITS, photoShapeProblem } from "@faceapp/core";
import { fixturePath } from "@faceapp/testkit";
import { type Analyzer, createAnalyzer, createFaceApiDetector, createFaceApiWorker } from "../../src/gpu/index.ts";
import { recognise } from "../../src/gpu/analysis/likeness.ts";

const photo = (name: string) => readFile(fixturePath(name));

/** A PNG that declares `width`×`height` and holds a few bytes: a decompression bomb's header. */
function pngHeader(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, "ascii"), data]);
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([len, body, crc]);
  };
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr),
    chunk("IDAT", deflateSync(Buffer.alloc(1000))),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

let analyzer: Analyzer;
beforeAll(async () => {
  analyzer = await createAnalyzer();
});
afterAll(() => analyzer.close());

describe("photo analysis on face-api (no InsightFace models mounted)", () => {
  it("accepts the astronaut with one face, five landmarks, a crop and a prompt", async () => {
    const outcome = await analyzer.analyze(await photo("face-astronaut.png"));
    if (!outcome.accepted) throw new Error(`refused: ${outcome.reason}`);
    const { analysis, faceCrop } = outcome;
    expect(analysis.detector).toBe("face-api");
    expect(analysis.photo).toEqual({ width: 512, height: 512 });
    // The face sits in the upper middle of the photo.
    expect(analysis.face.box.x).toBeGreaterThan(120);
    expect(analysis.face.box.x + analysis.face.box.width).toBeLessThan(330);
    expect(analysis.face.box.y).toBeLessThan(150);
    expect(analysis.face.landmarks).toHaveLength(5);
    const [leftEye, rightEye, nose, mouthL, mouthR] = analysis.face.landmarks;
    expect(leftEye!.x).toBeLessThan(rightEye!.x);
    expect(nose!.y).toBeGreaterThan(leftEye!.y);
    expect(mouthL!.y).toBeGreaterThan(nose!.y);
    expect(mouthR!.x).toBeGreaterThan(mouthL!.x);
    expect(analysis.face.gender).toBe("female");
    expect(analysis.face.age).toBeGreaterThan(15);
    expect(analysis.quality.facesFound).toBe(1);
    const meta = await sharp(faceCrop).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(["png", 512, 512]);
    expect(analysis.crop.landmarks).toHaveLength(5);
    // face-api's 68 points are kept for the composite engine's outline: the chin (8) below the mouth,
    // the brows (19, 24) above the eyes, all inside the crop.
    const all = analysis.crop.landmarks68!;
    expect(all).toHaveLength(68);
    for (const p of all) expect(p.x >= 0 && p.y >= 0 && p.x < 512 && p.y < 512).toBe(true);
    const [cropLeftEye, cropRightEye, , , cropMouthR] = analysis.crop.landmarks;
    expect(all[8]!.y).toBeGreaterThan(cropMouthR!.y);
    expect(all[19]!.y).toBeLessThan(cropLeftEye!.y);
    expect(all[24]!.y).toBeLessThan(cropRightEye!.y);
    // Without a VLM only the detector speaks, and the record says so per field.
    expect(analysis.vlmProblem).toBe("no VLM configured");
    expect(analysis.description.gender).toBe("girl");
    expect(analysis.description.sources).toMatchObject({ gender: "detector", hair_colour: "none", eye_colour: "none" });
    expect(analysis.prompt).toContain("girl");
    expect(JSON.parse(JSON.stringify(analysis))).toEqual(analysis);
  });

  it("refuses the cat as a photo without a face", async () => {
    const outcome = await analyzer.analyze(await photo("noface-cat.png"));
    expect(outcome).toMatchObject({ accepted: false, reason: "no_face" });
    if (!outcome.accepted) expect(outcome.message).toMatch(/could not find a face/);
  });

  it("refuses the coffee as a photo without a face", async () => {
    expect(await analyzer.analyze(await photo("noface-coffee.png"))).toMatchObject({
      accepted: false,
      reason: "no_face",
    });
  });

  it("refuses the photographer's small, turned face as too small", async () => {
    const outcome = await analyzer.analyze(await photo("face-camera-small.png"));
    expect(outcome).toMatchObject({ accepted: false, reason: "face_too_small" });
    if (!outcome.accepted) expect(outcome.message).toMatch(/closer photo/);
  });

  it("applies EXIF orientation: a copy stored sideways with orientation 6 finds the same face", async () => {
    const upright = await analyzer.analyze(await photo("face-astronaut.png"));
    const sideways = await sharp(await photo("face-astronaut.png"))
      .rotate(-90)
      .jpeg({ quality: 95 })
      .withMetadata({ orientation: 6 })
      .toBuffer();
    expect((await sharp(sideways).metadata()).orientation).toBe(6);
    const rotated = await analyzer.analyze(sideways);
    if (!upright.accepted || !rotated.accepted) throw new Error("refused");
    expect(rotated.analysis.photo).toEqual({ width: 512, height: 512 });
    const a = upright.analysis.face.box;
    const b = rotated.analysis.face.box;
    expect(Math.abs(a.x - b.x)).toBeLessThan(12);
    expect(Math.abs(a.y - b.y)).toBeLessThan(12);
  });

  it("refuses two faces side by side as several faces", async () => {
    const astronaut = await photo("face-astronaut.png");
    const twice = await sharp({ create: { width: 1024, height: 512, channels: 3, background: "#ffffff" } })
      .composite([
        { input: astronaut, left: 0, top: 0 },
        { input: astronaut, left: 512, top: 0 },
      ])
      .png()
      .toBuffer();
    const outcome = await analyzer.analyze(twice);
    expect(outcome).toMatchObject({ accepted: false, reason: "several_faces", details: { faces: 2 } });
  });

  it("refuses a blurred face as too blurred", async () => {
    const blurred = await sharp(await photo("face-astronaut.png"))
      .blur(3)
      .png()
      .toBuffer();
    const outcome = await analyzer.analyze(blurred);
    expect(outcome).toMatchObject({ accepted: false, reason: "face_too_blurred" });
  });

  it("refuses a pixel bomb from its header, before decoding", async () => {
    const outcome = await analyzer.analyze(pngHeader(30_000, 30_000));
    expect(outcome).toMatchObject({ accepted: false, reason: "image_too_large" });
    if (!outcome.accepted) expect(outcome.message).toMatch(/at most 40 megapixels/);
  });

  it("refuses from the header every shape the api refuses (core's PHOTO_LIMITS, one set for both)", async () => {
    const { maxPixels, maxSide, maxAspect } = PHOTO_LIMITS;
    const shapes: [number, number][] = [
      [Math.ceil(Math.sqrt(maxPixels)) + 1, Math.ceil(Math.sqrt(maxPixels)) + 1], // just over the pixels
      [maxSide + 1, Math.ceil((maxSide + 1) / maxAspect)], // a side too long, pixels and aspect within
      [maxAspect * 1000 + 1, 1000], // a strip
      [1000, maxAspect * 1000 + 1],
    ];
    for (const [width, height] of shapes) {
      expect(photoShapeProblem(width, height), `${width}×${height}`).not.toBeNull();
      const outcome = await analyzer.analyze(pngHeader(width, height));
      expect(outcome, `${width}×${height}`).toMatchObject({ accepted: false, reason: "image_too_large" });
    }
  });

  it("refuses a truncated file and a non-image as unreadable", async () => {
    const truncated = (await photo("face-astronaut.png")).subarray(0, 5000);
    expect(await analyzer.analyze(truncated)).toMatchObject({ accepted: false, reason: "unreadable_image" });
    expect(await analyzer.analyze(Buffer.from("%PDF-1.7 not a photo"))).toMatchObject({
      accepted: false,
      reason: "unreadable_image",
    });
  });

  it("stops when its signal is aborted", async () => {
    await expect(
      analyzer.analyze(await photo("face-astronaut.png"), { signal: AbortSignal.abort() }),
    ).rejects.toThrow();
  });
});

describe("face-api's worker thread", () => {
  it("ends when idle, freeing its WebAssembly heap, and the next detection starts another with the same answer", async () => {
    const detector = await createFaceApiDetector({ idleMs: 300 });
    try {
      const { data, info } = await sharp(await photo("face-astronaut.png"))
        .removeAlpha()
        .raw()
        .toBuffer({ resolveWithObject: true });
      const image = () => ({ data: new Uint8Array(data), width: info.width, height: info.height });
      const first = await detector.detect(image());
      expect(first).toHaveLength(1);
      expect(first[0]!.landmarks).toHaveLength(5);
      expect(detector.threads()).toEqual({ started: 1, running: true });
      await new Promise((r) => setTimeout(r, 1_000));
      expect(detector.threads()).toEqual({ started: 1, running: false });
      expect(await detector.detect(image())).toEqual(first);
      expect(detector.threads()).toEqual({ started: 2, running: true });
    } finally {
      await detector.close();
    }
    expect(detector.threads().running).toBe(false);
  });

  it("detects the photo's faces and recognises a face (the likeness check) in one thread, one face-api", async () => {
    // Idle far longer than the test: a second thread would be one more face-api, not an idle end.
    const worker = createFaceApiWorker({ idleMs: 600_000 });
    try {
      const detector = await createFaceApiDetector({ worker });
      const png = await photo("face-astronaut.png");
      const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
      const [face] = await detector.detect({ data: new Uint8Array(data), width: info.width, height: info.height });
      const found = await recognise(png, undefined, worker);
      expect(found!.descriptor).toHaveLength(128);
      // The recogniser's eyes are where the detector's are.
      for (const [i, eye] of found!.eyes.entries()) {
        expect(Math.hypot(eye.x - face!.landmarks[i]!.x, eye.y - face!.landmarks[i]!.y)).toBeLessThan(10);
      }
      expect(worker.threads()).toEqual({ started: 1, running: true });
      const blank = await sharp({ create: { width: 256, height: 256, channels: 3, background: "#ff00ff" } })
        .png()
        .toBuffer();
      expect(await recognise(blank, undefined, worker)).toBeNull();
      expect(worker.threads()).toEqual({ started: 1, running: true });
    } finally {
      await worker.close();
    }
    expect(worker.threads().running).toBe(false);
  });
});
