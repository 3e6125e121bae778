import { execFile } from "node:child_process";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import type { ObjectInfo } from "@faceapp/core/comfyui";
import { startComfyDouble } from "../../../testkit/src/doubles/comfyui.ts";
import { fixtureObjectInfo } from "../../../testkit/src/doubles/comfyui-validate.ts";
import { checkWorkflow } from "../../src/gpu/engines/comfyui/check.ts";
import { loadFaceWorkflow } from "../../src/gpu/workflow/params.ts";

// `npm run comfy:check` and the runner's start-up check: what a live ComfyUI would refuse or miss,
// one line each naming node, input and value.

const root = path.resolve(import.meta.dirname, "../../..");
const run = promisify(execFile);
async function comfyCheck(...args: string[]): Promise<{ code: number; out: string }> {
  try {
    const { stdout } = await run(process.execPath, ["--import", "tsx", "scripts/comfy/check.ts", ...args], {
      cwd: root,
    });
    return { code: 0, out: stdout };
  } catch (error) {
    const e = error as { code: number; stdout: string };
    return { code: e.code, out: e.stdout };
  }
}

const graph = loadFaceWorkflow().build({
  childImage: "c.png",
  illustration: "i.png",
  mask: "m.png",
  prompt: "",
  negativePrompt: "",
  seed: 0,
  strengthScale: 1,
});
const withChange = (change: (info: ObjectInfo) => void) => {
  const info = fixtureObjectInfo();
  change(info);
  return checkWorkflow(info, graph);
};

describe("comfy:check", () => {
  const closers: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const c of closers) await c();
  });

  it("passes on the committed fixture (model lists from the manifest) and fails naming a missing checkpoint", async () => {
    expect(await comfyCheck("--object-info", "testkit/fixtures/comfyui/object_info.json")).toMatchObject({
      code: 0,
      out: expect.stringContaining("ok: ComfyUI would accept the face workflow"),
    });
    const info = fixtureObjectInfo();
    info.CheckpointLoaderSimple!.input.required!.ckpt_name = [["v1-5-pruned.safetensors"]];
    const file = path.join(await mkdtemp(path.join(tmpdir(), "comfy-check-")), "object_info.json");
    await writeFile(file, JSON.stringify(info));
    const { code, out } = await comfyCheck("--object-info", file);
    expect(code).toBe(1);
    expect(out).toContain(
      "problem: checkpoint dreamshaper_8.safetensors is not in models/checkpoints (node 1 CheckpointLoaderSimple, input ckpt_name)",
    );
  });

  it("checks a live server by --url", async () => {
    const double = await startComfyDouble();
    closers.push(() => double.close());
    double.removeModel("loras", "ip-adapter-faceid-plusv2_sd15_lora.safetensors");
    const { code, out } = await comfyCheck("--url", double.url);
    expect(code).toBe(1);
    expect(out).toContain("ComfyUI 0.8.1 at");
    expect(out).toContain(
      "problem: LoRA ip-adapter-faceid-plusv2_sd15_lora.safetensors is not in models/loras (node 16",
    );
  });

  it("names the node and input of an absent enum value, a number over its max, and a missing class", () => {
    expect(
      withChange((info) => {
        info.KSampler!.input.required!.scheduler = [["normal", "karras"]];
      }),
    ).toEqual([
      `node 18 (KSampler, "Sampler") input scheduler: Value not in list (scheduler: 'exponential' not in ['normal', 'karras'])`,
    ]);
    expect(
      withChange((info) => {
        info.KSampler!.input.required!.cfg = ["FLOAT", { default: 1, min: 0, max: 3 }];
      }),
    ).toEqual([`node 18 (KSampler, "Sampler") input cfg: Value 4.0 bigger than max of 3`]);
    expect(
      withChange((info) => {
        delete info["MaskBoundingBox+"];
      }),
    ).toEqual([
      "Cannot execute because node MaskBoundingBox+ does not exist. (Node ID '#8'): a custom node pack is missing from the image",
    ]);
    expect(
      withChange((info) => {
        info.IPAdapterModelLoader!.input.required!.ipadapter_file = [["ip-adapter-faceid_sd15.bin"]];
      }),
    ).toEqual([
      "IPAdapter model ip-adapter-faceid-plusv2_sd15.bin is not in models/ipadapter (node 16 IPAdapterUnifiedLoaderFaceID finds it by the name pattern faceid.plusv2.sd15\\.(safetensors|bin)$ when it runs)",
    ]);
  });
});
