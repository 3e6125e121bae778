import { FaceEngineError } from "../errors.ts";
import type { ApiGraph } from "../../workflow/params.ts";
import type { ComfyHttp, HistoryEntry } from "./http.ts";
import type { ComfyMessage, ComfySocket } from "./socket.ts";

export interface RunOptions {
  graph: ApiGraph;
  promptId: string;
  /** From submission to completion, queue wait included. */
  timeoutMs: number;
  /** How often /history is polled in case the socket misses the end. */
  pollMs: number;
  signal?: AbortSignal;
  onProgress?: (percent: number) => void;
  /** How long ComfyUI may stay unreachable while we wait for a prompt, default 30 s. */
  unreachableMs?: number;
  /** Called once ComfyUI has accepted the prompt. */
  onQueued?: (promptId: string) => void;
}

/** How one submitted prompt ended: finished (with its history entry) or lost by ComfyUI (a restart). */
export type RunResult = { kind: "finished"; entry: HistoryEntry } | { kind: "lost" };

/**
 * Percent done from node events: every node counts one, the sampler counts as much as all the
 * others together (it is where the time goes); never goes backwards.
 */
export function progressTracker(graph: ApiGraph, report: (percent: number) => void) {
  const weight = (id: string) => (graph[id]?.class_type === "KSampler" ? Object.keys(graph).length : 1);
  const total = Object.keys(graph).reduce((s, id) => s + weight(id), 0);
  const done = new Set<string>();
  let current: { id: string; fraction: number } | undefined;
  let last = -1;
  const emit = () => {
    const partial = current ? weight(current.id) * current.fraction : 0;
    let sum = partial;
    for (const id of done) sum += weight(id);
    const percent = Math.min(99, Math.floor((100 * sum) / total));
    if (percent > last) {
      last = percent;
      report(percent);
    }
  };
  return (message: ComfyMessage) => {
    const d = message.data;
    if (message.type === "execution_cached") for (const id of (d.nodes as string[]) ?? []) done.add(String(id));
    else if (message.type === "executing" && typeof d.node === "string") {
      if (current) done.add(current.id);
      current = { id: d.node, fraction: 0 };
    } else if (message.type === "progress" && current && typeof d.value === "number" && typeof d.max === "number") {
      current.fraction = d.max > 0 ? d.value / d.max : 0;
    } else if (message.type === "executed" && typeof d.node === "string") done.add(d.node);
    else return;
    emit();
  };
}

/**
 * Submits one prompt and waits for its end: the WebSocket's `executing {node: null}` /
 * `execution_success` / `execution_error`, raced against polling `/history/{id}` so a dropped socket
 * never hangs. On abort or timeout the prompt is deleted from the queue and interrupted.
 */
export async function runPrompt(http: ComfyHttp, socket: ComfySocket, options: RunOptions): Promise<RunResult> {
  const { graph, signal } = options;
  // Ours until the server answers with its own (an older ComfyUI ignores the id we offer).
  let promptId = options.promptId;
  signal?.throwIfAborted();
  const track = progressTracker(graph, (p) => options.onProgress?.(p));
  let wake: () => void = () => {};
  let failure: ComfyMessage | undefined;
  let ended = false;
  const onMessage = (message: ComfyMessage) => {
    track(message);
    if (message.type === "execution_error" || message.type === "execution_interrupted") failure = message;
    const end =
      message.type === "execution_success" ||
      message.type === "execution_error" ||
      message.type === "execution_interrupted" ||
      (message.type === "executing" && message.data.node === null);
    if (end) {
      ended = true;
      wake();
    }
  };
  let unlisten = socket.listen(promptId, onMessage);
  const stop = new AbortController();
  const timer = setTimeout(() => stop.abort(new Error("timeout")), options.timeoutMs);
  const onAbort = () => stop.abort(signal?.reason);
  signal?.addEventListener("abort", onAbort, { once: true });
  let submitted = false;
  try {
    // Open the socket first so early events are not missed; polling covers it if it will not open.
    await socket.ready(1_000);
    // From here on a cancel must reach ComfyUI: it may have accepted the prompt before we hear back.
    submitted = true;
    // Not cut short by a cancel: an older ComfyUI's answer is the only way to learn the id to delete.
    const queued = await http.queuePrompt(graph, promptId, socket.clientId).catch((error: unknown) => {
      // The connection broke after the prompt was sent: ComfyUI may or may not have it. Polling finds
      // out (in history or queue: it runs; in neither: lost, and the caller resubmits). An older
      // ComfyUI that made its own id cannot be found this way: it counts as lost.
      const unknownFate =
        error instanceof FaceEngineError && error.code === "unavailable" && error.details?.refused !== true;
      if (!unknownFate) throw error;
      return undefined;
    });
    if (queued && queued.promptId !== promptId) {
      // Events before this point carried the server's id and were missed; history polling covers them.
      unlisten();
      promptId = queued.promptId;
      unlisten = socket.listen(promptId, onMessage);
    }
    stop.signal.throwIfAborted();
    options.onQueued?.(promptId);
    stop.signal.addEventListener("abort", () => wake(), { once: true });
    let polls = 0;
    const reachability = { since: undefined as number | undefined, limitMs: options.unreachableMs ?? 30_000 };
    for (;;) {
      if (!ended) {
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, options.pollMs);
          wake = () => {
            clearTimeout(t);
            resolve();
          };
        });
      }
      stop.signal.throwIfAborted();
      const state = await pollOnce(http, promptId, ++polls, stop.signal, reachability);
      if (state === "finished-pending" && ended) {
        // The socket said it ended but history has not caught up yet: look again shortly.
        ended = false;
        continue;
      }
      if (state === "lost") return { kind: "lost" };
      if (typeof state === "object") {
        if (state.status?.status_str === "error" || failure) throw executionFailure(state, failure, graph);
        return { kind: "finished", entry: state };
      }
    }
  } catch (error) {
    if (stop.signal.aborted) {
      if (submitted) await http.cancel(promptId).catch(() => {});
      if (signal?.aborted) throw signal.reason;
      throw new FaceEngineError(
        "timeout",
        `ComfyUI did not finish the page within ${Math.round(options.timeoutMs / 1000)} s; the prompt was cancelled`,
        true,
        { promptId },
      );
    }
    throw error;
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener("abort", onAbort);
    unlisten();
  }
}

/**
 * One look at ComfyUI: the history entry when finished; "lost" when neither in history nor in the
 * queue (a restart forgot it; checked queue first so a prompt finishing in between shows in history);
 * "finished-pending" otherwise. A ComfyUI that is briefly unreachable (restarting) is not a failure
 * here: the prompt's own time limit bounds the wait.
 */
async function pollOnce(
  http: ComfyHttp,
  promptId: string,
  round: number,
  signal: AbortSignal,
  reachability: { since: number | undefined; limitMs: number },
): Promise<HistoryEntry | "lost" | "finished-pending"> {
  try {
    const entry = await http.history(promptId, signal);
    reachability.since = undefined;
    if (entry) return entry;
    if (round % 2 === 0 && !(await http.inQueue(promptId, signal))) {
      return (await http.history(promptId, signal)) ?? "lost";
    }
  } catch (error) {
    if (!(error instanceof FaceEngineError && error.code === "unavailable")) throw error;
    reachability.since ??= performance.now();
    if (performance.now() - reachability.since > reachability.limitMs) throw error;
  }
  return "finished-pending";
}

function executionFailure(entry: HistoryEntry, message: ComfyMessage | undefined, graph: ApiGraph): FaceEngineError {
  const fromHistory = entry.status?.messages?.find(
    ([type]) => type === "execution_error" || type === "execution_interrupted",
  );
  const data = (message?.data ?? fromHistory?.[1] ?? {}) as Record<string, unknown>;
  const type = message?.type ?? fromHistory?.[0];
  const node = String(data.node_id ?? "?");
  const title = graph[node]?._meta?.title;
  const where = `node ${node} (${String(data.node_type ?? graph[node]?.class_type ?? "?")}${title ? `, "${title}"` : ""})`;
  if (type === "execution_interrupted") {
    return new FaceEngineError("execution_failed", `ComfyUI interrupted the prompt at ${where}`, true, { node });
  }
  return new FaceEngineError(
    "execution_failed",
    `ComfyUI failed at ${where}: ${String(data.exception_message ?? "unknown error").trim()}`,
    true,
    { node, exception: data.exception_type },
  );
}
