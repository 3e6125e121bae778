import type { GpuEnv } from "../../src/gpu/index.ts";

/** A gpu runner's parsed settings for tests: the composite engine, no VLM, no InsightFace, unless `over` says. */
export function gpuEnv(over: Partial<GpuEnv> = {}): GpuEnv {
  return {
    FACE_ENGINE: "composite",
    COMFY_BASE_URL: undefined,
    COMFY_PROMPT_TIMEOUT_SECONDS: 60,
    COMFY_WARMUP: true,
    IPADAPTER_STRENGTH_SCALE: 1,
    VLM_BASE_URL: undefined,
    QWEN_MODEL_ID: "Qwen/Qwen2-VL-2B-Instruct",
    INSIGHTFACE_HOME: undefined,
    MODELS_DIR: undefined,
    ...over,
  };
}
