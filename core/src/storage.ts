import { S3Client } from "@aws-sdk/client-s3";

export interface S3Config {
  /** Unset for AWS itself; set for MinIO, Yandex, s3rver. */
  endpoint?: string | undefined;
  region: string;
  bucket: string;
  credentials?: { accessKeyId: string; secretAccessKey: string } | undefined;
}

/** An S3 client for the configured store; path-style addressing whenever an endpoint is named. */
export function createS3Client(config: S3Config): S3Client {
  return new S3Client({
    region: config.region,
    ...(config.endpoint ? { endpoint: config.endpoint, forcePathStyle: true } : {}),
    ...(config.credentials ? { credentials: config.credentials } : {}),
  });
}
