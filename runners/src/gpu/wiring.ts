import type { Logger } from "@faceapp/core";
import type { GpuEngines } from "../tasks/deps.ts";
import type { AnalysisRecord } from "./analysis/analyzer.ts";
import { Gauge } from "prom-client";
import { registerLikenessMetrics } from "../pipeline/likeness.ts";
import { createFaceApiWorker } from "./analysis/faceapi.ts";
import { descriptor } from "./analysis/likeness.ts";
import { analyzerFromEnv, type EngineTuning, faceEngineFromEnv, type GpuEnv } from "./config.ts";
import type { ComfyEngine } from "./engines/comfyui/engine.ts";
import { FaceEngineError } from "./engines/errors.ts";

/**
 * The GPU runner's analyzer, face engine and readiness in the shape the runner's tasks take
 * (runners/src/tasks/deps.ts), built from its env: a drop-in for the interim `createGpuEngines`.
 * face-api (the photo's detection without InsightFace, and the likeness check's recogniser) runs in
 * one worker thread, started when needed and ended when idle, so the runner's event loop never waits
 * on it and tfjs' memory is not kept at rest (`faceApi.threads()` says what it did, for tests).
 */
export async function createGpuCapabilities(
  env: GpuEnv,
  log?: Logger,
  tuning: EngineTuning = {},
): Promise<GpuEngines & { faceApi: { threads(): { started: number; running: boolean } } }> {
  const { faceApiIdleMs, ...engineTuning } = tuning;
  const faceApi = createFaceApiWorker(faceApiIdleMs === undefined ? {} : { idleMs: faceApiIdleMs });
  const analyzer = await analyzerFromEnv(env, faceApi);
  const engine = faceEngineFromEnv(env, engineTuning);
  log?.info(
    { detector: analyzer.detector, faceEngine: engine.name, vlm: Boolean(env.VLM_BASE_URL) },
    "gpu engines ready",
  );
  return {
    analyzer: {
      async analyze(photo, { signal }) {
        const outcome = await analyzer.analyze(photo, { signal });
        if (!outcome.accepted) return { ok: false, code: outcome.reason, message: outcome.message };
        return {
          ok: true,
          analysis: outcome.analysis as unknown as Record<string, unknown>,
          faceCrop: outcome.faceCrop,
          prompt: outcome.analysis.prompt,
        };
      },
    },
    faceEngine: {
      name: engine.name,
      async personalize(input) {
        const { landmarks, landmarks68 } = (input.analysis as Partial<AnalysisRecord>).crop ?? {};
        if (!landmarks) {
          throw new FaceEngineError("invalid_input", "the stored analysis has no face-crop landmarks", false);
        }
        return engine.personalize({
          faceCrop: input.faceCrop,
          landmarks,
          ...(landmarks68 ? { landmarks68 } : {}),
          illustration: input.illustration,
          mask: input.mask,
          ...(input.faceColours ? { colours: input.faceColours } : {}),
          prompt: input.prompt,
          ...(input.negativePrompt ? { negativePrompt: input.negativePrompt } : {}),
          seed: input.seed,
          signal: input.signal,
          onProgress: input.onProgress,
        });
      },
    },
    likeness: {
      async describe(image, region) {
        const found = await descriptor(image, region, faceApi);
        return found ? Array.from(found) : null;
      },
    },
    async readiness() {
      const { ready, ...details } = await engine.readiness();
      return { analyzer: { ok: true, detector: analyzer.detector }, faceEngine: { ok: ready, ...details } };
    },
    metrics(registry) {
      registerLikenessMetrics(registry);
      if (engine.name !== "comfyui") return;
      const comfy = engine as ComfyEngine;
      new Gauge({
        name: "faceapp_comfyui_warmup_seconds",
        help: "Seconds the gpu runner's warm-up prompt took (uploads and model loading included); absent until it has run",
        registers: [registry],
        collect() {
          const seconds = comfy.warmUpSeconds();
          // No series at all before the warm-up has run (a label-less gauge would otherwise say 0).
          if (seconds === undefined) this.remove();
          else this.set(seconds);
        },
      });
      new Gauge({
        name: "faceapp_comfyui_queue_depth",
        help: "Prompts pending or running in ComfyUI, read from its /prompt when scraped; absent while it does not answer",
        registers: [registry],
        async collect() {
          const depth = await comfy.queueDepth().catch(() => undefined);
          if (depth === undefined) this.remove();
          else this.set(depth);
        },
      });
    },
    faceApi: { threads: () => faceApi.threads() },
    async close() {
      await engine.close();
      await analyzer.close();
      await faceApi.close();
    },
  };
}
