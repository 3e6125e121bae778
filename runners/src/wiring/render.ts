import type { S3Client } from "@aws-sdk/client-s3";
import sharp from "sharp";
import type { Logger, S3Config } from "@faceapp/core";
import type { RunnerEnv } from "../env.ts";
import type { PageRenderer, PrintAssembler } from "../tasks/deps.ts";

export interface RenderEngines {
  renderer: PageRenderer;
  assembler: PrintAssembler;
  close(): Promise<void>;
}

const escapeXml = (s: string) => s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);

// INTERIM until the render runner's typesetting and PDFs land (issue 6): text drawn with sharp (SVG).
export async function createRenderEngines(
  _env: RunnerEnv,
  _log: Logger,
  s3: S3Client,
  s3Config: S3Config,
): Promise<RenderEngines> {
  const renderer: PageRenderer = {
    async render({ manifest, page, background, variables }) {
      const cover = page.startsWith("cover");
      const width = cover ? 2800 : manifest.output.page_size_px;
      const height = cover ? 3000 : manifest.output.page_size_px;
      const text = escapeXml(`${variables.child_name}`);
      const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><text x="50%" y="90%" font-size="120" text-anchor="middle" font-family="DejaVu Sans">${text}</text></svg>`;
      const print = await sharp(background)
        .resize(width, height, { fit: "cover" })
        .composite([{ input: Buffer.from(svg) }])
        .png()
        .toBuffer();
      const web = await sharp(print).resize(1200).jpeg({ quality: 82 }).toBuffer();
      return { print, web };
    },
    close: async () => {},
  };
  const assembler: PrintAssembler = {
    async assemble() {
      throw new Error("print files need the render runner's PDF assembly (issue 6), which has not landed");
    },
  };
  return { renderer, assembler, close: async () => {} };
}
