import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import sharp from "sharp";
import { afterAll, describe, expect, it } from "vitest";
import { decodeGenderAge, genderAgeInput } from "../../src/gpu/analysis/insightface/genderage.ts";
import { anchorCenters, decodeScrfd, iou, nms, scrfdInput } from "../../src/gpu/analysis/insightface/scrfd.ts";
import type { RgbImage } from "../../src/gpu/analysis/types.ts";
import { applyAffine, arcfaceTemplate, similarityTransform, warpAffine } from "../../src/gpu/geometry.ts";
import { createAnalyzer, createInsightFaceDetectorFromFiles, findInsightFaceFiles } from "../../src/gpu/index.ts";
import { buildModel, type NodeSpec, tensor } from "./onnx-builder.ts";

const solidImage = (width: number, height: number, value: number): RgbImage => ({
  data: new Uint8Array(width * height * 3).fill(value),
  width,
  height,
});

describe("SCRFD pre-processing", () => {
  it("scales into the top-left of the square input, pads, normalises (v − 127.5) / 128, lays out NCHW", () => {
    const image: RgbImage = { data: new Uint8Array(4 * 2 * 3), width: 4, height: 2 };
    for (let i = 0; i < 8; i++) image.data.set([255, 127.5 | 0, 0], i * 3);
    const { tensor: t, scale } = scrfdInput(image, 8);
    expect(scale).toBe(2);
    const plane = 64;
    // Inside the scaled image (8×4): R, G, B planes.
    expect(t[0]).toBeCloseTo((255 - 127.5) / 128);
    expect(t[plane]).toBeCloseTo((127 - 127.5) / 128);
    expect(t[2 * plane]).toBeCloseTo(-127.5 / 128);
    expect(t[3 * 8 + 7]).toBeCloseTo((255 - 127.5) / 128);
    // Below it, rows 4..7 are padding.
    expect(t[4 * 8]).toBeCloseTo(-127.5 / 128);
    expect(t[7 * 8 + 7]).toBeCloseTo(-127.5 / 128);
  });
});

describe("SCRFD post-processing", () => {
  it("lays anchor centres out row by row, each repeated for the two anchors", () => {
    expect([...anchorCenters(16, 8)]).toEqual([0, 0, 0, 0, 8, 0, 8, 0, 0, 8, 0, 8, 8, 8, 8, 8]);
    expect(anchorCenters(640, 8)).toHaveLength(80 * 80 * 2 * 2);
  });

  it("decodes distances times the stride around the anchor, and maps back through the input scale", () => {
    const n = 2 * 2 * 2; // size 16, stride 8
    const scores = new Float32Array(n);
    const boxes = new Float32Array(n * 4);
    const keypoints = new Float32Array(n * 10);
    const i = 6; // cell (x 1, y 1), first anchor: centre (8, 8)
    scores[i] = 0.9;
    scores[0] = 0.3; // below the threshold
    boxes.set([0.5, 0.25, 1, 0.75], i * 4);
    keypoints.set([-0.5, -0.5, 0.5, -0.5, 0, 0, -0.25, 0.5, 0.25, 0.5], i * 10);
    const faces = decodeScrfd([{ stride: 8, scores, boxes, keypoints }], 16, 0.5, 0.5);
    expect(faces).toHaveLength(1);
    const [face] = faces;
    expect(face!.score).toBeCloseTo(0.9);
    // x1 = 8 − 4, y1 = 8 − 2, x2 = 8 + 8, y2 = 8 + 6; then ÷ 0.5.
    expect(face!.box).toEqual({ x: 8, y: 12, width: 24, height: 16 });
    expect(face!.landmarks[0]).toEqual({ x: 8, y: 8 });
    expect(face!.landmarks[1]).toEqual({ x: 24, y: 8 });
    expect(face!.landmarks[2]).toEqual({ x: 16, y: 16 });
    expect(face!.landmarks[4]).toEqual({ x: 20, y: 24 });
  });

  it("non-maximum suppression keeps the best of overlapping boxes and every separate one", () => {
    const f = (x: number, score: number) => ({ box: { x, y: 0, width: 10, height: 10 }, score });
    const kept = nms([f(1, 0.7), f(0, 0.9), f(50, 0.6), f(2, 0.8)], 0.4);
    expect(kept.map((k) => k.score)).toEqual([0.9, 0.6]);
    expect(iou(f(0, 1).box, f(5, 1).box)).toBeCloseTo(50 / 150);
  });
});

describe("five-point alignment", () => {
  it("recovers a similarity transform exactly and aligns the landmarks onto ArcFace's template", () => {
    const angle = Math.PI / 7;
    const k = 1.7;
    const truth = [
      k * Math.cos(angle),
      -k * Math.sin(angle),
      31,
      k * Math.sin(angle),
      k * Math.cos(angle),
      -12,
    ] as const;
    const src = arcfaceTemplate.map((p) => applyAffine([...truth], p));
    const m = similarityTransform(src, arcfaceTemplate);
    for (let i = 0; i < 5; i++) {
      const p = applyAffine(m, src[i]!);
      expect(p.x).toBeCloseTo(arcfaceTemplate[i]!.x, 6);
      expect(p.y).toBeCloseTo(arcfaceTemplate[i]!.y, 6);
    }
  });

  it("warps pixels by the transform (a marked pixel lands where the transform sends it)", () => {
    const image = solidImage(40, 40, 0);
    image.data.set([255, 255, 255], (10 * 40 + 20) * 3);
    const out = warpAffine(image, [1, 0, 5, 0, 1, 7], 40, 40);
    expect(out.data[(17 * 40 + 25) * 3]).toBe(255);
    expect(out.data[(10 * 40 + 20) * 3]).toBe(0);
  });
});

describe("genderage", () => {
  it("crops 1.5× the face box into 96×96 raw RGB and decodes [female, male, age/100]", () => {
    const t = genderAgeInput(solidImage(200, 200, 90), { x: 50, y: 50, width: 100, height: 100 });
    expect(t).toHaveLength(3 * 96 * 96);
    expect(t[0]).toBe(90); // 150 px around the box: still inside the image
    expect(decodeGenderAge(new Float32Array([0.1, 2, 0.063]))).toMatchObject({ gender: "male", age: 6 });
    expect(decodeGenderAge(new Float32Array([3, -1, 0.3])).gender).toBe("female");
  });
});

describe("insightface backend on onnxruntime-node", () => {
  let dir = "";
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /**
   * Tiny stand-ins for buffalo_l's files with the real interfaces: a 64×64 "SCRFD" whose nine outputs
   * are fixed tensors scaled by the input's maximum (so a black photo finds nothing), and a
   * "genderage" answering male, age 7.
   */
  async function writeModels(): Promise<string> {
    dir = await mkdtemp(path.join(tmpdir(), "insightface-"));
    const models = path.join(dir, "models", "buffalo_l");
    await mkdir(models, { recursive: true });
    const counts = { 8: 128, 16: 32, 32: 8 } as const;
    const initializers = [];
    const nodes: NodeSpec[] = [{ op: "ReduceMax", inputs: ["input.1"], outputs: ["peak"], ints: { keepdims: 0 } }];
    const outputs: Array<[string, number[]]> = [];
    for (const stride of [8, 16, 32] as const) {
      const scores = new Array(counts[stride]).fill(0.1);
      if (stride === 16) {
        scores[10] = 0.9; // cell (1, 1), centre (16, 16)
        scores[11] = 0.8; // the same cell's other anchor: suppressed by NMS
      }
      initializers.push(tensor(`s${stride}`, [counts[stride], 1], scores));
      nodes.push({ op: "Mul", inputs: [`s${stride}`, "peak"], outputs: [`score_${stride}`] });
      outputs.push([`score_${stride}`, [counts[stride], 1]]);
    }
    for (const [kind, width, value] of [
      ["bbox", 4, 1],
      ["kps", 10, 0.25],
    ] as const) {
      for (const stride of [8, 16, 32] as const) {
        initializers.push(
          tensor(`${kind}${stride}c`, [counts[stride], width], new Array(counts[stride] * width).fill(value)),
        );
        nodes.push({ op: "Identity", inputs: [`${kind}${stride}c`], outputs: [`${kind}_${stride}`] });
        outputs.push([`${kind}_${stride}`, [counts[stride], width]]);
      }
    }
    await writeFile(
      path.join(models, "det_10g.onnx"),
      buildModel({ inputs: [["input.1", [1, 3, 64, 64]]], outputs, initializers, nodes }),
    );
    await writeFile(
      path.join(models, "genderage.onnx"),
      buildModel({
        inputs: [["data", [1, 3, 96, 96]]],
        outputs: [["fc1", [1, 3]]],
        initializers: [tensor("answer", [1, 3], [0.2, 1.5, 0.07]), tensor("zero", [], [0])],
        nodes: [
          { op: "ReduceMean", inputs: ["data"], outputs: ["m"], ints: { keepdims: 0 } },
          { op: "Mul", inputs: ["m", "zero"], outputs: ["z"] },
          { op: "Add", inputs: ["answer", "z"], outputs: ["fc1"] },
        ],
      }),
    );
    return dir;
  }

  it("finds the model files under INSIGHTFACE_HOME and runs detection, NMS and genderage through sessions", async () => {
    const home = await writeModels();
    const files = await findInsightFaceFiles(home);
    expect(files).toEqual({
      detector: path.join(home, "models", "buffalo_l", "det_10g.onnx"),
      genderage: path.join(home, "models", "buffalo_l", "genderage.onnx"),
    });
    const detector = await createInsightFaceDetectorFromFiles({ ...files!, inputSize: 64 });
    try {
      expect(detector.name).toBe("insightface");
      // A white 128×128 photo: input scale 0.5, the peak input value ≈ 0.996 keeps the score ≈ 0.9.
      const faces = await detector.detect(solidImage(128, 128, 255));
      expect(faces).toHaveLength(1);
      const [face] = faces;
      expect(face!.score).toBeCloseTo(0.9 * (127.5 / 128), 5);
      // Centre (16, 16) ± 1 stride of 16, ÷ 0.5.
      expect(face!.box).toEqual({ x: 0, y: 0, width: 64, height: 64 });
      expect(face!.landmarks[0]).toEqual({ x: 40, y: 40 });
      expect(face!).toMatchObject({ gender: "male", age: 7 });
      // A black photo: every score scaled negative, nothing found.
      expect(await detector.detect(solidImage(128, 128, 0))).toEqual([]);
    } finally {
      await detector.close();
    }
  });

  it("is the analyzer's backend when INSIGHTFACE_HOME holds the models, its age and gender in the description", async () => {
    const home = dir || (await writeModels());
    const analyzer = await createAnalyzer({ insightfaceHome: home, insightfaceInputSize: 64, minSharpness: 0 });
    try {
      expect(analyzer.detector).toBe("insightface");
      const white = await sharp({ create: { width: 128, height: 128, channels: 3, background: "#ffffff" } })
        .png()
        .toBuffer();
      // The stand-in finds a 64 px face: too small for a real photo…
      expect(await analyzer.analyze(white)).toMatchObject({ accepted: false, reason: "face_too_small" });
      // …and accepted in a photo twice the size, described from genderage alone.
      const large = await sharp({ create: { width: 256, height: 256, channels: 3, background: "#ffffff" } })
        .png()
        .toBuffer();
      const outcome = await analyzer.analyze(large);
      if (!outcome.accepted) throw new Error(`refused: ${outcome.reason}`);
      expect(outcome.analysis).toMatchObject({
        detector: "insightface",
        face: { gender: "male", age: 7, box: { x: 0, y: 0, width: 128, height: 128 } },
        description: { gender: "boy", line: "a 7-year-old boy", sources: { gender: "detector", line: "detector" } },
      });
    } finally {
      await analyzer.close();
    }
  });

  it("reports no models where there are none", async () => {
    expect(await findInsightFaceFiles(path.join(tmpdir(), "no-such-insightface-home"))).toBeNull();
  });
});
