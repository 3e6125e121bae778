import * as v from "valibot";
import {
  BaseEnv,
  bool,
  defaultDataDir,
  int,
  loadDotEnv,
  loadEnvOrExit,
  localSecret,
  num,
  repoRoot,
  requiredInProduction,
  str,
  url,
  webhooksInProduction,
} from "@faceapp/core";

loadDotEnv(repoRoot);

export const RunnerEnv = v.pipe(
  v.object({
    ...BaseEnv,
    /** Jobs run at once by this runner (default gpu 2, render 2). */
    RUNNER_CONCURRENCY: v.optional(
      v.pipe(
        v.string(),
        v.regex(/^\d+$/, "must be a whole number"),
        v.transform(Number),
        v.minValue(1, "must be at least 1"),
      ),
    ),
    /** The runner's own /healthz and /readyz; 0 picks a free port. */
    RUNNER_HEALTH_PORT: int(0, 0, 65535),
    /** A worker whose heartbeat is older than this has its jobs unlocked for others. */
    RUNNER_STALE_AFTER_SECONDS: int(60, 2, 3600),
    RUNNER_HEARTBEAT_SECONDS: int(10, 1, 600),
    /** How long SIGTERM waits for running jobs before releasing them. */
    RUNNER_DRAIN_SECONDS: int(30, 0, 3600),

    // gpu runner
    FACE_ENGINE: v.optional(v.picklist(["comfyui", "composite"], "must be comfyui or composite")),
    COMFY_BASE_URL: v.optional(url()),
    COMFY_PROMPT_TIMEOUT_SECONDS: int(600, 5, 7200),
    /** Send one small warm-up prompt at start and take no page until it has run (docs/comfyui.md). */
    COMFY_WARMUP: bool(true),
    IPADAPTER_STRENGTH_SCALE: num(1, 0, 3),
    VLM_BASE_URL: v.optional(url()),
    QWEN_MODEL_ID: v.optional(str(), "Qwen/Qwen2-VL-2B-Instruct"),
    INSIGHTFACE_HOME: v.optional(str()),
    MODELS_DIR: v.optional(str()),
    HF_HOME: v.optional(str()),

    // render runner
    CHROMIUM_PATH: v.optional(str(), "/usr/lib/chromium/chromium-headless-shell"),
    /** The browser is replaced after this many pages (bounded memory growth). */
    RENDER_BROWSER_MAX_PAGES: int(500, 1, 100_000),
    /** The browser is closed after this long without a page (0: kept); the next page launches one. */
    RENDER_BROWSER_IDLE_SECONDS: int(30, 0, 86_400),
    RENDER_TIMEOUT_SECONDS: int(20, 1, 600),
    /** Seconds before each retry of a failed webhook delivery, comma-separated (docs/webhooks.md). */
    WEBHOOK_RETRY_SCHEDULE: v.optional(
      v.pipe(
        v.string(),
        v.regex(/^\d+(\.\d+)?(,\d+(\.\d+)?){0,19}$/, "must be up to 20 numbers of seconds, comma-separated"),
        v.transform((s) => s.split(",").map(Number)),
      ),
      "5,300,1800,7200,18000,36000,36000",
    ),
    /** The most one webhook attempt may take, connection included (which has at most 5 s). */
    WEBHOOK_TIMEOUT_SECONDS: int(15, 1, 60),
  }),
  requiredInProduction("DATABASE_URL"),
  requiredInProduction("AWS_ENDPOINT_URL"),
  webhooksInProduction("WEBHOOKS_ALLOW_LOCAL"),
  v.transform((input) => ({
    ...input,
    DATA_DIR: input.DATA_DIR ?? defaultDataDir,
    // Only the render runner signs webhooks: it refuses to start in production without the key
    // (main.ts); the gpu runner is never given it.
    WEBHOOK_ENCRYPTION_KEY:
      input.WEBHOOK_ENCRYPTION_KEY ??
      (input.NODE_ENV === "production" ? undefined : localSecret(input.DATA_DIR ?? defaultDataDir, "webhook-key")),
    // Without a ComfyUI to drive, the CPU composite engine keeps the product whole.
    FACE_ENGINE: input.FACE_ENGINE ?? (input.COMFY_BASE_URL ? "comfyui" : "composite"),
  })),
  v.forward(
    v.check(
      (input) => input.FACE_ENGINE !== "comfyui" || input.COMFY_BASE_URL !== undefined,
      "FACE_ENGINE=comfyui needs COMFY_BASE_URL",
    ),
    ["COMFY_BASE_URL"],
  ),
);
export type RunnerEnv = v.InferOutput<typeof RunnerEnv>;

/** The runner's configuration, parsed once. */
export const env: Readonly<RunnerEnv> = loadEnvOrExit(RunnerEnv, process.env);
