import { readdir } from "node:fs/promises";
import path from "node:path";
import * as ort from "onnxruntime-node";
import type { DetectedFace, FaceDetector, RgbImage } from "../types.ts";
import { decodeGenderAge, genderAgeInput } from "./genderage.ts";
import { decodeScrfd, nms, type StrideOutput, scrfdInput, scrfdStrides } from "./scrfd.ts";

export interface InsightFaceFiles {
  /** SCRFD with keypoints (buffalo_l's `det_10g.onnx`): nine outputs, scores/boxes/keypoints × strides 8, 16, 32. */
  detector: string;
  /** `genderage.onnx`: input 96×96, output [female, male, age/100]. */
  genderage?: string;
  /** Square detector input, default 640. */
  inputSize?: number;
  scoreThreshold?: number;
}

/** Finds buffalo_l's detector and genderage files under `home` (as mounted, or in `models/buffalo_l`). */
export async function findInsightFaceFiles(home: string): Promise<InsightFaceFiles | null> {
  const found: string[] = [];
  async function walk(dir: string, depth: number): Promise<void> {
    let entries: import("node:fs").Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const full = path.join(dir, e.name);
      if (e.isDirectory() && depth < 3) await walk(full, depth + 1);
      else if (e.isFile() && e.name.endsWith(".onnx")) found.push(full);
    }
  }
  await walk(home, 0);
  const detector = found.find((f) => /^(det_|scrfd)/.test(path.basename(f)));
  if (!detector) return null;
  const genderage = found.find((f) => path.basename(f) === "genderage.onnx");
  return genderage ? { detector, genderage } : { detector };
}

/** Runs SCRFD over an image and returns the faces after NMS, in image pixels. */
export async function runScrfd(
  session: ort.InferenceSession,
  image: RgbImage,
  size: number,
  threshold: number,
): Promise<Array<Pick<DetectedFace, "box" | "score" | "landmarks">>> {
  const { tensor, scale } = scrfdInput(image, size);
  const input = new ort.Tensor("float32", tensor, [1, 3, size, size]);
  const result = await session.run({ [session.inputNames[0]!]: input });
  const names = session.outputNames;
  if (names.length !== 9) throw new Error(`SCRFD model has ${names.length} outputs; expected 9 (with keypoints)`);
  const data = (i: number) => result[names[i]!]!.data as Float32Array;
  const outputs: StrideOutput[] = scrfdStrides.map((stride, i) => ({
    stride,
    scores: data(i),
    boxes: data(i + 3),
    keypoints: data(i + 6),
  }));
  return nms(decodeScrfd(outputs, size, scale, threshold), 0.4);
}

/** The insightface backend on explicit model files (the test's tiny models, or buffalo_l's). */
export async function createInsightFaceDetectorFromFiles(files: InsightFaceFiles): Promise<FaceDetector> {
  const options: ort.InferenceSession.SessionOptions = { intraOpNumThreads: 2, graphOptimizationLevel: "all" };
  const det = await ort.InferenceSession.create(files.detector, options);
  const ga = files.genderage ? await ort.InferenceSession.create(files.genderage, options) : null;
  const size = files.inputSize ?? 640;
  return {
    name: "insightface",
    async detect(image: RgbImage): Promise<DetectedFace[]> {
      const faces: DetectedFace[] = await runScrfd(det, image, size, files.scoreThreshold ?? 0.5);
      if (!ga) return faces;
      for (const face of faces) {
        const input = new ort.Tensor("float32", genderAgeInput(image, face.box), [1, 3, 96, 96]);
        const out = await ga.run({ [ga.inputNames[0]!]: input });
        Object.assign(face, decodeGenderAge(out[ga.outputNames[0]!]!.data as Float32Array));
      }
      return faces;
    },
    async close() {
      await det.release();
      await ga?.release();
    },
  };
}

/** The insightface backend when its models are under `home`, else null (the caller falls back to face-api). */
export async function createInsightFaceDetector(home: string, inputSize?: number): Promise<FaceDetector | null> {
  const files = await findInsightFaceFiles(home);
  return files ? createInsightFaceDetectorFromFiles(inputSize ? { ...files, inputSize } : files) : null;
}
