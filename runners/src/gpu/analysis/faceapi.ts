import { Worker } from "node:worker_threads";
import type { DetectedFace, FaceDetector, Point, RgbImage } from "./types.ts";

const WORKER = new URL("./faceapi-worker.mjs", import.meta.url);

/** A face as the worker's detection sends it: the 68-point landmarks unreduced. */
type WorkerFace = Omit<DetectedFace, "landmarks" | "landmarks68"> & { points: Point[] };
/** The largest face the worker's recogniser found: its descriptor and its 68 landmarks. */
export interface RecognisedFace {
  descriptor: Float32Array;
  points: Point[];
}
type Kind = "detect" | "recognise";
type Reply = { ready: true } | { id: number; result: unknown } | { id: number; error: string };

const mean = (points: Point[]): Point => ({
  x: points.reduce((s, p) => s + p.x, 0) / points.length,
  y: points.reduce((s, p) => s + p.y, 0) / points.length,
});

/** The five InsightFace points from the 68-point iBUG layout. */
export function fivePointsFrom68(p: Point[]): Point[] {
  return [mean(p.slice(36, 42)), mean(p.slice(42, 48)), p[30]!, p[48]!, p[54]!];
}

/**
 * face-api on tfjs WebAssembly, with the models its npm package ships, in a worker thread started on
 * demand and ended after `idleMs` without work (default 15 s): that frees its WebAssembly heap
 * (≈ 200 MB after a detection, never shrunk otherwise), and the caller's event loop never waits on a
 * network. The next request starts another (≈ 1 s to load the models). One thread, one face-api, for
 * the photo's detection and the likeness check's recognition; each kind's nets load on first use. The
 * thread does not keep the process alive while nothing waits on it.
 */
export interface FaceApiWorker {
  /** The photo's faces: the tiny detector, 68 landmarks (reduced to five here too), age and gender. */
  detect(image: RgbImage): Promise<DetectedFace[]>;
  /** The largest face the SSD detector finds, with its 128-number descriptor; null when none is. */
  recognise(image: RgbImage): Promise<RecognisedFace | null>;
  /** Starts the thread if none runs and waits until `kinds`' nets are loaded (a broken install throws). */
  warm(kinds: Kind[]): Promise<void>;
  /** Worker threads started so far, and whether one is running now (tests read it). */
  threads(): { started: number; running: boolean };
  close(): Promise<void>;
}

export function createFaceApiWorker(options: { scoreThreshold?: number; idleMs?: number } = {}): FaceApiWorker {
  const idleMs = options.idleMs ?? 15_000;
  let worker: { thread: Worker; ready: Promise<void> } | null = null;
  let started = 0;
  let nextId = 0;
  /** Callers waiting on the thread (loading included): while any do, it keeps the process alive. */
  let busy = 0;
  const pending = new Map<number, { resolve(result: unknown): void; reject(e: Error): void }>();
  let idle: NodeJS.Timeout | undefined;

  const stop = async () => {
    const current = worker;
    worker = null;
    await current?.thread.terminate();
  };
  const start = (preload: Kind[]) => {
    const thread = new Worker(WORKER, {
      workerData: { scoreThreshold: options.scoreThreshold ?? 0.5, preload },
    });
    started++;
    const ready = new Promise<void>((resolve, reject) => {
      thread.on("message", (reply: Reply) => {
        if ("ready" in reply) return resolve();
        const waiter = pending.get(reply.id);
        pending.delete(reply.id);
        if ("error" in reply) waiter?.reject(new Error(`face-api: ${reply.error}`));
        else waiter?.resolve(reply.result);
      });
      // A worker that dies fails what it holds; the next request starts another.
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
  /** Runs `work` on the running thread (started if none), then arms the idle end once nothing waits. */
  const using = async <T>(preload: Kind[], work: (thread: Worker) => Promise<T>): Promise<T> => {
    clearTimeout(idle);
    worker ??= start(preload);
    const { thread, ready } = worker;
    busy++;
    thread.ref();
    try {
      await ready;
      return await work(thread);
    } finally {
      if (--busy === 0) {
        worker?.thread.unref();
        idle = setTimeout(() => void stop(), idleMs).unref();
      }
    }
  };
  const request = <T>(kind: Kind, image: RgbImage) =>
    using([kind], (thread) => {
      const id = nextId++;
      return new Promise<T>((resolve, reject) => {
        pending.set(id, { resolve: resolve as (result: unknown) => void, reject });
        const data = new Uint8Array(image.data);
        thread.postMessage({ id, kind, width: image.width, height: image.height, data }, [data.buffer]);
      });
    });

  return {
    async detect(image) {
      const faces = await request<WorkerFace[]>("detect", image);
      return faces.map(({ points, ...face }) => ({
        ...face,
        landmarks: fivePointsFrom68(points),
        landmarks68: points,
      }));
    },
    recognise: (image) => request<RecognisedFace | null>("recognise", image),
    async warm(kinds) {
      // A thread already running loads other kinds' nets on their first request.
      await using(kinds, async () => {});
    },
    threads: () => ({ started, running: worker !== null }),
    async close() {
      clearTimeout(idle);
      await stop();
    },
  };
}

/**
 * The backend that works on every machine: face-api's tiny face detector (the SSD detector accepts the
 * cat photo of testkit/fixtures/photos at a score of 0.93), 68-point landmarks and age/gender, in
 * face-api's worker thread (`createFaceApiWorker`): its own, or `worker`, shared with the likeness
 * check (wiring.ts), whose idle time and score threshold then hold.
 */
export async function createFaceApiDetector(
  options: { scoreThreshold?: number; idleMs?: number; worker?: FaceApiWorker } = {},
): Promise<FaceDetector & { threads(): { started: number; running: boolean } }> {
  const worker = options.worker ?? createFaceApiWorker(options);
  // Loaded once at start-up, as before: a broken install fails the runner's start, not a parent's photo.
  await worker.warm(["detect"]);
  return {
    name: "face-api" as const,
    detect: (image) => worker.detect(image),
    threads: () => worker.threads(),
    close: () => worker.close(),
  };
}
