import { sql } from "kysely";
import pino from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { createPostgresBus, createS3Client } from "@faceapp/core";
import { useTestBucket, useTestDatabase } from "@faceapp/testkit";
import { startComfyDouble } from "../../../testkit/src/doubles/comfyui.ts";
import { createGpuCapabilities } from "../../src/gpu/index.ts";
import { startRunner } from "../../src/runtime/runner.ts";
import { gpuTasks } from "../../src/tasks/index.ts";
import { gpuEnv } from "./gpu-env.ts";

// A gpu runner whose ComfyUI lacks a model says so on /readyz, takes no job, and starts working
// once the server lists the file (the models service finished).

const t = useTestDatabase();
const bucket = useTestBucket();

describe("a gpu runner in front of a ComfyUI without its models", () => {
  const closers: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const c of closers.reverse()) await c();
  });

  it("answers /readyz 503 naming the missing file, takes no job, and becomes ready when the file is listed", async () => {
    const double = await startComfyDouble();
    closers.push(() => double.close());
    double.removeModel("checkpoints", "dreamshaper_8.safetensors");
    const env = gpuEnv({ FACE_ENGINE: "comfyui", COMFY_BASE_URL: double.url });
    const engines = await createGpuCapabilities(env, undefined, { recheckMs: 0 });
    closers.push(() => engines.close());
    await sql`select graphile_worker.add_job('analyze_photo', '{}'::json, max_attempts => 1)`.execute(t.db);
    const runner = await startRunner({
      kind: "gpu",
      databaseUrl: t.url,
      deps: {
        pg: t,
        s3: createS3Client(bucket),
        s3Config: bucket,
        bus: createPostgresBus(t.sql),
        logger: pino({ level: "silent" }),
        ...engines,
      },
      tasks: gpuTasks,
      concurrency: 1,
      heartbeatSeconds: 1,
      staleAfterSeconds: 60,
      drainSeconds: 5,
      healthPort: 0,
      pollIntervalMs: 100,
      readiness: engines.readiness,
      waitUntilReady: true,
      readyPollMs: 100,
    });
    closers.push(() => runner.stop());
    const readyz = async () => {
      const res = await fetch(`http://127.0.0.1:${runner.healthPort}/readyz`);
      return { status: res.status, body: (await res.json()) as { checks: Record<string, Record<string, unknown>> } };
    };
    const attempts = async () =>
      (await sql<{ attempts: number }>`select attempts from graphile_worker.jobs`.execute(t.db)).rows[0]?.attempts;

    const before = await readyz();
    expect(before.status).toBe(503);
    expect(before.body.checks.faceEngine).toMatchObject({
      ok: false,
      reachable: true,
      comfyuiVersion: "0.8.1",
      problems: [
        "checkpoint dreamshaper_8.safetensors is not in models/checkpoints (node 1 CheckpointLoaderSimple, input ckpt_name)",
      ],
    });
    // Several readiness rounds pass; the job stays untouched.
    await new Promise((r) => setTimeout(r, 600));
    expect(runner.workerIds()).toEqual([]);
    expect(await attempts()).toBe(0);

    double.addModel("checkpoints", "dreamshaper_8.safetensors");
    await expect.poll(async () => (await readyz()).status, { timeout: 10_000 }).toBe(200);
    await expect.poll(attempts, { timeout: 10_000 }).toBe(1);
  });
});
