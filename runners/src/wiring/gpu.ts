import sharp from "sharp";
import type { Logger } from "@faceapp/core";
import type { RunnerEnv } from "../env.ts";
import type { Readiness } from "../runtime/health.ts";
import type { Analyzer, FaceEngine } from "../tasks/deps.ts";

export interface GpuEngines {
  analyzer: Analyzer;
  faceEngine: FaceEngine;
  readiness: Readiness;
  close(): Promise<void>;
}

// INTERIM until the gpu runner's analysis and face engines land (issue 5): decoding is real, the
// face is not looked for, and the illustration is copied as the background. Nothing here pretends.
export async function createGpuEngines(_env: RunnerEnv, _log: Logger): Promise<GpuEngines> {
  const analyzer: Analyzer = {
    async analyze(photo) {
      try {
        const image = sharp(photo, { limitInputPixels: 50_000_000 }).rotate();
        const { width, height } = await image.metadata();
        const side = Math.min(width ?? 0, height ?? 0);
        const faceCrop = await image
          .resize(Math.min(side, 512), Math.min(side, 512), { fit: "cover" })
          .png()
          .toBuffer();
        return { ok: true, analysis: { source: "none", width, height }, faceCrop, prompt: "a child" };
      } catch (error) {
        return {
          ok: false,
          code: "undecodable",
          message: `The photo could not be read (${String(error)}). Please choose another photo.`,
        };
      }
    },
  };
  const faceEngine: FaceEngine = { name: "copy", personalize: async ({ illustration }) => illustration };
  return { analyzer, faceEngine, readiness: async () => ({}), close: async () => {} };
}
