import { GetObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";

export interface S3Config {
  /** Unset for AWS itself; set for MinIO, Yandex, s3rver. */
  endpoint?: string | undefined;
  region: string;
  bucket: string;
  credentials?: { accessKeyId: string; secretAccessKey: string } | undefined;
  /** S3_TIMEOUT_SECONDS: how long a request may send or receive nothing (default 30). */
  timeoutSeconds?: number | undefined;
}

/** An S3 client for the configured store; path-style addressing whenever an endpoint is named. */
export function createS3Client(config: S3Config): S3Client {
  const timeoutMs = (config.timeoutSeconds ?? 30) * 1000;
  return new S3Client({
    region: config.region,
    // The SDK waits forever by default: a store that accepts a request and never answers (a half-open
    // connection, a hung server) would hold the task, and its page, for good. An idle request is
    // abandoned instead, retried by the SDK, then by the job.
    requestHandler: { connectionTimeout: Math.min(timeoutMs, 5_000), socketTimeout: timeoutMs },
    // Checksums only where S3 requires them: the SDK's default streams bodies in aws-chunked framing
    // with trailing checksums, which S3-compatible stores (s3rver, older MinIO, Yandex) store verbatim.
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
    // The middleware stack is resolved once per command class instead of on every send (nothing here
    // changes a stack after the first request): ≈ 4 % of a render runner's CPU per page was spent
    // resolving the same stack again for each of its S3 requests.
    cacheMiddleware: true,
    ...(config.endpoint ? { endpoint: config.endpoint, forcePathStyle: true } : {}),
    ...(config.credentials ? { credentials: config.credentials } : {}),
  });
}

/** Reads a whole object (images and PDFs here are bounded: 15 MiB uploads, pages of a few MiB). */
export async function getObjectBytes(s3: S3Client, bucket: string, key: string): Promise<Buffer> {
  const result = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  if (!result.Body) throw new Error(`object ${key} has no body`);
  return Buffer.from(await result.Body.transformToByteArray());
}

/** Writes an object under a deterministic key (so a retried task overwrites, never doubles). */
export async function putObjectBytes(
  s3: S3Client,
  bucket: string,
  key: string,
  body: Buffer,
  contentType: string,
): Promise<void> {
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: contentType }));
}
