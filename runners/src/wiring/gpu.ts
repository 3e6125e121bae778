import type { Logger } from "@faceapp/core";
import type { RunnerEnv } from "../env.ts";
import { createGpuCapabilities } from "../gpu/wiring.ts";
import type { Readiness } from "../runtime/health.ts";
import type { Analyzer, FaceEngine } from "../tasks/deps.ts";

export interface GpuEngines {
  analyzer: Analyzer;
  faceEngine: FaceEngine;
  readiness: Readiness;
  close(): Promise<void>;
}

/** Face analysis (InsightFace when its models are mounted, else face-api) and the configured face engine. */
export function createGpuEngines(env: RunnerEnv, log: Logger): Promise<GpuEngines> {
  return createGpuCapabilities(env, log);
}
