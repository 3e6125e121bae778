// The render runner's engines in the shape the job tasks expect (tasks/deps.ts): one typesetter per
// runner, print files assembled from the pages in the bucket and streamed back to it.

import type { S3Client } from "@aws-sdk/client-s3";
import { getObjectBytes, type PageId, type PrintFile } from "@faceapp/core";
import type { PageRenderer, PrintAssembler } from "../tasks/deps.ts";
import { assemblePrint, uploadPrintFiles } from "./assemble.ts";
import { renderPage } from "./page.ts";
import { Typesetter, type TypesetterOptions } from "./typesetter.ts";

export interface RenderEnginesOptions {
  s3: S3Client;
  bucket: string;
  /** From the runner's env: CHROMIUM_PATH, RENDER_BROWSER_MAX_PAGES, RENDER_BROWSER_IDLE_SECONDS and RENDER_TIMEOUT_SECONDS × 1000. */
  typesetter?: TypesetterOptions;
}

/** A PageRenderer and a PrintAssembler sharing one browser; `close()` ends the browser. */
export function createRenderEngines(options: RenderEnginesOptions): {
  renderer: PageRenderer;
  assembler: PrintAssembler;
  typesetter: Typesetter;
  close(): Promise<void>;
} {
  const typesetter = new Typesetter(options.typesetter);
  const get = (key: string | undefined, page: PageId) => {
    if (!key) throw new Error(`no stored image for ${page}`);
    return getObjectBytes(options.s3, options.bucket, key);
  };
  const renderer: PageRenderer = {
    render: (input) => renderPage(typesetter, input),
    close: () => typesetter.close(),
  };
  const assembler: PrintAssembler = {
    async assemble(input) {
      const assembled = await assemblePrint({
        manifest: input.manifest,
        variables: { child_name: input.childName },
        readPrint: (p) => get(input.printKeys.get(p), p),
        readWeb: (p) => get(input.webKeys.get(p), p),
        signal: input.signal,
      });
      try {
        const keyOf: Record<PrintFile, string> = {
          "block.pdf": input.outputKeys.block,
          "cover.pdf": input.outputKeys.cover,
          "pages.zip": input.outputKeys.zip,
        };
        input.signal.throwIfAborted();
        await uploadPrintFiles(options.s3, options.bucket, (f) => keyOf[f], assembled);
      } finally {
        await assembled.dispose();
      }
    },
  };
  return { renderer, assembler, typesetter, close: () => typesetter.close() };
}
