import * as v from "valibot";
import { FaceEngineError } from "../errors.ts";
import type { ObjectInfo } from "@faceapp/core/comfyui";
import type { ApiGraph } from "../../workflow/params.ts";

export interface SystemStats {
  system?: { comfyui_version?: string; pytorch_version?: string; python_version?: string };
  devices?: Array<{ name?: string; type?: string; vram_total?: number; vram_free?: number }>;
}

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
      const hint = isLostUpload(node.class_type, e)
        ? " (the image was not uploaded)"
        : e.type === "value_not_in_list"
          ? " (not installed on the ComfyUI server)"
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

/**
 * LoadImage's VALIDATE_INPUTS answer for a file that is not in the input folder: ComfyUI skips the list
 * check for inputs VALIDATE_INPUTS takes, so a lost upload is `custom_validation_failed`, details
 * "image - Invalid image file: <name>" (docs/comfyui-protocol.md).
 */
function isLostUpload(classType: string, e: { type: string; details: string }): boolean {
  return classType === "LoadImage" && e.type === "custom_validation_failed" && e.details.includes("Invalid image file");
}

/** Whether a 400 says a LoadImage file is not in ComfyUI's input folder (it lost our upload). */
function namesMissingUpload(body: unknown): boolean {
  const parsed = v.safeParse(Rejection, body);
  if (!parsed.success) return false;
  return Object.values(parsed.output.node_errors).some((n) => n.errors.some((e) => isLostUpload(n.class_type, e)));
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

  /**
   * Queues a prompt, offering our own prompt id; returns the id the server answers with, which is ours
   * on a ComfyUI since July 2025 and one it made on an older one. A 400 becomes a `workflow_rejected`
   * error naming node and input.
   */
  async queuePrompt(
    graph: ApiGraph,
    promptId: string,
    clientId: string,
    signal?: AbortSignal,
  ): Promise<{ promptId: string; number: number }> {
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
    const answer = body as { number?: number; prompt_id?: unknown };
    return {
      promptId: typeof answer.prompt_id === "string" && answer.prompt_id !== "" ? answer.prompt_id : promptId,
      number: Number(answer.number ?? 0),
    };
  }

  /** The prompt's history entry, or null while it has not finished (or was never known). */
  async history(promptId: string, signal?: AbortSignal): Promise<HistoryEntry | null> {
    const body = (await this.json(`/history/${encodeURIComponent(promptId)}`, {}, signal)) as Record<string, unknown>;
    const entry = body[promptId];
    return entry === undefined ? null : v.parse(HistoryEntry, entry);
  }

  /** Where the prompt is in ComfyUI's queue: running, pending, or absent. */
  async queueState(promptId: string, signal?: AbortSignal): Promise<"running" | "pending" | "absent"> {
    const body = (await this.json("/queue", {}, signal)) as {
      queue_running?: unknown[][];
      queue_pending?: unknown[][];
    };
    if ((body.queue_running ?? []).some((item) => item[1] === promptId)) return "running";
    if ((body.queue_pending ?? []).some((item) => item[1] === promptId)) return "pending";
    return "absent";
  }

  /** Whether the prompt is running or pending in ComfyUI's queue. */
  async inQueue(promptId: string, signal?: AbortSignal): Promise<boolean> {
    return (await this.queueState(promptId, signal)) !== "absent";
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

  /**
   * Deletes the prompt from the queue, then interrupts only if /queue shows it running. An older
   * ComfyUI ignores the interrupt's prompt_id and stops whatever runs, so without the look at /queue a
   * cancel would stop another page; a newer one also checks the id itself, closing the gap between
   * the look and the interrupt.
   */
  async cancel(promptId: string): Promise<void> {
    await this.post("/queue", { delete: [promptId] });
    if ((await this.queueState(promptId)) === "running") await this.post("/interrupt", { prompt_id: promptId });
  }

  /** `GET /object_info`: every node class with its inputs and lists. */
  async objectInfo(signal?: AbortSignal): Promise<ObjectInfo> {
    return (await this.json("/object_info", {}, signal)) as ObjectInfo;
  }

  /** `GET /system_stats`: versions and devices. */
  async systemStats(signal?: AbortSignal): Promise<SystemStats> {
    return (await this.json("/system_stats", {}, signal)) as SystemStats;
  }
}

function causeOf(error: unknown): string {
  const e = error as Error & { cause?: { code?: string; message?: string } };
  return e.cause?.code ?? e.cause?.message ?? e.message;
}
