import { createHash } from "node:crypto";
import sharp from "sharp";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { type ComfyDouble, startComfyDouble } from "../../../testkit/src/doubles/comfyui.ts";
import { type ComfyEngine, createComfyEngine, FaceEngineError, type PersonalizeRequest } from "../../src/gpu/index.ts";

const solid = (size: number, colour: string) =>
  sharp({ create: { width: size, height: size, channels: 3, background: colour } })
    .png()
    .toBuffer();

let page: Omit<PersonalizeRequest, "seed">;
let background: Buffer;
beforeAll(async () => {
  page = {
    faceCrop: await solid(64, "#c08060"),
    landmarks: [],
    illustration: await solid(128, "#3060c0"),
    mask: await solid(128, "#000000"),
    prompt: "a girl, long brown curly hair",
  };
  background = await solid(128, "#ff0000");
});

const open: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
});

async function setup(
  options: {
    promptMs?: number;
    pollMs?: number;
    timeoutMs?: number;
    scale?: number;
    server?: "current" | "legacy";
  } = {},
) {
  const double = await startComfyDouble({
    promptMs: options.promptMs ?? 0,
    render: () => background,
    server: options.server ?? "current",
  });
  open.push(double);
  const engine = createComfyEngine({
    baseUrl: double.url,
    promptTimeoutMs: options.timeoutMs ?? 20_000,
    pollMs: options.pollMs ?? 60_000,
    strengthScale: options.scale ?? 1,
  });
  open.push(engine);
  return { double, engine };
}

function once(double: ComfyDouble, event: string, filter: (...args: unknown[]) => boolean = () => true) {
  return new Promise<unknown[]>((resolve) => {
    const on = (...args: unknown[]) => {
      if (!filter(...args)) return;
      double.off(event, on);
      resolve(args);
    };
    double.on(event, on);
  });
}

const graphOf = (double: ComfyDouble, engine: ComfyEngine) => {
  void engine;
  const [record] = [...double.records.values()];
  return record;
};

describe("ComfyUI engine against the protocol double", () => {
  it("uploads the three images, queues with our ids, follows the socket and fetches the background", async () => {
    const { double, engine } = await setup({ scale: 0.5 });
    let queuedId = "";
    const out = await engine.personalize({ ...page, seed: 1234, onQueued: (id) => (queuedId = id) });
    expect(out.equals(background)).toBe(true);
    expect(double.inputs.size).toBe(3);
    const record = graphOf(double, engine)!;
    expect(record.promptId).toBe(queuedId);
    expect(record.clientId).toMatch(/^faceapp-/);
    expect(record.outcome).toBe("success");
  });

  it("sets the mapped inputs: uploaded names, prompt, seed, IPAdapter weights × the strength scale", async () => {
    const { double, engine } = await setup({ scale: 0.5 });
    const seen = once(double, "queued");
    const done = engine.personalize({ ...page, seed: 77, negativePrompt: "ugly" });
    await seen;
    await done;
    const res = await fetch(`${double.url}/history/${[...double.records.keys()][0]}`);
    const entry = Object.values((await res.json()) as Record<string, { prompt: unknown[] }>)[0]!;
    const graph = entry.prompt[2] as Record<string, { inputs: Record<string, unknown> }>;
    const names = [...double.inputs.keys()];
    expect(names).toContain(graph["2"]!.inputs.image);
    expect(names).toContain(graph["3"]!.inputs.image);
    expect(names).toContain(graph["4"]!.inputs.image);
    expect(graph["6"]!.inputs.text).toBe(page.prompt);
    expect(graph["7"]!.inputs.text).toBe("ugly");
    expect(graph["18"]!.inputs.seed).toBe(77);
    expect(graph["17"]!.inputs.weight).toBeCloseTo(0.55);
    expect(graph["17"]!.inputs.weight_faceidv2).toBeCloseTo(0.5);
    expect(graph["16"]!.inputs.lora_strength).toBeCloseTo(0.375);
  });

  it("uses the name ComfyUI returns when it renames an upload (same name, other bytes)", async () => {
    const { double, engine } = await setup();
    const hash = createHash("sha256").update(page.illustration).digest("hex").slice(0, 24);
    double.inputs.set(`faceapp-art-${hash}.png`, Buffer.from("someone else's file"));
    const seen = once(double, "queued");
    await engine.personalize({ ...page, seed: 1 });
    const [promptId] = (await seen) as [string];
    const res = await fetch(`${double.url}/history/${promptId}`);
    const entry = ((await res.json()) as Record<string, { prompt: unknown[] }>)[promptId]!;
    const graph = entry.prompt[2] as Record<string, { inputs: Record<string, unknown> }>;
    expect(graph["3"]!.inputs.image).toBe(`faceapp-art-${hash} (1).png`);
  });

  it("uploads a book's art once per ComfyUI, and again when ComfyUI has lost its input files", async () => {
    const { double, engine } = await setup();
    await engine.personalize({ ...page, seed: 1 });
    await engine.personalize({ ...page, seed: 2 });
    expect(double.uploadLog).toHaveLength(3);
    const firstFiles = new Map(double.inputs);
    double.inputs.clear();
    await engine.personalize({ ...page, seed: 3 });
    // The third page's first submission was refused (files gone); the engine re-uploaded and resubmitted.
    expect([...double.inputs.keys()].sort()).toEqual([...firstFiles.keys()].sort());
    expect(double.uploadLog).toHaveLength(6);
    expect([...double.records.values()].map((r) => r.outcome)).toEqual(["success", "success", "success"]);
  });

  it("forwards progress as a rising percentage that ends at 100", async () => {
    const { double, engine } = await setup({ promptMs: 80 });
    double.progressSteps = 8;
    const seen: number[] = [];
    await engine.personalize({ ...page, seed: 1, onProgress: (p) => seen.push(p) });
    expect(seen.at(-1)).toBe(100);
    expect(seen.filter((p) => p > 0 && p < 100).length).toBeGreaterThanOrEqual(5);
    for (let i = 1; i < seen.length; i++) expect(seen[i]!).toBeGreaterThan(seen[i - 1]!);
  });

  it("survives the socket dropping mid-prompt: reconnects with the same client id and completes on it", async () => {
    // Polling is set far beyond the test's time: only the reconnected socket can finish this page.
    const { double, engine } = await setup({ promptMs: 40, pollMs: 600_000 });
    double.once("progress", () => {
      // The prompt waits while the socket is gone, so the rest of its events need the reconnection.
      double.pause();
      double.dropSockets();
      double.once("connected", () => double.resume());
    });
    const progress: number[] = [];
    const out = await engine.personalize({ ...page, seed: 1, onProgress: (p) => progress.push(p) });
    expect(out.equals(background)).toBe(true);
    expect(progress.at(-1)).toBe(100);
    expect(double.connections.length).toBeGreaterThanOrEqual(2);
    expect(new Set(double.connections)).toEqual(new Set([[...double.records.values()][0]!.clientId]));
  });

  it("completes by polling /history when the socket drops and cannot reconnect", async () => {
    const { double, engine } = await setup({ promptMs: 100, pollMs: 50 });
    double.once("progress", () => {
      double.refuseSockets = true;
      double.dropSockets();
    });
    const out = await engine.personalize({ ...page, seed: 1 });
    expect(out.equals(background)).toBe(true);
  });

  it("turns a node's execution error into a readable reason", async () => {
    const { double, engine } = await setup();
    double.failNode("KSampler", "CUDA out of memory");
    const error = await engine.personalize({ ...page, seed: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FaceEngineError);
    expect(error).toMatchObject({ code: "execution_failed" });
    expect((error as Error).message).toBe('ComfyUI failed at node 18 (KSampler, "Sampler"): CUDA out of memory');
  });

  it("turns a 400 with node_errors into which node and input is wrong (a missing checkpoint)", async () => {
    const { double, engine } = await setup();
    double.removeModel("checkpoints", "dreamshaper_8.safetensors");
    const error = await engine.personalize({ ...page, seed: 1 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "workflow_rejected", retryable: false });
    expect((error as Error).message).toContain("node 1 (CheckpointLoaderSimple");
    expect((error as Error).message).toContain("input ckpt_name: ckpt_name: 'dreamshaper_8.safetensors' not in []");
    expect((error as Error).message).toContain("not installed on the ComfyUI server");
  });

  it("names a missing custom node class, at start-up and when rejected", async () => {
    const { double, engine } = await setup();
    delete double.objectInfo.IPAdapterFaceID;
    const problems = await engine.check();
    expect(problems).toEqual([
      "Cannot execute because node IPAdapterFaceID does not exist. (Node ID '#17'): a custom node pack is missing from the image",
    ]);
    expect(await engine.readiness()).toMatchObject({ ready: false, reachable: true, problems });
    const error = await engine.personalize({ ...page, seed: 1 }).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/IPAdapterFaceID does not exist.*custom node pack is missing/);
  });

  it("times out a prompt and interrupts it in ComfyUI", async () => {
    const { double, engine } = await setup({ promptMs: 600_000, timeoutMs: 300 });
    const error = await engine.personalize({ ...page, seed: 1 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "timeout", retryable: true });
    const [record] = [...double.records.values()];
    expect(double.interrupts).toContain(record!.promptId);
    await expect.poll(() => record!.outcome).toBe("interrupted");
  });

  it("cancel deletes a waiting prompt from the queue and interrupts the running one", async () => {
    const { double, engine } = await setup({ promptMs: 600_000 });
    const a = new AbortController();
    const b = new AbortController();
    const started = once(double, "started");
    const first = engine.personalize({ ...page, seed: 1, signal: a.signal }).catch((e: unknown) => e);
    await started;
    const queued = once(double, "queued");
    const second = engine.personalize({ ...page, seed: 2, signal: b.signal }).catch((e: unknown) => e);
    const [secondId] = (await queued) as [string];
    b.abort(new Error("canceled by the parent"));
    expect(await second).toMatchObject({ message: "canceled by the parent" });
    await expect.poll(() => double.records.get(secondId)?.outcome).toBe("deleted");
    a.abort(new Error("canceled by the parent"));
    expect(await first).toMatchObject({ message: "canceled by the parent" });
    const firstRecord = [...double.records.values()].find((r) => r.promptId !== secondId)!;
    await expect.poll(() => firstRecord.outcome).toBe("interrupted");
    expect(double.queueRemaining).toBe(0);
  });

  it("resubmits a prompt that a ComfyUI restart lost", async () => {
    const { double, engine } = await setup({ promptMs: 100, pollMs: 30 });
    double.once("started", () => void double.restart(20));
    const out = await engine.personalize({ ...page, seed: 1 });
    expect(out.equals(background)).toBe(true);
    const outcomes = [...double.records.values()].map((r) => r.outcome);
    expect(outcomes).toEqual(["lost", "success"]);
  });

  it("keeps ComfyUI busy: the next page is queued while the current one runs, never more than two", async () => {
    const { double, engine } = await setup({ promptMs: 300 });
    const pages = [1, 2, 3, 4].map((seed) => engine.submit({ ...page, seed }));
    for (const p of pages) expect((await p.result()).equals(background)).toBe(true);
    const records = [...double.records.values()];
    expect(records).toHaveLength(4);
    for (let i = 1; i < records.length; i++) {
      expect(records[i]!.queuedAt).toBeLessThan(records[i - 1]!.endedAt!);
      if (i >= 2) expect(records[i]!.queuedAt).toBeGreaterThanOrEqual(records[i - 2]!.endedAt!);
    }
  });

  it("fails a page as retryable when ComfyUI cannot be reached at all", async () => {
    const { double, engine } = await setup();
    await double.close();
    const error = await engine.personalize({ ...page, seed: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FaceEngineError);
    expect(error).toMatchObject({ code: "unavailable", retryable: true });
    // The message is a page's reason for parents: no internal address in it, only in the details.
    expect((error as Error).message).toBe("ComfyUI is not reachable (ECONNREFUSED)");
    expect(error).toMatchObject({ details: { baseUrl: double.url, refused: true } });
  });

  it("reports readiness: reachable with its queue depth, or not", async () => {
    const { double, engine } = await setup({ promptMs: 600_000 });
    const a = new AbortController();
    const started = once(double, "started");
    const running = engine.personalize({ ...page, seed: 1, signal: a.signal }).catch(() => {});
    await started;
    expect(await engine.readiness()).toEqual({
      engine: "comfyui",
      ready: true,
      status: "ready",
      reachable: true,
      queueRemaining: 1,
      comfyuiVersion: "0.8.1",
    });
    a.abort();
    await running;
    await double.close();
    expect(await engine.readiness()).toMatchObject({ engine: "comfyui", ready: false, reachable: false });
  });
});

describe.each(["current", "legacy"] as const)("ComfyUI engine against a %s server", (server) => {
  it("follows the prompt id the server answers with", async () => {
    const { double, engine } = await setup({ server, pollMs: 50 });
    const queued: string[] = [];
    const out = await engine.personalize({ ...page, seed: 1, onQueued: (id) => queued.push(id) });
    expect(out.equals(background)).toBe(true);
    expect(queued).toEqual([...double.records.keys()]);
    expect([...double.records.values()].map((r) => r.outcome)).toEqual(["success"]);
  });

  it("re-uploads when the server answers that an image file is invalid (its input folder lost it)", async () => {
    const { double, engine } = await setup({ server });
    await engine.personalize({ ...page, seed: 1 });
    double.inputs.clear();
    const out = await engine.personalize({ ...page, seed: 2 });
    expect(out.equals(background)).toBe(true);
    expect(double.uploadLog).toHaveLength(6);
    expect([...double.records.values()].map((r) => r.outcome)).toEqual(["success", "success"]);
  });

  it("cancelling a waiting page deletes it and interrupts nothing; cancelling the running one interrupts it", async () => {
    const { double, engine } = await setup({ server, promptMs: 600_000 });
    const a = new AbortController();
    const b = new AbortController();
    const started = once(double, "started");
    const first = engine.personalize({ ...page, seed: 1, signal: a.signal }).catch((e: unknown) => e);
    const [firstId] = (await started) as [string];
    const queued = once(double, "queued");
    const second = engine.personalize({ ...page, seed: 2, signal: b.signal }).catch((e: unknown) => e);
    const [secondId] = (await queued) as [string];
    b.abort(new Error("canceled"));
    await second;
    await expect.poll(() => double.records.get(secondId)?.outcome).toBe("deleted");
    expect(double.interrupts).toEqual([]);
    expect(double.records.get(firstId)?.outcome).toBeUndefined();
    a.abort(new Error("canceled"));
    await first;
    await expect.poll(() => double.records.get(firstId)?.outcome).toBe("interrupted");
    expect(double.interrupts).toEqual([firstId]);
  });
});

describe("IPADAPTER_STRENGTH_SCALE against the real limits", () => {
  it("refuses at start-up a scale that pushes lora_strength over its maximum of 1, naming the variable", () => {
    expect(() =>
      createComfyEngine({ baseUrl: "http://127.0.0.1:1", promptTimeoutMs: 1000, strengthScale: 1.4 }),
    ).toThrow(
      "IPADAPTER_STRENGTH_SCALE=1.4 makes IPAdapterUnifiedLoaderFaceID lora_strength 0.75 × 1.4 = 1.05, over its maximum of 1 (node 16); at most 1.33 fits this workflow",
    );
    const engine = createComfyEngine({ baseUrl: "http://127.0.0.1:1", promptTimeoutMs: 1000, strengthScale: 1.33 });
    void engine.close();
  });
});
