import { readFile } from "node:fs/promises";
import sharp from "sharp";
import { afterAll, describe, expect, it } from "vitest";
import { fixturePath } from "@faceapp/testkit";
import { startComfyDouble } from "../../../testkit/src/doubles/comfyui.ts";
import { createGpuCapabilities } from "../../src/gpu/index.ts";
import { gpuEnv } from "./gpu-env.ts";

const base = gpuEnv();

describe("the GPU capabilities in the shape the runner's tasks take", () => {
  const closers: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const c of closers) await c();
  });

  it("analyses, refuses and personalises with the composite engine, and says it is ready", async () => {
    const gpu = await createGpuCapabilities(base);
    closers.push(() => gpu.close());
    const signal = new AbortController().signal;
    const cat = await gpu.analyzer.analyze(await readFile(fixturePath("noface-cat.png")), { signal });
    expect(cat).toMatchObject({ ok: false, code: "no_face" });
    const outcome = await gpu.analyzer.analyze(await readFile(fixturePath("face-astronaut.png")), { signal });
    if (!outcome.ok) throw new Error(outcome.message);
    expect(outcome.prompt).toContain("girl");
    expect(outcome.analysis).toMatchObject({ detector: "face-api", crop: { size: 512 } });

    const illustration = await sharp({ create: { width: 300, height: 300, channels: 3, background: "#88aaee" } })
      .png()
      .toBuffer();
    const mask = await sharp(
      Buffer.from(
        '<svg xmlns="http://www.w3.org/2000/svg" width="300" height="300"><circle cx="150" cy="150" r="80" fill="white"/></svg>',
      ),
    )
      .flatten({ background: "#000000" })
      .png()
      .toBuffer();
    const progress: number[] = [];
    const personalize = (analysis: Record<string, unknown>) =>
      gpu.faceEngine.personalize({
        photo: Buffer.alloc(0),
        faceCrop: outcome.faceCrop,
        analysis,
        illustration,
        mask,
        prompt: outcome.prompt,
        negativePrompt: "",
        seed: 1,
        signal,
        onProgress: (p) => progress.push(p),
      });
    const stored = JSON.parse(JSON.stringify(outcome.analysis));
    const png = await personalize(stored);
    expect((await sharp(png).metadata()).width).toBe(300);
    expect(progress.at(-1)).toBe(100);
    // The stored analysis's 68 points reach the engine: without them it cuts along a template outline.
    delete stored.crop.landmarks68;
    const fromFive = await personalize(stored);
    expect(fromFive.equals(png)).toBe(false);
    expect(await gpu.readiness()).toEqual({
      analyzer: { ok: true, detector: "face-api" },
      faceEngine: { ok: true, engine: "composite", status: "ready" },
    });
  });

  it("reports ComfyUI's reachability and queue depth when FACE_ENGINE=comfyui", async () => {
    const double = await startComfyDouble();
    closers.push(() => double.close());
    const gpu = await createGpuCapabilities({ ...base, FACE_ENGINE: "comfyui", COMFY_BASE_URL: double.url });
    closers.push(() => gpu.close());
    expect(gpu.faceEngine.name).toBe("comfyui");
    // The first answer starts the warm-up prompt (COMFY_WARMUP, on by default): warming until it has run.
    expect(await gpu.readiness()).toMatchObject({
      faceEngine: { ok: false, status: "warming", engine: "comfyui", reachable: true },
    });
    await expect
      .poll(async () => (await gpu.readiness()).faceEngine, { timeout: 20_000 })
      .toMatchObject({ ok: true, status: "ready", engine: "comfyui", reachable: true, queueRemaining: 0 });
  });
});
