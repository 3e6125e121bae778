import type { S3Client } from "@aws-sdk/client-s3";
import type { LookupAll, Logger, ProgressBus, S3Config } from "@faceapp/core";
import type { Database } from "@faceapp/sql";
import type { Redis } from "ioredis";
import type { Kysely } from "kysely";
import type { ApiEnv } from "./config.ts";

/** What the api needs from the outside world; server.ts wires the real ones, tests their own. */
export interface AppDeps {
  db: Kysely<Database>;
  s3: S3Client;
  s3Config: S3Config;
  /** null when REDIS_URL is unset: rate limits fall back to memory and the catalog is not cached. */
  redis: Redis | null;
  env: Readonly<ApiEnv>;
  logger: Logger;
  /** Progress events: published after each state change, fanned out to this process's SSE streams. */
  bus: ProgressBus;
  /** Prefix of every Redis key this app writes; lets tests share one Redis. */
  redisPrefix?: string;
  /** Aborted when the process shuts down: long-lived responses (event streams) end. */
  closing?: AbortSignal;
  /** Resolves webhook hosts for the address check (default: the system resolver; tests give their own). */
  lookup?: LookupAll;
  /** The built web app (web/dist) to serve beside the api, when set. */
  webDist?: string | undefined;
}

/** The object store as the services see it. */
export interface Bucket {
  client: S3Client;
  config: S3Config;
  /** Signs the URLs handed to clients when they reach the store by another address. */
  presignClient?: S3Client | undefined;
}
