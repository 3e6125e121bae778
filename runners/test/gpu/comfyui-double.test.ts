import { afterEach, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { type ComfyDouble, startComfyDouble } from "../../../testkit/src/doubles/comfyui.ts";
import { executionOrder } from "../../../testkit/src/doubles/comfyui-validate.ts";
import { loadFaceWorkflow } from "../../src/gpu/workflow/params.ts";

// The double must behave as docs/comfyui-protocol.md says, or the engine's tests prove nothing.

let double: ComfyDouble;
const sockets: WebSocket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.terminate();
  await double.close();
});

async function connect(clientId: string): Promise<Array<{ type: string; data: Record<string, unknown> }>> {
  const frames: Array<{ type: string; data: Record<string, unknown> }> = [];
  const ws = new WebSocket(`${double.url.replace("http", "ws")}/ws?clientId=${clientId}`);
  sockets.push(ws);
  ws.on("message", (raw) => frames.push(JSON.parse(raw.toString())));
  await new Promise((resolve) => ws.once("open", resolve));
  await expect.poll(() => frames.length).toBe(1);
  return frames;
}

async function upload(name: string, bytes: Buffer, extra: Record<string, string> = {}) {
  const form = new FormData();
  form.set("image", new Blob([new Uint8Array(bytes)]), name);
  for (const [k, v] of Object.entries(extra)) form.set(k, v);
  return (await fetch(`${double.url}/upload/image`, { method: "POST", body: form })).json();
}

const face = loadFaceWorkflow();
/** The face workflow with every LoadImage on `image`, its output prefix "t". */
const graph = (image: string) => {
  const g = face.build({
    childImage: image,
    illustration: image,
    mask: image,
    prompt: "p",
    negativePrompt: "n",
    seed: 1,
    strengthScale: 1,
  });
  g["25"]!.inputs.filename_prefix = "t";
  return g;
};

const post = (path: string, body: unknown) =>
  fetch(`${double.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });

describe("ComfyUI double", () => {
  it("sends a success's events in ComfyUI's order, to the submitting client only, ending with executing null", async () => {
    double = await startComfyDouble({ progressSteps: 2 });
    const mine = await connect("me");
    const other = await connect("other");
    expect(mine[0]).toMatchObject({
      type: "status",
      data: { sid: "me", status: { exec_info: { queue_remaining: 0 } } },
    });
    await upload("a.png", Buffer.from("png"));
    const res = await post("/prompt", { prompt: graph("a.png"), client_id: "me", prompt_id: "p1" });
    expect(await res.json()).toEqual({ prompt_id: "p1", number: 0, node_errors: {} });
    await expect.poll(() => mine.at(-1)).toMatchObject({ type: "executing", data: { node: null, prompt_id: "p1" } });
    const types = mine.slice(1).map((f) => (f.type === "executing" ? `executing ${f.data.node}` : f.type));
    const nodes = executionOrder(graph("a.png")).flatMap((id) => [
      `executing ${id}`,
      ...(id === "18" ? ["progress", "progress"] : id === "25" ? ["executed"] : []),
    ]);
    expect(types).toEqual([
      "status",
      "execution_start",
      "execution_cached",
      ...nodes,
      "execution_success",
      "status",
      "executing null",
    ]);
    expect(other.map((f) => f.type).every((t) => t === "status")).toBe(true);
    const history = (await (await fetch(`${double.url}/history/p1`)).json()) as Record<string, Record<string, unknown>>;
    expect(history.p1).toMatchObject({
      outputs: { "25": { images: [{ filename: "t_00001_.png", subfolder: "", type: "output" }] } },
      status: { status_str: "success", completed: true },
    });
    expect(await (await fetch(`${double.url}/view?filename=t_00001_.png&type=output`)).text()).toBe("png");
    expect(await fetch(`${double.url}/api/history/unknown`).then((r) => r.json())).toEqual({});
  });

  it("broadcasts only progress for a prompt sent without client_id", async () => {
    double = await startComfyDouble({ progressSteps: 2 });
    const frames = await connect("watcher");
    await upload("a.png", Buffer.from("png"));
    await post("/prompt", { prompt: graph("a.png"), prompt_id: "anon" });
    await expect.poll(() => double.records.get("anon")?.outcome).toBe("success");
    expect([...new Set(frames.map((f) => f.type))]).toEqual(["status", "progress"]);
  });

  it("renames a same-named upload with other bytes, keeps identical ones, overwrites on request", async () => {
    double = await startComfyDouble();
    expect(await upload("x.png", Buffer.from("one"))).toEqual({ name: "x.png", subfolder: "", type: "input" });
    expect(await upload("x.png", Buffer.from("one"))).toMatchObject({ name: "x.png" });
    expect(await upload("x.png", Buffer.from("two"))).toMatchObject({ name: "x (1).png" });
    expect(await upload("x.png", Buffer.from("three"))).toMatchObject({ name: "x (2).png" });
    expect(await upload("x.png", Buffer.from("four"), { overwrite: "true" })).toMatchObject({ name: "x.png" });
  });

  it("answers 400 with node_errors for a missing upload and an unknown class, and guards /view", async () => {
    double = await startComfyDouble();
    const missing = await post("/prompt", { prompt: graph("never.png") });
    expect(missing.status).toBe(400);
    // LoadImage's VALIDATE_INPUTS takes `image`: no list check, custom_validation_failed instead.
    const lost = {
      class_type: "LoadImage",
      errors: [
        {
          type: "custom_validation_failed",
          message: "Custom validation failed for node",
          details: "image - Invalid image file: never.png",
          extra_info: { input_name: "image" },
        },
      ],
      dependent_outputs: ["25"],
    };
    expect(await missing.json()).toEqual({
      error: {
        type: "prompt_outputs_failed_validation",
        message: "Prompt outputs failed validation",
        details: "",
        extra_info: {},
      },
      node_errors: { "2": lost, "3": lost, "4": lost },
    });
    const unknown = await post("/prompt", { prompt: { "1": { class_type: "Nope", inputs: {} } } });
    expect(await unknown.json()).toMatchObject({ error: { type: "invalid_prompt" } });
    expect((await fetch(`${double.url}/view?filename=../etc/passwd`)).status).toBe(400); // outside-path: a traversal the double must refuse
    expect((await fetch(`${double.url}/view?filename=a.png&subfolder=../x`)).status).toBe(403); // outside-path: a subfolder escape
    expect((await fetch(`${double.url}/view?filename=none.png`)).status).toBe(404);
    expect(await (await fetch(`${double.url}/system_stats`)).json()).toMatchObject({ system: {}, devices: [{}] });
  });

  it("deletes pending prompts, interrupts only the named running prompt, and forgets everything on restart", async () => {
    double = await startComfyDouble({ promptMs: 60_000 });
    await upload("a.png", Buffer.from("png"));
    await post("/prompt", { prompt: graph("a.png"), prompt_id: "run" });
    await post("/prompt", { prompt: graph("a.png"), prompt_id: "wait" });
    const queue = (await (await fetch(`${double.url}/queue`)).json()) as Record<string, unknown[][]>;
    expect(queue.queue_running!.map((i) => i[1])).toEqual(["run"]);
    expect(queue.queue_pending!.map((i) => i[1])).toEqual(["wait"]);
    await post("/queue", { delete: ["wait"] });
    expect(await (await fetch(`${double.url}/prompt`)).json()).toEqual({ exec_info: { queue_remaining: 1 } });
    await post("/interrupt", { prompt_id: "someone-else" });
    expect(double.records.get("run")?.outcome).toBeUndefined();
    await post("/interrupt", { prompt_id: "run" });
    await expect.poll(() => double.records.get("run")?.outcome).toBe("interrupted");
    const history = (await (await fetch(`${double.url}/history/run`)).json()) as Record<string, { status: unknown }>;
    expect(history.run!.status).toMatchObject({ status_str: "error", completed: false });
    await double.restart();
    expect(await (await fetch(`${double.url}/history/run`)).json()).toEqual({});
    expect(double.inputs.has("a.png")).toBe(true);
  });
  it("hangs: prompts are accepted and never finish on their own, interrupt still ends them, hang(false) releases", async () => {
    double = await startComfyDouble({ progressSteps: 2 });
    await upload("a.png", Buffer.from("png"));
    double.hang();
    await post("/prompt", { prompt: graph("a.png"), prompt_id: "stuck" });
    await post("/prompt", { prompt: graph("a.png"), prompt_id: "later" });
    await expect.poll(() => double.records.get("stuck")?.startedAt).toBeDefined();
    await new Promise((r) => setTimeout(r, 200));
    expect(double.records.get("stuck")?.outcome).toBeUndefined();
    expect(await (await fetch(`${double.url}/history/stuck`)).json()).toEqual({});
    await post("/interrupt", { prompt_id: "stuck" });
    await expect.poll(() => double.records.get("stuck")?.outcome).toBe("interrupted");
    await expect.poll(() => double.records.get("later")?.startedAt).toBeDefined();
    double.hang(false);
    await expect.poll(() => double.records.get("later")?.outcome).toBe("success");
  });

  it("stops (connections refused, queue lost) and starts again on the same port", async () => {
    double = await startComfyDouble({ promptMs: 60_000 });
    const url = double.url;
    await upload("a.png", Buffer.from("png"));
    await post("/prompt", { prompt: graph("a.png"), prompt_id: "gone" });
    await double.stop();
    expect(double.records.get("gone")?.outcome).toBe("lost");
    await expect(fetch(`${url}/prompt`)).rejects.toThrow();
    await double.start();
    expect(double.url).toBe(url);
    expect(await (await fetch(`${url}/prompt`)).json()).toEqual({ exec_info: { queue_remaining: 0 } });
    expect(await (await fetch(`${url}/history/gone`)).json()).toEqual({});
  });
});
