import { createHash, randomUUID } from "node:crypto";
import { FaceEngineError } from "../errors.ts";
import type { EngineReadiness, FaceEngine, PersonalizeRequest } from "../types.ts";
import { type FaceWorkflow, loadFaceWorkflow } from "../../workflow/params.ts";
import { checkServer, type ServerCheck } from "./check.ts";
import { ComfyHttp } from "./http.ts";
import { runPrompt } from "./run.ts";
import { ComfySocket } from "./socket.ts";
import { warmUpInputs, warmUpPrompt } from "./warmup.ts";

export interface ComfyEngineConfig {
  /** COMFY_BASE_URL, e.g. `http://comfyui:8188`. */
  baseUrl: string;
  /** COMFY_PROMPT_TIMEOUT_SECONDS × 1000: from submission to the background, queue wait included. */
  promptTimeoutMs: number;
  /** IPADAPTER_STRENGTH_SCALE. */
  strengthScale?: number;
  /**
   * Prompts this engine keeps in ComfyUI at once (running + waiting), default 2: the next page is
   * queued while the current one runs, so the GPU never waits for us, and no more is piled up.
   */
  maxInFlight?: number;
  /** How often /history is polled besides the socket, default 1000 ms. */
  pollMs?: number;
  /** Resubmissions of a prompt ComfyUI lost by restarting, default 2. */
  resubmits?: number;
  /** Defaults to the face workflow in workflow/, checked against its parameter map here. */
  workflow?: FaceWorkflow;
  negativePrompt?: string;
  /** How often a failed start-up check of the server is repeated (readiness asks), default 10 s. */
  recheckMs?: number;
  /**
   * Once the server check passes, send one warm-up prompt (the face workflow at 256 px and one step,
   * warmup.ts) and report `warming` until it has run: ComfyUI loads its models for it, not during
   * the first parent's page. Off unless asked (the gpu runner asks: COMFY_WARMUP).
   */
  warmUp?: boolean;
  /** The wait before a failed warm-up is tried again, doubled after each failure up to 5 minutes; default 5 s. */
  warmUpRetryMs?: number;
}

/** Where the warm-up stands: not started, running, done (its seconds), or failed (tried again at `retryAt`). */
type WarmUp =
  | { phase: "pending" }
  | { phase: "warming" }
  | { phase: "warm"; seconds: number }
  | { phase: "failed"; reason: string; failures: number; retryAt: number };

const MAX_WARM_UP_RETRY_MS = 300_000;

const defaultNegative = "photo, realistic, deformed face, extra eyes, blurry, text, watermark";
const pngMagic = Buffer.from([0x89, 0x50, 0x4e, 0x47]);

/** A page handed to the engine; `result()` is the background. */
export interface PendingPage {
  result(): Promise<Buffer>;
}

export interface ComfyEngine extends FaceEngine {
  readonly name: "comfyui";
  /** Starts a page without waiting for it (personalize() is `submit(r).result()`). */
  submit(request: PersonalizeRequest): PendingPage;
  /**
   * What the server would refuse or miss in the workflow with our parameters (one line each): the
   * start-up check behind readiness. Empty when ComfyUI would accept and run it.
   */
  check(): Promise<string[]>;
  /** The same check with the server's comfyui_version (/system_stats). */
  checkServer(): Promise<ServerCheck>;
  /** Seconds the warm-up prompt took (uploads included) once it has run; undefined before. */
  warmUpSeconds(): number | undefined;
  /** ComfyUI's pending plus running prompts, asked now. */
  queueDepth(signal?: AbortSignal): Promise<number>;
}

/**
 * The ComfyUI face engine. Safe to call concurrently: uploads of the next page overlap the running
 * prompt, and at most `maxInFlight` prompts sit in ComfyUI, so with a runner concurrency of 2 ComfyUI
 * always has the next prompt queued when the current one ends.
 */
export function createComfyEngine(config: ComfyEngineConfig): ComfyEngine {
  const workflow = config.workflow ?? loadFaceWorkflow();
  const strengthScale = config.strengthScale ?? 1;
  const scaleProblems = workflow.scaleProblems(strengthScale);
  if (scaleProblems.length > 0) throw new Error(scaleProblems.join("; "));
  const http = new ComfyHttp(config.baseUrl);
  const wsUrl = new URL("/ws", config.baseUrl);
  wsUrl.protocol = wsUrl.protocol === "https:" ? "wss:" : "ws:";
  const socket = new ComfySocket(wsUrl.toString(), `faceapp-${randomUUID()}`);
  const slots = new Semaphore(config.maxInFlight ?? 2);
  // The graph as a page would send it, the LoadImage names aside: what the start-up check validates.
  const sample = workflow.build({
    childImage: "child.png",
    illustration: "illustration.png",
    mask: "mask.png",
    prompt: "",
    negativePrompt: config.negativePrompt ?? defaultNegative,
    seed: 0,
    strengthScale,
  });
  let checked: { at: number; problems: string[]; comfyuiVersion: string | undefined } | undefined;
  const recheckMs = config.recheckMs ?? 10_000;
  let warm: WarmUp = { phase: "pending" };
  const closing = new AbortController();

  /** Runs the warm-up prompt; resolves with its seconds, rejects with why it did not run. */
  async function warmUp(): Promise<number> {
    const started = performance.now();
    const signal = closing.signal;
    const images = await warmUpInputs();
    const [childImage, illustration, mask] = await Promise.all([
      upload(images.faceCrop, "warmup-child", signal),
      upload(images.illustration, "warmup-art", signal),
      upload(images.mask, "warmup-mask", signal),
    ]);
    const graph = workflow.build({
      childImage,
      illustration,
      mask,
      prompt: warmUpPrompt,
      negativePrompt: config.negativePrompt ?? defaultNegative,
      seed: 0,
      strengthScale,
      steps: 1,
    });
    const result = await runPrompt(http, socket, {
      graph,
      promptId: randomUUID(),
      timeoutMs: config.promptTimeoutMs,
      pollMs: config.pollMs ?? 1_000,
      signal,
    });
    if (result.kind === "lost") {
      // The uploads went with it when ComfyUI restarted: the next try sends them again.
      uploaded.clear();
      throw new FaceEngineError("unavailable", "ComfyUI restarted and lost the warm-up prompt", true);
    }
    if (!result.entry.outputs[workflow.output.node]?.images?.[0]) {
      throw new FaceEngineError("bad_output", "ComfyUI finished the warm-up prompt without an image", true);
    }
    return (performance.now() - started) / 1000;
  }

  /** Starts the warm-up unless it runs, ran, or failed too recently. */
  function startWarmUp(): void {
    if (warm.phase === "warming" || warm.phase === "warm") return;
    if (warm.phase === "failed" && performance.now() < warm.retryAt) return;
    const failures = warm.phase === "failed" ? warm.failures : 0;
    warm = { phase: "warming" };
    warmUp().then(
      (seconds) => {
        warm = { phase: "warm", seconds };
      },
      (error: unknown) => {
        if (closing.signal.aborted) return;
        const wait = Math.min((config.warmUpRetryMs ?? 5_000) * 2 ** failures, MAX_WARM_UP_RETRY_MS);
        const reason = error instanceof Error ? error.message : String(error);
        warm = { phase: "failed", reason, failures: failures + 1, retryAt: performance.now() + wait };
      },
    );
  }

  // Content-addressed names: a book's art is uploaded to a ComfyUI once, not once per page; the
  // cache is dropped when ComfyUI shows it lost files (a restart, a 400 for a missing LoadImage file).
  const uploaded = new Map<string, string>();
  async function upload(bytes: Buffer, kind: string, signal?: AbortSignal): Promise<string> {
    const hash = createHash("sha256").update(bytes).digest("hex").slice(0, 24);
    const known = uploaded.get(hash);
    if (known) return known;
    const name = await transient(() => http.upload(bytes, `faceapp-${kind}-${hash}.png`, signal), signal);
    uploaded.set(hash, name);
    return name;
  }

  async function personalize(request: PersonalizeRequest): Promise<Buffer> {
    const { signal } = request;
    let reuploaded = false;
    for (let attempt = 0; ; attempt++) {
      const [childImage, illustration, mask] = await Promise.all([
        upload(request.faceCrop, "child", signal),
        upload(request.illustration, "art", signal),
        upload(request.mask, "mask", signal),
      ]);
      const graph = workflow.build({
        childImage,
        illustration,
        mask,
        prompt: request.prompt,
        negativePrompt: request.negativePrompt ?? config.negativePrompt ?? defaultNegative,
        seed: request.seed,
        strengthScale,
      });
      const result = await slots
        .use(signal, () =>
          runPrompt(http, socket, {
            graph,
            promptId: randomUUID(),
            timeoutMs: config.promptTimeoutMs,
            pollMs: config.pollMs ?? 1_000,
            ...(signal ? { signal } : {}),
            ...(request.onProgress ? { onProgress: request.onProgress } : {}),
            ...(request.onQueued ? { onQueued: request.onQueued } : {}),
          }),
        )
        .catch((error: unknown) => {
          if (error instanceof FaceEngineError && error.details?.missingUpload === true && !reuploaded) {
            reuploaded = true;
            uploaded.clear();
            return { kind: "lost" as const };
          }
          throw error;
        });
      if (result.kind === "lost") {
        uploaded.clear();
        if (attempt < (config.resubmits ?? 2)) continue;
        throw new FaceEngineError(
          "unavailable",
          "ComfyUI restarted and lost the prompt each time it was submitted",
          true,
        );
      }
      const image = result.entry.outputs[workflow.output.node]?.images?.[0];
      if (!image) throw new FaceEngineError("bad_output", "ComfyUI finished without the background image", true);
      const bytes = await http.view(image, signal);
      if (!bytes.subarray(0, 4).equals(pngMagic)) {
        throw new FaceEngineError("bad_output", "ComfyUI's background is not a PNG", true);
      }
      request.onProgress?.(100);
      return bytes;
    }
  }

  return {
    name: "comfyui",
    personalize,
    submit(request) {
      const result = personalize(request);
      // The caller awaits result(); until then a rejection must not count as unhandled.
      result.catch(() => {});
      return { result: () => result };
    },
    async check() {
      return (await this.checkServer()).problems;
    },
    checkServer: () => checkServer(http, sample, AbortSignal.timeout(30_000)),
    warmUpSeconds: () => (warm.phase === "warm" ? warm.seconds : undefined),
    queueDepth: (signal) => http.queueRemaining(signal ?? AbortSignal.timeout(2_000)),
    async readiness(): Promise<EngineReadiness> {
      try {
        const queueRemaining = await http.queueRemaining(AbortSignal.timeout(2_000));
        // /object_info is large on a real server: once it passed it is not asked again; while it fails
        // it is asked again every recheckMs, so the runner turns ready when the models arrive.
        if (!checked || (checked.problems.length > 0 && performance.now() - checked.at >= recheckMs)) {
          checked = { at: performance.now(), ...(await this.checkServer()) };
        }
        const { problems, comfyuiVersion } = checked;
        const seen = { engine: "comfyui" as const, reachable: true, queueRemaining, comfyuiVersion };
        if (problems.length > 0) {
          const reason = `ComfyUI cannot run the face workflow: ${problems.join("; ")}`;
          return { ...seen, ready: false, status: "unavailable", reason, problems };
        }
        if (!config.warmUp) return { ...seen, ready: true, status: "ready" };
        startWarmUp();
        // Read again: a warm-up that failed at once (a refused upload) has already said why.
        const now = warm as WarmUp;
        if (now.phase === "warm") return { ...seen, ready: true, status: "ready", warmUpSeconds: now.seconds };
        if (now.phase === "failed") {
          const next = Math.max(0, Math.ceil((now.retryAt - performance.now()) / 1000));
          const reason = `the warm-up prompt failed (${now.failures} time${now.failures === 1 ? "" : "s"}): ${now.reason}; next try in ${next} s`;
          return { ...seen, ready: false, status: "unavailable", reason };
        }
        const reason = "warming up: ComfyUI is loading the models for a first small prompt";
        return { ...seen, ready: false, status: "warming", reason };
      } catch (error) {
        const problem = (error as Error).message;
        return { engine: "comfyui", ready: false, status: "unavailable", reachable: false, problem, reason: problem };
      }
    },
    async close() {
      closing.abort(new Error("the engine is closing"));
      socket.close();
    },
  };
}

/**
 * Retries a step that failed because ComfyUI was briefly unreachable (a restart, a dropped keep-alive
 * connection): three more tries over about a second; longer outages are the job's retry's business.
 */
async function transient<T>(step: () => Promise<T>, signal?: AbortSignal): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await step();
    } catch (error) {
      if (!(error instanceof FaceEngineError && error.code === "unavailable") || attempt >= 3) throw error;
      await new Promise((r) => setTimeout(r, 100 * 2 ** attempt));
      signal?.throwIfAborted();
    }
  }
}

/** A counting semaphore whose waiters leave when their signal aborts. */
class Semaphore {
  private waiters: Array<() => void> = [];
  constructor(private free: number) {}

  async use<T>(signal: AbortSignal | undefined, work: () => Promise<T>): Promise<T> {
    if (this.free > 0) this.free--;
    else {
      await new Promise<void>((resolve, reject) => {
        const onAbort = () => {
          this.waiters = this.waiters.filter((w) => w !== go);
          reject(signal?.reason);
        };
        const go = () => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        };
        signal?.throwIfAborted();
        signal?.addEventListener("abort", onAbort, { once: true });
        this.waiters.push(go);
      });
    }
    try {
      return await work();
    } finally {
      const next = this.waiters.shift();
      if (next) next();
      else this.free++;
    }
  }
}
