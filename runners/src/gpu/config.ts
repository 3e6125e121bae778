import type { RunnerEnv } from "../env.ts";
import { type Analyzer, createAnalyzer } from "./analysis/analyzer.ts";
import type { FaceApiWorker } from "./analysis/faceapi.ts";
import { createComfyEngine } from "./engines/comfyui/engine.ts";
import { createCompositeEngine } from "./engines/composite.ts";
import type { FaceEngine } from "./engines/types.ts";

/** The runner settings the GPU capabilities read (a slice of the parsed RunnerEnv). */
export type GpuEnv = Pick<
  RunnerEnv,
  | "FACE_ENGINE"
  | "COMFY_BASE_URL"
  | "COMFY_PROMPT_TIMEOUT_SECONDS"
  | "COMFY_WARMUP"
  | "IPADAPTER_STRENGTH_SCALE"
  | "VLM_BASE_URL"
  | "QWEN_MODEL_ID"
  | "INSIGHTFACE_HOME"
  | "MODELS_DIR"
>;

/**
 * Timings tests shorten: the server recheck, the first wait before a failed warm-up is tried again,
 * and how long face-api's worker thread stays without work before it ends (default 15 s).
 */
export interface EngineTuning {
  recheckMs?: number;
  warmUpRetryMs?: number;
  faceApiIdleMs?: number;
}

/** The face engine FACE_ENGINE names (the workflow is checked against its parameter map here). */
export function faceEngineFromEnv(env: GpuEnv, tuning: EngineTuning = {}): FaceEngine {
  if (env.FACE_ENGINE === "comfyui") {
    if (!env.COMFY_BASE_URL) throw new Error("FACE_ENGINE=comfyui needs COMFY_BASE_URL");
    return createComfyEngine({
      baseUrl: env.COMFY_BASE_URL,
      promptTimeoutMs: env.COMFY_PROMPT_TIMEOUT_SECONDS * 1000,
      strengthScale: env.IPADAPTER_STRENGTH_SCALE,
      warmUp: env.COMFY_WARMUP,
      ...tuning,
    });
  }
  return createCompositeEngine();
}

/**
 * The photo analyzer: insightface when its ONNX files are under INSIGHTFACE_HOME (or MODELS_DIR), else
 * face-api (in `faceApi`'s worker thread when given), the VLM when VLM_BASE_URL is set.
 */
export function analyzerFromEnv(env: GpuEnv, faceApi?: FaceApiWorker): Promise<Analyzer> {
  const home = env.INSIGHTFACE_HOME ?? env.MODELS_DIR;
  return createAnalyzer({
    ...(faceApi ? { faceApi } : {}),
    ...(home ? { insightfaceHome: home } : {}),
    ...(env.VLM_BASE_URL ? { vlm: { baseUrl: env.VLM_BASE_URL, model: env.QWEN_MODEL_ID } } : {}),
  });
}
