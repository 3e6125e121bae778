import * as v from "valibot";
import { FaceEngineError } from "../errors.ts";
import type { ApiGraph } from "../../workflow/params.ts";

const ImageRef = v.object({ filename: v.string(), subfolder: v.optional(v.string(), ""), type: v.string() });
export type ImageRef = v.InferOutput<typeof ImageRef>;

const HistoryEntry = v.object({
  outputs: v.optional(v.record(v.string(), v.object({ images: v.optional(v.array(ImageRef)) })), {}),
  status: v.optional(
    v.object({
      status_str: v.optional(v.string()),
      completed: v.optional(v.boolean()),
      messages: v.optional(v.array(v.tuple([v.string(), v.unknown()])), []),
    }),
  ),
});
export type HistoryEntry = v.InferOutput<typeof HistoryEntry>;

const NodeError = v.object({
  type: v.optional(v.string(), ""),
  message: v.optional(v.string(), ""),
  details: v.optional(v.string(), ""),
  extra_info: v.optional(v.record(v.string(), v.unknown()), {}),
});
const Rejection = v.object({
  error: v.optional(v.union([NodeError, v.string()])),
  node_errors: v.optional(
    v.record(
      v.string(),
      v.object({ errors: v.optional(v.array(NodeError), []), class_type: v.optional(v.string(), "") }),
    ),
    {},
  ),
});

/** A 400 from `POST /prompt` as one sentence: which node, which input, why (e.g. a missing checkpoint). */
export function describeRejection(body: unknown, graph?: ApiGraph): string {
  const parsed = v.safeParse(Rejection, body);
  if (!parsed.success) return "ComfyUI rejected the workflow (unreadable error)";
  const { error, node_errors } = parsed.output;
  const parts: string[] = [];
  for (const [id, node] of Object.entries(node_errors)) {
    const title = graph?.[id]?._meta?.title;
    const where = `node ${id} (${node.class_type || graph?.[id]?.class_type || "?"}${title ? `, "${title}"` : ""})`;
    for (const e of node.errors) {
      const input = typeof e.extra_info.input_name === "string" ? ` input ${e.extra_info.input_name}` : "";
      const hint =
        e.type === "value_not_in_list"
          ? typeof e.extra_info.input_name === "string" && e.extra_info.input_name === "image"
            ? " (the image was not uploaded)"
            : " (not installed on the ComfyUI server)"
          : "";
      parts.push(`${where}${input}: ${e.details || e.message}${hint}`);
    }
  }
  const head =
    typeof error === "string" ? error : error ? `${error.message}${error.details ? ` ${error.details}` : ""}` : "";
  const missingNode =
    typeof error === "object" && error?.type === "invalid_prompt" ? " (a custom node pack is missing)" : "";
  return `ComfyUI rejected the workflow: ${[head + missingNode, ...parts].filter(Boolean).join("; ")}`;
}

/** Whether a 400 says a LoadImage file is not in ComfyUI's input folder (it lost our upload). */
function namesMissingUpload(body: unknown): boolean {
  const parsed = v.safeParse(Rejection, body);
  if (!parsed.success) return false;
  return Object.values(parsed.output.node_errors).some(
    (n) => n.class_type === "LoadImage" && n.errors.some((e) => e.type === "value_not_in_list"),
  );
}

/** ComfyUI's HTTP routes, as docs/comfyui-protocol.md describes them. */
export class ComfyHttp {
  constructor(
    readonly baseUrl: string,
    private readonly requestTimeoutMs = 30_000,
  ) {}

  private async request(path: string, init: RequestInit = {}, signal?: AbortSignal): Promise<Response> {
    const timeout = AbortSignal.timeout(this.requestTimeoutMs);
    try {
      return await fetch(new URL(path, this.baseUrl), {
        ...init,
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
    } catch (error) {
      signal?.throwIfAborted();
      const cause = causeOf(error);
      // The message becomes a failed page's reason, shown to parents: the server's internal address
      // stays in the details, which the runner's logs carry.
      throw new FaceEngineError("unavailable", `ComfyUI is not reachable (${cause})`, true, {
        baseUrl: this.baseUrl,
        // Nothing was sent: safe to send again.
        refused: cause === "ECONNREFUSED",
      });
    }
  }

  private async json(path: string, init?: RequestInit, signal?: AbortSignal): Promise<unknown> {
    const res = await this.request(path, init, signal);
    if (!res.ok) {
      throw new FaceEngineError("unavailable", `ComfyUI answered ${res.status} to ${path}`, true);
    }
    const text = await res.text();
    return text ? JSON.parse(text) : {};
  }

  private post(path: string, body: unknown, signal?: AbortSignal): Promise<unknown> {
    return this.json(
      path,
      { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) },
      signal,
    );
  }

  /** Uploads an input image; returns the name ComfyUI stored it under (it may rename it). */
  async upload(bytes: Buffer, name: string, signal?: AbortSignal): Promise<string> {
    const form = new FormData();
    form.set("image", new Blob([new Uint8Array(bytes)], { type: "image/png" }), name);
    form.set("type", "input");
    const answer = (await this.json("/upload/image", { method: "POST", body: form }, signal)) as {
      name?: string;
      subfolder?: string;
    };
    if (!answer.name) throw new FaceEngineError("bad_output", "ComfyUI's upload answer has no name", true);
    return answer.subfolder ? `${answer.subfolder}/${answer.name}` : answer.name;
  }

  /** Queues a prompt with our own ids; a 400 becomes a `workflow_rejected` error naming node and input. */
  async queuePrompt(graph: ApiGraph, promptId: string, clientId: string, signal?: AbortSignal): Promise<number> {
    const res = await this.request(
      "/prompt",
      {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ prompt: graph, client_id: clientId, prompt_id: promptId }),
      },
      signal,
    );
    const body: unknown = await res.json().catch(() => ({}));
    if (res.status === 400) {
      throw new FaceEngineError("workflow_rejected", describeRejection(body, graph), false, {
        response: body,
        missingUpload: namesMissingUpload(body),
      });
    }
    if (!res.ok) throw new FaceEngineError("unavailable", `ComfyUI answered ${res.status} to /prompt`, true);
    return Number((body as { number?: number }).number ?? 0);
  }

  /** The prompt's history entry, or null while it has not finished (or was never known). */
  async history(promptId: string, signal?: AbortSignal): Promise<HistoryEntry | null> {
    const body = (await this.json(`/history/${encodeURIComponent(promptId)}`, {}, signal)) as Record<string, unknown>;
    const entry = body[promptId];
    return entry === undefined ? null : v.parse(HistoryEntry, entry);
  }

  /** Whether the prompt is running or pending in ComfyUI's queue. */
  async inQueue(promptId: string, signal?: AbortSignal): Promise<boolean> {
    const body = (await this.json("/queue", {}, signal)) as {
      queue_running?: unknown[][];
      queue_pending?: unknown[][];
    };
    return [...(body.queue_running ?? []), ...(body.queue_pending ?? [])].some((item) => item[1] === promptId);
  }

  /** Pending plus running prompts. */
  async queueRemaining(signal?: AbortSignal): Promise<number> {
    const body = (await this.json("/prompt", {}, signal)) as { exec_info?: { queue_remaining?: number } };
    return Number(body.exec_info?.queue_remaining ?? 0);
  }

  async view(image: ImageRef, signal?: AbortSignal): Promise<Buffer> {
    const q = new URLSearchParams({ filename: image.filename, subfolder: image.subfolder, type: image.type });
    const res = await this.request(`/view?${q}`, {}, signal);
    if (!res.ok)
      throw new FaceEngineError("bad_output", `ComfyUI answered ${res.status} for output ${image.filename}`, true);
    return Buffer.from(await res.arrayBuffer());
  }

  /** Deletes a pending prompt and interrupts it if it is the one running. */
  async cancel(promptId: string): Promise<void> {
    await this.post("/queue", { delete: [promptId] });
    await this.post("/interrupt", { prompt_id: promptId });
  }

  /** Node classes the server knows (`/object_info`). */
  async nodeClasses(signal?: AbortSignal): Promise<Set<string>> {
    return new Set(Object.keys((await this.json("/object_info", {}, signal)) as object));
  }
}

function causeOf(error: unknown): string {
  const e = error as Error & { cause?: { code?: string; message?: string } };
  return e.cause?.code ?? e.cause?.message ?? e.message;
}
