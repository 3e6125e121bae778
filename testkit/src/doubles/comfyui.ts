import { randomUUID } from "node:crypto";
import { EventEmitter } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { WebSocket, WebSocketServer } from "ws";
import {
  folderInputs,
  loadImageValidator,
  type ObjectInfo,
  validatePrompt,
  withFolderLists,
} from "@faceapp/core/comfyui";
import { type ApiGraph, executionOrder, fixtureObjectInfo } from "./comfyui-validate.ts";
import { type Folders, uploadImage, viewFile } from "./comfyui-files.ts";

// A ComfyUI test double over a real HTTP and WebSocket socket, built from docs/comfyui-protocol.md:
// the routes the GPU runner uses, event order and targeting, `{node: null}` completion, the /history
// shape, upload renaming, interrupt and queue delete. Every prompt is validated as execution.py does
// against an object_info extracted from the pinned sources (400 with the real error types). It can
// play the current server or an older one (client prompt_id ignored, /interrupt untargeted), and be
// told to be slow, hang, drop its sockets, fail a node, go away and come back, or restart.

export interface ComfyDoubleOptions {
  /** Time one prompt takes, spread over the sampler's progress steps; 0 (default) is instant. */
  promptMs?: number;
  /** Progress events of the sampler node per prompt, default 4. */
  progressSteps?: number;
  /** The output image a SaveImage node writes; default: the bytes of the graph's last LoadImage input. */
  render?: (graph: ApiGraph, input: (name: string) => Buffer | undefined) => Buffer | Promise<Buffer>;
  /** The node classes and lists served and validated against; default: the pinned sources' fixture. */
  objectInfo?: ObjectInfo;
  /**
   * "current" (default): honours a client's prompt_id and `POST /interrupt {prompt_id}` (ComfyUI since
   * July / September 2025). "legacy": makes its own prompt ids and interrupts whatever runs.
   */
  server?: "current" | "legacy";
}

/** What each behaviour reports as comfyui_version in /system_stats. */
export const doubleVersions = { current: "0.8.1", legacy: "0.3.40" } as const;

interface QueueItem {
  number: number;
  promptId: string;
  graph: ApiGraph;
  clientId: string | undefined;
  outputs: string[];
}

type HistoryEntry = {
  prompt: unknown[];
  outputs: Record<string, { images: Array<{ filename: string; subfolder: string; type: string }> }>;
  status: { status_str: "success" | "error"; completed: boolean; messages: Array<[string, unknown]> };
  meta: Record<string, unknown>;
};

/** What the double saw, for tests and the benchmark: prompt start and end times in ms (performance.now). */
export interface PromptRecord {
  promptId: string;
  clientId: string | undefined;
  queuedAt: number;
  startedAt?: number;
  endedAt?: number;
  outcome?: "success" | "error" | "interrupted" | "deleted" | "lost";
}

class Interrupted extends Error {}

export class ComfyDouble extends EventEmitter {
  url = "";
  promptMs: number;
  progressSteps: number;
  readonly records = new Map<string, PromptRecord>();
  readonly interrupts: Array<string | null> = [];
  /** Client ids of the WebSocket connections, in order. */
  readonly connections: string[] = [];
  /** Names of the files posted to /upload/image, in order. */
  readonly uploadLog: string[] = [];
  /** The input and output folders (kept across restarts, as on disk). */
  readonly folders: Folders = { input: new Map(), output: new Map() };
  /** Files in the input folder by name. */
  readonly inputs = this.folders.input;
  /** Served as /object_info and validated against; tests may change it (see removeModel, addModel). */
  objectInfo: ObjectInfo;
  readonly behaviour: "current" | "legacy";
  /** Node ids or class types that raise an execution error when they run. */
  readonly failing = new Map<string, string>();
  refuseSockets = false;
  private hanging = false;
  private hung: Array<() => void> = [];

  private server!: Server;
  private wss = new WebSocketServer({ noServer: true });
  private sockets = new Map<string, WebSocket>();
  private queue: QueueItem[] = [];
  private running: (QueueItem & { node?: string; interrupt?: () => void }) | undefined;
  private history = new Map<string, HistoryEntry>();
  private counter = 0;
  private saved = 0;
  private generation = 0;
  private port = 0;
  private render: NonNullable<ComfyDoubleOptions["render"]>;

  constructor(options: ComfyDoubleOptions = {}) {
    super();
    this.promptMs = options.promptMs ?? 0;
    this.progressSteps = options.progressSteps ?? 4;
    this.objectInfo = options.objectInfo ?? fixtureObjectInfo();
    this.behaviour = options.server ?? "current";
    this.render =
      options.render ??
      ((graph, input) => {
        const loads = Object.values(graph).filter((n) => n.class_type === "LoadImage");
        const last = loads[loads.length - 1];
        return input(String(last?.inputs.image)) ?? Buffer.alloc(0);
      });
  }

  /** Starts listening on 127.0.0.1 (a free port, or the one given). */
  async listen(port = 0): Promise<this> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((error: Error) => {
        if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
        res.end(error.message);
      });
    });
    this.server.on("upgrade", (req, socket, head) => {
      const url = new URL(req.url ?? "/", "http://x");
      if (this.refuseSockets || url.pathname.replace(/^\/api/, "") !== "/ws") {
        socket.destroy();
        return;
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => this.connect(ws, url.searchParams.get("clientId")));
    });
    await new Promise<void>((resolve) => this.server.listen(port, "127.0.0.1", resolve));
    this.port = (this.server.address() as AddressInfo).port;
    this.url = `http://127.0.0.1:${this.port}`;
    return this;
  }

  private paused: { promise: Promise<void>; resolve: () => void } | undefined;

  /** Holds the running prompt before its next step until `resume()`: lets a test act mid-prompt without racing it. */
  pause(): void {
    if (this.paused) return;
    let resolve: () => void = () => {};
    const promise = new Promise<void>((r) => (resolve = r));
    this.paused = { promise, resolve };
  }

  resume(): void {
    this.paused?.resolve();
    this.paused = undefined;
  }

  /** Takes a file out of a models folder's lists (as if it were not on disk). */
  removeModel(folder: string, file: string): void {
    this.setModels(folder, (list) => list.filter((f) => f !== file));
  }

  /** Adds a file to a models folder's lists (as if the models service had just written it). */
  addModel(folder: string, file: string): void {
    this.setModels(folder, (list) => [...new Set([...list, file])]);
  }

  private setModels(folder: string, change: (list: string[]) => string[]): void {
    const current = this.objectInfo;
    const bound = folderInputs.filter((b) => b.folder === folder);
    for (const b of bound) {
      const spec = current[b.classType]?.input.required?.[b.input] ?? current[b.classType]?.input.optional?.[b.input];
      if (!spec || !Array.isArray(spec[0])) continue;
      this.objectInfo = withFolderLists(this.objectInfo, [b], { [folder]: change(spec[0].map(String)) });
    }
  }

  /** The object_info as served now: LoadImage lists the input folder. */
  currentObjectInfo(): ObjectInfo {
    return withFolderLists(this.objectInfo, folderInputs, { input: [...this.inputs.keys()] });
  }

  /** Makes every following prompt take `ms` (0: instant). */
  slow(ms: number): void {
    this.promptMs = ms;
  }

  /** Closes every socket at once, as a flaky network would; clients must reconnect. */
  dropSockets(): void {
    for (const ws of this.sockets.values()) ws.terminate();
    this.sockets.clear();
  }

  /** Makes a node (by id or class type) raise an execution error with `message`. */
  failNode(idOrClass: string, message = "simulated failure"): void {
    this.failing.set(idOrClass, message);
  }

  /**
   * Makes every prompt stop at its sampler and never finish on its own, as a hung GPU or node does;
   * the server still answers, and interrupt and queue delete still work. `hang(false)` lets hung
   * prompts go on.
   */
  hang(on = true): void {
    this.hanging = on;
    if (!on) for (const release of this.hung.splice(0)) release();
  }

  /**
   * The process goes away (connections refused) until `start()`: its queue and history are lost, as
   * on a crash; files in the input and output folders survive, as on disk.
   */
  async stop(): Promise<void> {
    this.generation++;
    this.dropSockets();
    if (this.running) {
      this.record(this.running.promptId).outcome = "lost";
      this.running.interrupt?.();
    }
    for (const item of this.queue) this.record(item.promptId).outcome = "lost";
    this.queue = [];
    this.running = undefined;
    this.history.clear();
    await this.closeServer();
  }

  /** Comes back on the same port after `stop()`, with an empty queue and history. */
  async start(): Promise<void> {
    await this.listen(this.port);
    this.emit("restarted");
  }

  /** Restarts: `stop()`, `downMs` with connections refused, then `start()`. */
  async restart(downMs = 50): Promise<void> {
    await this.stop();
    await new Promise((r) => setTimeout(r, downMs));
    await this.start();
  }

  async close(): Promise<void> {
    this.generation++;
    this.running?.interrupt?.();
    this.dropSockets();
    await this.closeServer();
  }

  /** Pending plus running, as `GET /prompt` reports it. */
  get queueRemaining(): number {
    return this.queue.length + (this.running ? 1 : 0);
  }

  private async closeServer(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }

  private record(promptId: string): PromptRecord {
    let r = this.records.get(promptId);
    if (!r) {
      r = { promptId, clientId: undefined, queuedAt: performance.now() };
      this.records.set(promptId, r);
    }
    return r;
  }

  // ── WebSocket ────────────────────────────────────────────────────────────

  private connect(ws: WebSocket, requested: string | null): void {
    const sid = requested || randomUUID().replace(/-/g, "");
    this.connections.push(sid);
    const old = this.sockets.get(sid);
    // Reconnecting with the same id replaces the old socket.
    if (old && old !== ws) old.terminate();
    this.sockets.set(sid, ws);
    this.emit("connected", sid);
    ws.on("close", () => {
      if (this.sockets.get(sid) === ws) this.sockets.delete(sid);
    });
    ws.on("error", () => {});
    this.sendTo(sid, "status", { status: { exec_info: { queue_remaining: this.queueRemaining } }, sid });
    const running = this.running;
    // server.py re-sends the running node to its client on reconnect, without prompt_id.
    if (running && running.clientId === sid && running.node) this.sendTo(sid, "executing", { node: running.node });
  }

  private sendTo(sid: string | undefined, type: string, data: unknown): void {
    if (sid === undefined) return;
    const ws = this.sockets.get(sid);
    if (ws?.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type, data }));
  }

  private broadcast(type: string, data: unknown): void {
    const frame = JSON.stringify({ type, data });
    for (const ws of this.sockets.values()) if (ws.readyState === WebSocket.OPEN) ws.send(frame);
  }

  private broadcastStatus(): void {
    this.broadcast("status", { status: { exec_info: { queue_remaining: this.queueRemaining } } });
  }

  // ── execution ────────────────────────────────────────────────────────────

  private kick(): void {
    if (this.running || this.queue.length === 0) return;
    const item = this.queue.shift()!;
    this.running = item;
    const generation = this.generation;
    void this.execute(item, generation).finally(() => {
      if (generation !== this.generation) return;
      if (this.running === item) this.running = undefined;
      this.kick();
    });
  }

  private async execute(item: QueueItem, generation: number): Promise<void> {
    const { promptId, graph, clientId } = item;
    const alive = () => generation === this.generation;
    const rec = this.record(promptId);
    rec.startedAt = performance.now();
    this.emit("started", promptId);
    const ts = () => Date.now();
    const messages: Array<[string, unknown]> = [];
    const send = (type: string, data: Record<string, unknown>) => {
      if (type.startsWith("execution_")) messages.push([type, data]);
      this.sendTo(clientId, type, data);
    };
    send("execution_start", { prompt_id: promptId, timestamp: ts() });
    send("execution_cached", { nodes: [], prompt_id: promptId, timestamp: ts() });
    const outputs: HistoryEntry["outputs"] = {};
    const executed: string[] = [];
    let current = "";
    let status: "success" | "error" = "success";
    try {
      for (const id of executionOrder(graph)) {
        const node = graph[id]!;
        current = id;
        this.running!.node = id;
        send("executing", { node: id, display_node: id, prompt_id: promptId });
        const failure = this.failing.get(id) ?? this.failing.get(node.class_type);
        if (failure !== undefined) {
          status = "error";
          send("execution_error", {
            prompt_id: promptId,
            node_id: id,
            node_type: node.class_type,
            executed,
            exception_message: failure,
            exception_type: "RuntimeError",
            traceback: [],
            current_inputs: {},
            current_outputs: {},
            timestamp: ts(),
          });
          break;
        }
        if (node.class_type === "KSampler") {
          const steps = this.progressSteps;
          for (let step = 1; step <= steps; step++) {
            await this.wait(this.promptMs / steps);
            if (!alive()) return;
            const progress = { value: step, max: steps, prompt_id: promptId, node: id };
            // Progress of a prompt without client_id is broadcast to every socket.
            if (clientId === undefined) this.broadcast("progress", progress);
            else this.sendTo(clientId, "progress", progress);
            this.emit("progress", promptId, step, steps);
          }
        }
        if (this.objectInfo[node.class_type]?.output_node === true) {
          const bytes = await this.render(graph, (name) => this.inputs.get(name));
          if (!alive()) return;
          const prefix = String(node.inputs.filename_prefix ?? "ComfyUI");
          const type = node.class_type === "SaveImage" ? "output" : "temp";
          const filename = `${prefix}_${String(++this.saved).padStart(5, "0")}_.png`;
          this.folders.output.set(`${type}/${filename}`, bytes);
          const images = [{ filename, subfolder: "", type }];
          outputs[id] = { images };
          send("executed", { node: id, display_node: id, output: { images }, prompt_id: promptId });
        }
        executed.push(id);
      }
      if (status === "success") send("execution_success", { prompt_id: promptId, timestamp: ts() });
    } catch (error) {
      if (!(error instanceof Interrupted) || !alive()) return;
      status = "error";
      const data = { prompt_id: promptId, node_id: current, node_type: graph[current]?.class_type, executed };
      messages.push(["execution_interrupted", data]);
      // execution.py add_message(broadcast=True): to the prompt's client, or to every socket when the
      // prompt came without client_id.
      if (clientId === undefined) this.broadcast("execution_interrupted", { ...data, timestamp: ts() });
      else this.sendTo(clientId, "execution_interrupted", { ...data, timestamp: ts() });
      rec.outcome = "interrupted";
    }
    rec.endedAt = performance.now();
    rec.outcome ??= status;
    this.history.set(promptId, {
      prompt: [item.number, promptId, graph, { client_id: clientId }, item.outputs],
      outputs,
      status: { status_str: status, completed: status === "success", messages },
      meta: {},
    });
    this.running = undefined;
    this.broadcastStatus();
    this.sendTo(clientId, "executing", { node: null, prompt_id: promptId });
    this.emit("finished", promptId, rec.outcome);
  }

  /**
   * Waits `ms` (yielding even at 0), and for as long as the double hangs; throws Interrupted when the
   * running prompt is interrupted.
   */
  private async wait(ms: number): Promise<void> {
    while (this.paused) await this.paused.promise;
    if (this.hanging) {
      await this.interruptible((done) => {
        this.hung.push(done);
        return () => {
          this.hung = this.hung.filter((h) => h !== done);
        };
      });
    }
    await this.interruptible((done) => {
      if (ms <= 0) {
        const immediate = setImmediate(done);
        return () => clearImmediate(immediate);
      }
      const timer = setTimeout(done, ms);
      return () => clearTimeout(timer);
    });
  }

  /** Runs a step the running prompt's interrupt can cut short; `start` returns how to cancel it. */
  private interruptible(start: (done: () => void) => () => void): Promise<void> {
    return new Promise((resolve, reject) => {
      const cancel = start(resolve);
      this.running!.interrupt = () => {
        cancel();
        reject(new Interrupted());
      };
    });
  }

  // ── HTTP ─────────────────────────────────────────────────────────────────

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://x");
    const path = url.pathname.replace(/^\/api(?=\/)/, "");
    const body = await readBody(req);
    const json = (status: number, data?: unknown) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(data === undefined ? "" : JSON.stringify(data));
    };
    const route = `${req.method} ${path}`;
    if (route === "POST /prompt") return this.postPrompt(body, json);
    if (route === "GET /prompt") return json(200, { exec_info: { queue_remaining: this.queueRemaining } });
    if (route === "GET /queue") {
      const item = (q: QueueItem) => [q.number, q.promptId, q.graph, { client_id: q.clientId }, q.outputs];
      return json(200, {
        queue_running: this.running ? [item(this.running)] : [],
        queue_pending: this.queue.map(item),
      });
    }
    if (route === "POST /queue") {
      const data = parseJson(body) as { clear?: boolean; delete?: string[] };
      const remove = (q: QueueItem) => data.clear === true || (data.delete ?? []).includes(q.promptId);
      for (const q of this.queue.filter(remove)) this.record(q.promptId).outcome = "deleted";
      this.queue = this.queue.filter((q) => !remove(q));
      this.broadcastStatus();
      return json(200);
    }
    if (route === "POST /interrupt") {
      const data = parseJson(body) as { prompt_id?: string };
      this.interrupts.push(data.prompt_id ?? null);
      // An older server ignores the body and interrupts whatever runs.
      const targeted = this.behaviour === "current" && typeof data.prompt_id === "string" && data.prompt_id !== "";
      if (this.running && (!targeted || data.prompt_id === this.running.promptId)) {
        this.running.interrupt?.();
      }
      return json(200);
    }
    if (req.method === "GET" && path.startsWith("/history/")) {
      const id = decodeURIComponent(path.slice("/history/".length));
      const entry = this.history.get(id);
      return json(200, entry ? { [id]: entry } : {});
    }
    if (route === "GET /view") return viewFile(this.folders, url, res);
    if (route === "POST /upload/image") {
      const stored = await uploadImage(this.folders, req.headers["content-type"] ?? "", body);
      if (!stored) return json(400);
      this.uploadLog.push(stored.original);
      return json(200, stored.answer);
    }
    if (route === "GET /system_stats") {
      return json(200, {
        system: {
          os: "posix",
          ram_total: 0,
          ram_free: 0,
          comfyui_version: doubleVersions[this.behaviour],
          python_version: "",
          pytorch_version: "",
        },
        devices: [{ name: "double", type: "cpu", index: 0, vram_total: 0, vram_free: 0 }],
      });
    }
    if (route === "GET /object_info") return json(200, this.currentObjectInfo());
    if (route === "POST /free") return json(200);
    json(404, { error: "not found" });
  }

  private postPrompt(body: Buffer, json: (status: number, data?: unknown) => void): void {
    const data = parseJson(body) as { prompt?: unknown; client_id?: string; prompt_id?: string; front?: boolean };
    const result = validatePrompt(data.prompt, this.objectInfo, {
      custom: { LoadImage: loadImageValidator((name) => this.inputs.has(name)) },
    });
    if (!result.ok) {
      json(400, { error: result.error, node_errors: result.node_errors });
      return;
    }
    // server.py: str(json_data.get("prompt_id", uuid4())); older servers always made their own.
    const promptId =
      this.behaviour === "current" && data.prompt_id !== undefined ? String(data.prompt_id) : randomUUID();
    const item: QueueItem = {
      number: this.counter++,
      promptId,
      graph: data.prompt as ApiGraph,
      clientId: data.client_id,
      outputs: result.outputs,
    };
    const rec = this.record(promptId);
    rec.clientId = data.client_id;
    rec.queuedAt = performance.now();
    if (data.front) this.queue.unshift(item);
    else this.queue.push(item);
    this.emit("queued", promptId);
    this.broadcastStatus();
    this.kick();
    json(200, { prompt_id: promptId, number: item.number, node_errors: result.node_errors });
  }
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function parseJson(body: Buffer): unknown {
  if (body.length === 0) return {};
  try {
    return JSON.parse(body.toString("utf8"));
  } catch {
    return {};
  }
}

/** Starts a ComfyUI double on a free port. */
export async function startComfyDouble(options: ComfyDoubleOptions = {}): Promise<ComfyDouble> {
  return new ComfyDouble(options).listen();
}
