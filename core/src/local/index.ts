import path from "node:path";
import type { S3Config } from "../storage.ts";
import { startLocalPostgres, type LocalService } from "./postgres.ts";
import { localS3Credentials, startLocalS3 } from "./s3.ts";

export { startLocalPostgres, type LocalService } from "./postgres.ts";
export { localS3Credentials, startLocalS3 } from "./s3.ts";
export { isListening, waitForPort } from "./net.ts";

export interface ServiceEnv {
  NODE_ENV?: string | undefined;
  DATABASE_URL?: string | undefined;
  AWS_ENDPOINT_URL?: string | undefined;
  AWS_ACCESS_KEY_ID?: string | undefined;
  AWS_SECRET_ACCESS_KEY?: string | undefined;
  AWS_REGION_NAME: string;
  S3_BUCKET_NAME: string;
  S3_TIMEOUT_SECONDS?: number | undefined;
  /** Fixed ports, so that every process of one machine shares one embedded Postgres and S3. */
  LOCAL_POSTGRES_PORT: number;
  LOCAL_S3_PORT: number;
}

type Log = (line: string) => void;

/** The apps' schemas refuse this first (`requiredInProduction`); here it is a last wall. */
function neverInProduction(env: ServiceEnv, variable: string): void {
  if (env.NODE_ENV === "production")
    throw new Error(`${variable} is unset: production never starts an embedded service`);
}

/** DATABASE_URL, or the embedded Postgres in the data folder (started, or joined when running). */
export async function resolveDatabase(env: ServiceEnv, dataDir: string, log: Log = () => {}): Promise<LocalService> {
  if (env.DATABASE_URL) return { url: env.DATABASE_URL, owned: false, stop: async () => {} };
  neverInProduction(env, "DATABASE_URL");
  return startLocalPostgres({ dataDir: path.join(dataDir, "postgres"), port: env.LOCAL_POSTGRES_PORT, onLog: log });
}

/** The configured S3, or s3rver in the data folder with the bucket and CORS rules. */
export async function resolveS3(
  env: ServiceEnv,
  dataDir: string,
): Promise<{ config: S3Config; stop(): Promise<void> }> {
  const base = { region: env.AWS_REGION_NAME, bucket: env.S3_BUCKET_NAME, timeoutSeconds: env.S3_TIMEOUT_SECONDS };
  if (env.AWS_ENDPOINT_URL) {
    const credentials =
      env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY
        ? { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY }
        : undefined;
    return { config: { ...base, endpoint: env.AWS_ENDPOINT_URL, credentials }, stop: async () => {} };
  }
  neverInProduction(env, "AWS_ENDPOINT_URL");
  const local = await startLocalS3({
    dir: path.join(dataDir, "s3"),
    port: env.LOCAL_S3_PORT,
    bucket: env.S3_BUCKET_NAME,
  });
  return { config: { ...base, endpoint: local.url, credentials: localS3Credentials }, stop: local.stop };
}

export interface ResolvedServices {
  databaseUrl: string;
  s3: S3Config;
  /** Stops the embedded services this process started (none when all were configured). */
  stop(): Promise<void>;
}

/** Both stores an app needs, configured or embedded. */
export async function resolveServices(
  env: ServiceEnv,
  dataDir: string,
  log: Log = () => {},
): Promise<ResolvedServices> {
  const database = await resolveDatabase(env, dataDir, log);
  const s3 = await resolveS3(env, dataDir);
  return {
    databaseUrl: database.url,
    s3: s3.config,
    stop: async () => {
      await s3.stop();
      await database.stop();
    },
  };
}
