import type { S3Client } from "@aws-sdk/client-s3";
import type { Logger, S3Config } from "@faceapp/core";
import type { RunnerEnv } from "../env.ts";
import { createRenderEngines as createEngines } from "../render/index.ts";
import type { PageRenderer, PrintAssembler } from "../tasks/deps.ts";

export interface RenderEngines {
  renderer: PageRenderer;
  assembler: PrintAssembler;
  close(): Promise<void>;
}

/** One reused Chromium for the text layers; print files assembled from the bucket and streamed back. */
export async function createRenderEngines(
  env: RunnerEnv,
  log: Logger,
  s3: S3Client,
  s3Config: S3Config,
): Promise<RenderEngines> {
  const { renderer, assembler, close } = createEngines({
    s3,
    bucket: s3Config.bucket,
    typesetter: {
      executablePath: env.CHROMIUM_PATH,
      maxRendersPerBrowser: env.RENDER_BROWSER_MAX_PAGES,
      timeoutMs: env.RENDER_TIMEOUT_SECONDS * 1000,
      logger: log,
    },
  });
  return { renderer, assembler, close };
}
