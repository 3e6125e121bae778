import { createRequire } from "node:module";
import path from "node:path";
import { Worker } from "node:worker_threads";
import type { DetectedFace, FaceDetector, Point, RgbImage } from "./types.ts";

const WORKER = new URL("./faceapi-worker.mjs", import.meta.url);

/** A face as the worker sends it: the 68-point landmarks unreduced. */
type WorkerFace = Omit<DetectedFace, "landmarks" | "landmarks68"> & { points: Point[] };
type Reply = { ready: true } | { id: number; faces: WorkerFace[] } | { id: number; error: string };

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
 * cat photo of testkit/fixtures/photos at a score of 0.93), 68-point landmarks and age/gender, on tfjs
 * WebAssembly with the models the npm package ships. It runs in a worker thread started on demand and
 * ended after `idleMs` without work (default 15 s), which frees its WebAssembly heap (≈ 200 MB after
 * a detection, never shrunk otherwise); the next detection starts another (≈ 1 s to load the models).
 */
export async function createFaceApiDetector(
  options: { scoreThreshold?: number; idleMs?: number } = {},
): Promise<FaceDetector & { threads(): { started: number; running: boolean } }> {
  const idleMs = options.idleMs ?? 15_000;
  let worker: { thread: Worker; ready: Promise<void> } | null = null;
  let started = 0;
  let nextId = 0;
  const pending = new Map<number, { resolve(f: WorkerFace[]): void; reject(e: Error): void }>();
  let idle: NodeJS.Timeout | undefined;

  const stop = async () => {
    const current = worker;
    worker = null;
    await current?.thread.terminate();
  };
  const start = () => {
    const thread = new Worker(WORKER, { workerData: { scoreThreshold: options.scoreThreshold ?? 0.5 } });
    started++;
    const ready = new Promise<void>((resolve, reject) => {
      thread.on("message", (reply: Reply) => {
        if ("ready" in reply) return resolve();
        const waiter = pending.get(reply.id);
        pending.delete(reply.id);
        if ("error" in reply) waiter?.reject(new Error(`face-api: ${reply.error}`));
        else waiter?.resolve(reply.faces);
      });
      // A worker that dies fails what it holds; the next detection starts another.
      const fail = (error: Error) => {
        if (worker?.thread === thread) worker = null;
        reject(error);
        for (const waiter of pending.values()) waiter.reject(error);
        pending.clear();
      };
      thread.on("error", fail);
      thread.on("exit", (code) => fail(new Error(`face-api worker exited (${code})`)));
    });
    ready.catch(() => {});
    return { thread, ready };
  };

  const detector = {
    name: "face-api" as const,
    /** Worker threads started so far, and whether one is running now (tests read it). */
    threads: () => ({ started, running: worker !== null }),
    async detect(image: RgbImage): Promise<DetectedFace[]> {
      clearTimeout(idle);
      worker ??= start();
      const { thread, ready } = worker;
      await ready;
      const id = nextId++;
      const faces = await new Promise<WorkerFace[]>((resolve, reject) => {
        pending.set(id, { resolve, reject });
        const data = new Uint8Array(image.data);
        thread.postMessage({ id, width: image.width, height: image.height, data }, [data.buffer]);
      }).finally(() => {
        if (pending.size === 0) idle = setTimeout(() => void stop(), idleMs).unref();
      });
      return faces.map(({ points, ...face }) => ({
        ...face,
        landmarks: fivePointsFrom68(points),
        landmarks68: points,
      }));
    },
    async close() {
      clearTimeout(idle);
      await stop();
    },
  };
  // Loaded once at start-up, as before: a broken install fails the runner's start, not a parent's photo.
  worker = start();
  await worker.ready;
  idle = setTimeout(() => void stop(), idleMs).unref();
  return detector;
}
