import { createRequire } from "node:module";
import path from "node:path";
import type { DetectedFace, FaceDetector, Point, RgbImage } from "./types.ts";

const require = createRequire(import.meta.url);

// face-api's node-wasm bundle is CommonJS and re-exports tfjs; typed loosely on purpose (its d.ts
// describes the browser build).
interface FaceApiModule {
  tf: {
    setBackend(name: string): Promise<boolean>;
    ready(): Promise<void>;
    tensor3d(data: Int32Array, shape: [number, number, number], dtype: "int32"): { dispose(): void };
  };
  nets: Record<"tinyFaceDetector" | "faceLandmark68Net" | "ageGenderNet", { loadFromDisk(dir: string): Promise<void> }>;
  TinyFaceDetectorOptions: new (o: { inputSize: number; scoreThreshold: number }) => unknown;
  detectAllFaces(
    input: unknown,
    options: unknown,
  ): {
    withFaceLandmarks(): { withAgeAndGender(): Promise<FaceApiResult[]> };
  };
}
interface FaceApiResult {
  detection: { score: number; box: { x: number; y: number; width: number; height: number } };
  landmarks: { positions: Point[] };
  age: number;
  gender: "female" | "male";
  genderProbability: number;
}

let bundle: Promise<unknown> | undefined;
/** face-api's folder of model files, shipped in the npm package (offline). */
export const faceApiModels = path.join(path.dirname(require.resolve("@vladmandic/face-api/package.json")), "model");

/**
 * face-api's node-wasm bundle on tfjs's WebAssembly backend, once per process, with `nets` loaded
 * from its own model files (a net already loaded is not read again).
 */
export async function loadFaceApi(nets: string[]): Promise<unknown> {
  bundle ??= (async () => {
    const faceapi = require("@vladmandic/face-api/dist/face-api.node-wasm.js") as FaceApiModule;
    await faceapi.tf.setBackend("wasm");
    await faceapi.tf.ready();
    return faceapi;
  })();
  const faceapi = (await bundle) as {
    nets: Record<string, { isLoaded: boolean; loadFromDisk(dir: string): Promise<void> }>;
  };
  for (const net of nets) if (!faceapi.nets[net]!.isLoaded) await faceapi.nets[net]!.loadFromDisk(faceApiModels);
  return faceapi;
}

const load = async () =>
  (await loadFaceApi(["tinyFaceDetector", "faceLandmark68Net", "ageGenderNet"])) as FaceApiModule;

const mean = (points: Point[]): Point => ({
  x: points.reduce((s, p) => s + p.x, 0) / points.length,
  y: points.reduce((s, p) => s + p.y, 0) / points.length,
});

/** The five InsightFace points from the 68-point iBUG layout. */
export function fivePointsFrom68(p: Point[]): Point[] {
  return [mean(p.slice(36, 42)), mean(p.slice(42, 48)), p[30]!, p[48]!, p[54]!];
}

/**
 * The backend that works on every machine: face-api's tiny face detector (the SSD detector accepts the
 * cat photo of testkit/fixtures/photos at a score of 0.93), 68-point landmarks and age/gender, on tfjs WebAssembly with the models the
 * npm package ships.
 */
export async function createFaceApiDetector(options: { scoreThreshold?: number } = {}): Promise<FaceDetector> {
  const faceapi = await load();
  const detectorOptions = new faceapi.TinyFaceDetectorOptions({
    inputSize: 416,
    scoreThreshold: options.scoreThreshold ?? 0.5,
  });
  return {
    name: "face-api",
    async detect(image: RgbImage): Promise<DetectedFace[]> {
      const tensor = faceapi.tf.tensor3d(new Int32Array(image.data), [image.height, image.width, 3], "int32");
      try {
        const results = await faceapi.detectAllFaces(tensor, detectorOptions).withFaceLandmarks().withAgeAndGender();
        return results.map((r) => ({
          box: {
            x: r.detection.box.x,
            y: r.detection.box.y,
            width: r.detection.box.width,
            height: r.detection.box.height,
          },
          score: r.detection.score,
          landmarks: fivePointsFrom68(r.landmarks.positions),
          landmarks68: r.landmarks.positions.map((p) => ({ x: p.x, y: p.y })),
          age: r.age,
          gender: r.gender,
          genderScore: r.genderProbability,
        }));
      } finally {
        tensor.dispose();
      }
    },
    async close() {},
  };
}
