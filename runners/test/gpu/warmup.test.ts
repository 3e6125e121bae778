import { sql } from "kysely";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { createPostgresBus, createS3Client } from "@faceapp/core";
import { clearQueue, useTestBucket, useTestDatabase } from "@faceapp/testkit";
import { type ComfyDouble, startComfyDouble } from "../../../testkit/src/doubles/comfyui.ts";
import { createGpuCapabilities } from "../../src/gpu/index.ts";
import type { EngineTuning } from "../../src/gpu/config.ts";
import { startRunner } from "../../src/runtime/runner.ts";
import { gpuTasks } from "../../src/tasks/index.ts";
import { gpuEnv } from "./gpu-env.ts";

// At start the gpu runner sends ComfyUI one warm-up prompt (the face workflow, small, one step), says
// `warming` on /readyz (503) and takes no job until it has run; then `ready` (200) with ComfyUI's
// queue depth. A failed warm-up says why and is tried again. /metrics shows the warm-up's seconds and
// the queue depth. All through the strict ComfyUI double, which validates the prompt as execution.py.

const t = useTestDatabase();
const bucket = useTestBucket();

type Ready = {
  status: string;
  engine?: string;
  queueDepth?: number;
  reason?: string;
  checks: Record<string, Record<string, unknown>>;
};

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
  await clearQueue(t);
});

async function gpuRunner(
  double: ComfyDouble,
  options: { env?: Parameters<typeof gpuEnv>[0]; tuning?: EngineTuning } = {},
) {
  const env = gpuEnv({ FACE_ENGINE: "comfyui", COMFY_BASE_URL: double.url, ...options.env });
  const engines = await createGpuCapabilities(env, undefined, { recheckMs: 0, ...options.tuning });
  closers.push(() => engines.close());
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
    ...(engines.metrics ? { metrics: engines.metrics } : {}),
  });
  closers.push(() => runner.stop());
  const base = `http://127.0.0.1:${runner.healthPort}`;
  return {
    runner,
    async readyz() {
      const res = await fetch(`${base}/readyz`);
      return { code: res.status, body: (await res.json()) as Ready };
    },
    async metrics() {
      const res = await fetch(`${base}/metrics`);
      expect(res.status).toBe(200);
      return res.text();
    },
  };
}

const attempts = async () =>
  (await sql<{ attempts: number }>`select attempts from graphile_worker.jobs`.execute(t.db)).rows[0]?.attempts;

/** A metric's value from the Prometheus text, undefined when the series is absent. */
function metric(text: string, name: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return line === undefined ? undefined : Number(line.split(" ").at(-1));
}

describe("the gpu runner's warm-up", () => {
  it("says warming (503) and takes no job until the warm-up prompt has run, then ready (200) with the queue depth", async () => {
    const double = await startComfyDouble();
    closers.push(() => double.close());
    // The warm-up prompt holds at its first step until resumed: the runner is caught warming.
    double.pause();
    const started = new Promise<string>((resolve) => double.once("started", resolve));
    await sql`select graphile_worker.add_job('analyze_photo', '{}'::json, max_attempts => 1)`.execute(t.db);
    const { runner, readyz, metrics } = await gpuRunner(double);

    const promptId = await started;
    const warming = await readyz();
    expect(warming.code).toBe(503);
    expect(warming.body).toMatchObject({
      status: "warming",
      engine: "comfyui",
      queueDepth: 1,
      reason: "faceEngine: warming up: ComfyUI is loading the models for a first small prompt",
    });
    expect(warming.body.checks.faceEngine).toMatchObject({ ok: false, status: "warming", reachable: true });
    const before = await metrics();
    expect(metric(before, "faceapp_comfyui_queue_depth")).toBe(1);
    expect(metric(before, "faceapp_comfyui_warmup_seconds")).toBeUndefined();
    expect(metric(before, "faceapp_runner_taking_jobs")).toBe(0);
    // Several readiness rounds pass while it warms; the job stays untouched.
    await new Promise((r) => setTimeout(r, 500));
    expect(runner.workerIds()).toEqual([]);
    expect(await attempts()).toBe(0);

    double.resume();
    await expect.poll(async () => (await readyz()).code, { timeout: 20_000 }).toBe(200);
    const ready = await readyz();
    expect(ready.body).toMatchObject({ status: "ready", engine: "comfyui", queueDepth: 0 });
    expect(ready.body.reason).toBeUndefined();
    expect(ready.body.checks.faceEngine).toMatchObject({
      ok: true,
      status: "ready",
      warmUpSeconds: expect.any(Number),
    });
    await expect.poll(attempts, { timeout: 20_000 }).toBe(1);

    // The strict double accepted and ran the warm-up prompt: the face workflow at one sampler step,
    // its three images uploaded first (LoadImage refuses a file that is not in the input folder).
    expect(double.records.get(promptId)?.outcome).toBe("success");
    const history = (await (await fetch(`${double.url}/history/${promptId}`)).json()) as Record<
      string,
      { prompt: [number, string, Record<string, { class_type: string; inputs: Record<string, unknown> }>] }
    >;
    const graph = history[promptId]!.prompt[2];
    expect(graph["18"]).toMatchObject({ class_type: "KSampler", inputs: { steps: 1 } });
    const images = Object.values(graph)
      .filter((n) => n.class_type === "LoadImage")
      .map((n) => String(n.inputs.image));
    expect(images).toHaveLength(3);
    for (const name of images) {
      expect(name).toMatch(/^faceapp-warmup-(child|art|mask)-/);
      expect(double.inputs.has(name)).toBe(true);
    }

    const after = await metrics();
    expect(metric(after, "faceapp_comfyui_warmup_seconds")).toBeGreaterThan(0);
    expect(metric(after, "faceapp_comfyui_queue_depth")).toBe(0);
    await expect.poll(async () => metric(await metrics(), "faceapp_runner_taking_jobs")).toBe(1);
    expect(after).toContain("# HELP faceapp_comfyui_warmup_seconds");
  });

  it("reports a failed warm-up with ComfyUI's reason, tries again, and turns ready once it runs", async () => {
    const double = await startComfyDouble();
    closers.push(() => double.close());
    double.failNode("IPAdapterFaceID", "InsightFace: No face detected.");
    const failed = new Promise<void>((resolve) =>
      double.once("finished", (_id: string, outcome: string) => outcome === "error" && resolve()),
    );
    const { runner, readyz } = await gpuRunner(double, { tuning: { warmUpRetryMs: 200 } });
    await failed;
    await expect.poll(async () => (await readyz()).body.status, { timeout: 20_000 }).toBe("unavailable");
    const down = await readyz();
    expect(down.code).toBe(503);
    expect(down.body.engine).toBe("comfyui");
    expect(down.body.reason).toMatch(
      /^faceEngine: the warm-up prompt failed \(\d+ times?\): ComfyUI failed at node 17 \(IPAdapterFaceID, "IPAdapter FaceID"\): InsightFace: No face detected\.; next try in \d+ s$/,
    );
    expect(runner.workerIds()).toEqual([]);

    double.failing.clear();
    await expect.poll(async () => (await readyz()).code, { timeout: 20_000 }).toBe(200);
    const outcomes = [...double.records.values()].map((r) => r.outcome);
    expect(outcomes.at(-1)).toBe("success");
    expect(outcomes.filter((o) => o === "error").length).toBeGreaterThanOrEqual(1);
  });

  it("says unavailable with the reason while ComfyUI does not answer, and warms once it does", async () => {
    const double = await startComfyDouble();
    closers.push(() => double.close());
    await double.stop();
    const { readyz } = await gpuRunner(double, { tuning: { warmUpRetryMs: 100 } });
    const down = await readyz();
    expect(down.code).toBe(503);
    expect(down.body).toMatchObject({
      status: "unavailable",
      reason: "faceEngine: ComfyUI is not reachable (ECONNREFUSED)",
    });
    expect(down.body.queueDepth).toBeUndefined();
    await double.start();
    await expect.poll(async () => (await readyz()).body.status, { timeout: 20_000 }).toBe("ready");
    expect([...double.records.values()].map((r) => r.outcome)).toEqual(["success"]);
  });

  it("sends no warm-up prompt with COMFY_WARMUP=false: ready as soon as the server check passes", async () => {
    const double = await startComfyDouble();
    closers.push(() => double.close());
    const { readyz } = await gpuRunner(double, { env: { COMFY_WARMUP: false } });
    const ready = await readyz();
    expect(ready.code).toBe(200);
    expect(ready.body).toMatchObject({ status: "ready", engine: "comfyui", queueDepth: 0 });
    expect(double.records.size).toBe(0);
  });

  it("the composite engine (CPU) is ready at once: nothing to warm", async () => {
    const double = await startComfyDouble();
    closers.push(() => double.close());
    const { readyz, metrics } = await gpuRunner(double, {
      env: { FACE_ENGINE: "composite", COMFY_BASE_URL: undefined },
    });
    const ready = await readyz();
    expect(ready.code).toBe(200);
    expect(ready.body).toMatchObject({ status: "ready", engine: "composite" });
    expect(ready.body.queueDepth).toBeUndefined();
    expect(metric(await metrics(), "faceapp_comfyui_queue_depth")).toBeUndefined();
  });
});
