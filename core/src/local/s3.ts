/// <reference path="../types/s3rver.d.ts" />
import fs from "node:fs";
import type { LocalService } from "./postgres.ts";
import { isListening } from "./net.ts";

export interface LocalS3Options {
  dir: string;
  /** 0 picks a free port. */
  port: number;
  bucket: string;
  /** Origins allowed to POST uploads and GET objects from a browser. */
  corsOrigins?: string[];
  onLog?: (line: string) => void;
}

/** Credentials s3rver accepts. */
export const localS3Credentials = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" } as const;

function corsXml(origins: string[]): string {
  const rules = origins
    .map(
      (origin) =>
        `<CORSRule><AllowedOrigin>${origin}</AllowedOrigin><AllowedMethod>GET</AllowedMethod><AllowedMethod>HEAD</AllowedMethod><AllowedMethod>POST</AllowedMethod><AllowedMethod>PUT</AllowedMethod><AllowedHeader>*</AllowedHeader><ExposeHeader>ETag</ExposeHeader><MaxAgeSeconds>3000</MaxAgeSeconds></CORSRule>`,
    )
    .join("");
  return `<CORSConfiguration>${rules}</CORSConfiguration>`;
}

/** An S3-compatible store (s3rver) with the bucket and its CORS rules, objects kept in `dir`. */
export async function startLocalS3(options: LocalS3Options): Promise<LocalService> {
  if (options.port && (await isListening(options.port))) {
    return { url: `http://127.0.0.1:${options.port}`, owned: false, stop: async () => {} };
  }
  fs.mkdirSync(options.dir, { recursive: true });
  // Imported here, not at the top: s3rver is a development dependency, absent from the production
  // image, where S3 is always configured and this is never reached.
  const { default: S3rver } = await import("s3rver");
  const server = new S3rver({
    address: "127.0.0.1",
    port: options.port,
    directory: options.dir,
    silent: true,
    vhostBuckets: false,
    configureBuckets: [{ name: options.bucket, configs: [corsXml(options.corsOrigins ?? ["*"])] }],
  });
  const { port } = (await server.run()) as { port: number };
  let stopped = false;
  return {
    url: `http://127.0.0.1:${port}`,
    owned: true,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await server.close();
    },
  };
}
