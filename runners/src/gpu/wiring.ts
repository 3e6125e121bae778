import type { Logger } from "@faceapp/core";
import type { GpuEngines } from "../tasks/deps.ts";
import type { AnalysisRecord } from "./analysis/analyzer.ts";
import { descriptor } from "./analysis/likeness.ts";
import { analyzerFromEnv, faceEngineFromEnv, type GpuEnv } from "./config.ts";
import { FaceEngineError } from "./engines/errors.ts";

/**
 * The GPU runner's analyzer, face engine and readiness in the shape the runner's tasks take
 * (runners/src/tasks/deps.ts), built from its env: a drop-in for the interim `createGpuEngines`.
 */
export async function createGpuCapabilities(
  env: GpuEnv,
  log?: Logger,
  tuning: { recheckMs?: number } = {},
): Promise<GpuEngines> {
  const analyzer = await analyzerFromEnv(env);
  const engine = faceEngineFromEnv(env, tuning);
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
        const found = await descriptor(image, region);
        return found ? Array.from(found) : null;
      },
    },
    async readiness() {
      const { ready, ...details } = await engine.readiness();
      return { analyzer: { ok: true, detector: analyzer.detector }, faceEngine: { ok: ready, ...details } };
    },
    async close() {
      await engine.close();
      await analyzer.close();
    },
  };
}
