import { randomBytes } from "node:crypto";
import { CreateBucketCommand } from "@aws-sdk/client-s3";
import postgres from "postgres";
import { afterAll, beforeAll, describe, inject } from "vitest";
import { createS3Client, type S3Config } from "@faceapp/core";
import { localS3Credentials } from "@faceapp/core/local";
import { createPg, type Pg } from "@faceapp/sql";

import "./context.ts";
import { withDatabase } from "./urls.ts";

export { fixturePath } from "./fixtures.ts";

/**
 * Creates a fresh database, cloned from the migrated template (or empty, to test migrations
 * themselves). The caller drops it.
 */
export async function createTestDatabase(
  options: { empty?: boolean } = {},
): Promise<{ url: string; name: string; drop(): Promise<void> }> {
  const adminUrl = inject("adminDatabaseUrl");
  const name = `faceapp_t_${inject("runId")}_${randomBytes(4).toString("hex")}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    const template = options.empty ? "template0" : inject("templateDatabase");
    await admin.unsafe(`create database "${name}" template "${template}"`);
  } finally {
    await admin.end();
  }
  return {
    url: withDatabase(adminUrl, name),
    name,
    drop: async () => {
      const a = postgres(adminUrl, { max: 1, onnotice: () => {} });
      await a.unsafe(`drop database if exists "${name}" with (force)`);
      await a.end();
    },
  };
}

export interface TestPg extends Pg {
  url: string;
  name: string;
}

/** This test file's own database, migrated, dropped after the file. Use inside a describe or at top level. */
export function useTestDatabase(): TestPg {
  const handle = {} as TestPg;
  let drop: () => Promise<void> = async () => {};
  beforeAll(async () => {
    const created = await createTestDatabase();
    drop = created.drop;
    Object.assign(handle, createPg(created.url, { max: 5 }), { url: created.url, name: created.name });
  });
  afterAll(async () => {
    await handle.close?.();
    await drop();
  });
  return handle;
}

/** This test file's own bucket on the rig's s3rver. */
export function useTestBucket(): S3Config {
  const config: S3Config = {
    endpoint: inject("s3Endpoint"),
    region: "us-east-1",
    bucket: `t-${randomBytes(6).toString("hex")}`,
    credentials: { ...localS3Credentials },
  };
  beforeAll(async () => {
    await createS3Client(config).send(new CreateBucketCommand({ Bucket: config.bucket }));
  });
  return config;
}

/** The Redis URL of the run, or null when none is configured. */
export const redisUrl: string | null = inject("redisUrl");

/** A describe block that runs only with Redis, saying why it was skipped otherwise. */
export const describeWithRedis = redisUrl ? describe : describe.skip;

/** A unique key prefix so test files sharing one Redis never see each other's keys. */
export const redisPrefix = () => `t:${randomBytes(4).toString("hex")}:`;
export { skipAnalysis } from "./analysis.ts";
export {
  clearQueue,
  completeJob,
  failJobForGood,
  GRAPHILE_WORKER_CHECKED,
  refuseFirstFailureRecord,
  removeJob,
  setAttempts,
  takeJobAs,
  takeNewestJobAs,
} from "./queue.ts";
export { long, record, type ScenarioFigures } from "./report.ts";
export { sleep, waitUntil } from "./wait.ts";
export { seedBook, type TestBookOptions } from "./book.ts";
export { freePort, type Spawned, serviceEnv, spawnEntry, spawnRunner } from "./processes.ts";
export { readSse, type SseHandlers, type SseMessage, sseParser } from "./sse.ts";
