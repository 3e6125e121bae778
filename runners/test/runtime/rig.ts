// The runtime tests' rig: a render runner on the test file's own database and bucket, whose renderer
// and assembler are never called (its tasks are the test's own), and a poll for a condition.
import pino from "pino";
import { createPostgresBus, createS3Client, type S3Config } from "@faceapp/core";
import type { TestPg } from "@faceapp/testkit";
import { type RunnerOptions, startRunner } from "../../src/runtime/runner.ts";
import type { RenderDeps } from "../../src/tasks/deps.ts";
import { renderTasks } from "../../src/tasks/index.ts";
import { noWebhooks } from "../../src/webhooks/deliver.ts";

export function renderDeps(t: TestPg, bucket: S3Config): RenderDeps {
  const unused = async () => {
    throw new Error("not used by this test");
  };
  return {
    pg: t,
    s3: createS3Client(bucket),
    s3Config: bucket,
    bus: createPostgresBus(t.sql),
    logger: pino({ level: "silent" }),
    renderer: { render: unused, close: async () => {} },
    assembler: { assemble: unused },
    webhooks: noWebhooks,
  };
}

/** A render runner on `t` and `bucket` with short beats and polls, `over` replacing any option. */
export function renderRunner(t: TestPg, bucket: S3Config, over: Partial<RunnerOptions<RenderDeps>> = {}) {
  return startRunner({
    concurrency: 1,
    heartbeatSeconds: 1,
    staleAfterSeconds: 60,
    drainSeconds: 5,
    healthPort: 0,
    pollIntervalMs: 200,
    kind: "render",
    databaseUrl: t.url,
    tasks: renderTasks,
    ...over,
    deps: over.deps ?? renderDeps(t, bucket),
  });
}

/** Polls `probe` until it returns something truthy, and returns that. */
export async function waitFor<T>(probe: () => Promise<T | undefined | null | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 100));
  }
}
