import { afterEach, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { type ComfyDouble, startComfyDouble } from "../../../testkit/src/doubles/comfyui.ts";
import { fixtureSource } from "../../../testkit/src/doubles/comfyui-validate.ts";
import { folderInputs } from "@faceapp/core/comfyui";
import { loadFaceWorkflow, scaledInputLimits, faceWorkflowParams } from "../../src/gpu/workflow/params.ts";

// The double refuses what the real server refuses (execution.py validate_prompt), with the same
// 400 body, and plays both the current and an older server (docs/comfyui-protocol.md).

let double: ComfyDouble;
const sockets: WebSocket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.terminate();
  await double.close();
});

const face = loadFaceWorkflow();
const graph = () =>
  face.build({
    childImage: "a.png",
    illustration: "a.png",
    mask: "a.png",
    prompt: "p",
    negativePrompt: "n",
    seed: 1,
    strengthScale: 1,
  });

async function start(server: "current" | "legacy" = "current", promptMs = 0) {
  double = await startComfyDouble({ server, promptMs });
  const form = new FormData();
  form.set("image", new Blob([new Uint8Array([1, 2, 3])]), "a.png");
  await fetch(`${double.url}/upload/image`, { method: "POST", body: form });
}

async function submit(prompt: unknown, extra: Record<string, unknown> = {}) {
  const res = await fetch(`${double.url}/prompt`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ prompt, ...extra }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** The one node error a refused graph gets, with the node's id. */
async function refusal(prompt: unknown) {
  const { status, body } = await submit(prompt);
  expect(status).toBe(400);
  const nodeErrors = body.node_errors as Record<
    string,
    { errors: unknown[]; class_type: string; dependent_outputs: string[] }
  >;
  const [[id, entry]] = Object.entries(nodeErrors) as [[string, (typeof nodeErrors)[string]]];
  expect(entry.dependent_outputs).toEqual(["25"]);
  expect(body.error).toMatchObject({
    type: "prompt_outputs_failed_validation",
    message: "Prompt outputs failed validation",
  });
  return { id, class_type: entry.class_type, errors: entry.errors };
}

async function connect(clientId: string) {
  const frames: Array<{ type: string; data: Record<string, unknown> }> = [];
  const ws = new WebSocket(`${double.url.replace("http", "ws")}/ws?clientId=${clientId}`);
  sockets.push(ws);
  ws.on("message", (raw) => frames.push(JSON.parse(raw.toString())));
  await new Promise((resolve) => ws.once("open", resolve));
  await expect.poll(() => frames.length).toBeGreaterThanOrEqual(1);
  return { ws, frames };
}

describe("the ComfyUI double is as strict as the server", () => {
  it("serves the object_info extracted from the pinned sources and accepts the face workflow", async () => {
    await start();
    const info = (await (await fetch(`${double.url}/object_info`)).json()) as Record<
      string,
      { input: { required: Record<string, unknown[]> } }
    >;
    expect(info.LoadImage!.input.required.image![0]).toEqual(["a.png"]);
    expect(info.CheckpointLoaderSimple!.input.required.ckpt_name![0]).toEqual(["dreamshaper_8.safetensors"]);
    expect(await submit(graph())).toMatchObject({ status: 200, body: { node_errors: {} } });
  });

  it("refuses a missing required input", async () => {
    await start();
    const g = graph();
    delete g["18"]!.inputs.steps;
    expect(await refusal(g)).toEqual({
      id: "18",
      class_type: "KSampler",
      errors: [
        {
          type: "required_input_missing",
          message: "Required input is missing",
          details: "steps",
          extra_info: { input_name: "steps" },
        },
      ],
    });
  });

  it("refuses a link to an output of the wrong type", async () => {
    await start();
    const g = graph();
    g["19"]!.inputs.vae = ["1", 0];
    const { id, errors } = await refusal(g);
    expect(id).toBe("19");
    expect(errors).toEqual([
      {
        type: "return_type_mismatch",
        message: "Return type mismatch between linked nodes",
        details: "vae, received_type(MODEL) mismatch input_type(VAE)",
        extra_info: { input_name: "vae", input_config: ["VAE"], received_type: "MODEL", linked_node: ["1", 0] },
      },
    ]);
  });

  it("refuses numbers outside min and max", async () => {
    await start();
    const over = graph();
    over["16"]!.inputs.lora_strength = 1.5;
    expect((await refusal(over)).errors).toEqual([
      {
        type: "value_bigger_than_max",
        message: "Value 1.5 bigger than max of 1",
        details: "lora_strength",
        extra_info: {
          input_name: "lora_strength",
          input_config: ["FLOAT", { default: 0.6, min: 0, max: 1, step: 0.01 }],
          received_value: 1.5,
        },
      },
    ]);
    const under = graph();
    under["18"]!.inputs.steps = 0;
    expect((await refusal(under)).errors).toMatchObject([
      { type: "value_smaller_than_min", message: "Value 0 smaller than min of 1" },
    ]);
  });

  it("refuses an enum value or a model file that is not in the server's list", async () => {
    await start();
    const g = graph();
    g["18"]!.inputs.scheduler = "exponentional";
    const { errors } = await refusal(g);
    expect(errors).toMatchObject([
      {
        type: "value_not_in_list",
        message: "Value not in list",
        details:
          "scheduler: 'exponentional' not in ['simple', 'sgm_uniform', 'karras', 'exponential', 'ddim_uniform', 'beta', 'normal', 'linear_quadratic', 'kl_optimal']",
        extra_info: { input_name: "scheduler", received_value: "exponentional" },
      },
    ]);
    double.removeModel("controlnet", "control_v11p_sd15_lineart.pth");
    expect(await refusal(graph())).toMatchObject({
      id: "13",
      errors: [
        {
          type: "value_not_in_list",
          details: "control_net_name: 'control_v11p_sd15_lineart.pth' not in ['control_v11p_sd15_openpose.pth']",
        },
      ],
    });
  });

  it("refuses an unknown class before anything else, with empty node_errors", async () => {
    await start();
    const g = graph();
    g["23"]!.class_type = "ColorMatchKJ";
    expect(await submit(g)).toEqual({
      status: 400,
      body: {
        error: {
          type: "invalid_prompt",
          message: "Cannot execute because node ColorMatchKJ does not exist.",
          details: "Node ID '#23'",
          extra_info: {},
        },
        node_errors: {},
      },
    });
  });

  it("knows which inputs list a models folder, as the extraction recorded", () => {
    const recorded = fixtureSource()
      .folderInputs.map((b) => `${b.classType}.${b.input}=${b.folder}`)
      .sort();
    expect(folderInputs.map((b) => `${b.classType}.${b.input}=${b.folder}`).sort()).toEqual(recorded);
  });

  it("declares the scaled inputs' limits the runner refuses IPADAPTER_STRENGTH_SCALE by", async () => {
    await start();
    const info = double.objectInfo;
    for (const key of Object.keys(scaledInputLimits) as Array<keyof typeof scaledInputLimits>) {
      const ref = faceWorkflowParams[key];
      const [, options] = info[ref.classType]!.input.required![ref.input]!;
      expect({ min: options!.min, max: options!.max }).toEqual(scaledInputLimits[key]);
    }
  });
});

describe("the ComfyUI double's events and versions", () => {
  it("re-sends the running node on reconnect without prompt_id, and interrupts only its client", async () => {
    await start("current", 60_000);
    const other = await connect("other");
    const mine = await connect("me");
    await submit(graph(), { client_id: "me", prompt_id: "p" });
    await expect.poll(() => double.records.get("p")?.startedAt).toBeDefined();
    await expect.poll(() => mine.frames.some((f) => f.type === "progress" || f.data.node === "18")).toBe(true);
    mine.ws.terminate();
    const again = await connect("me");
    await expect.poll(() => again.frames.length).toBe(2);
    expect(again.frames[1]).toEqual({ type: "executing", data: { node: "18" } });
    await fetch(`${double.url}/interrupt`, { method: "POST", body: JSON.stringify({ prompt_id: "p" }) });
    await expect.poll(() => again.frames.some((f) => f.type === "execution_interrupted")).toBe(true);
    expect(other.frames.some((f) => f.type === "execution_interrupted")).toBe(false);
  });

  it("plays an older server: its own prompt ids and an interrupt that stops whatever runs", async () => {
    await start("legacy", 60_000);
    expect(await (await fetch(`${double.url}/system_stats`)).json()).toMatchObject({
      system: { comfyui_version: "0.3.40" },
    });
    const { body } = await submit(graph(), { prompt_id: "mine" });
    expect(body.prompt_id).not.toBe("mine");
    const running = String(body.prompt_id);
    await expect.poll(() => double.records.get(running)?.startedAt).toBeDefined();
    await fetch(`${double.url}/interrupt`, { method: "POST", body: JSON.stringify({ prompt_id: "someone-else" }) });
    await expect.poll(() => double.records.get(running)?.outcome).toBe("interrupted");
  });
});
