import {
  type RunnerKindName,
  createLogger,
  createProgressBus,
  createS3Client,
  isUnreachable,
  systemLookup,
} from "@faceapp/core";
import { resolveServices } from "@faceapp/core/local";
import { createPg } from "@faceapp/sql";
import { env } from "./env.ts";
import { startRunner } from "./runtime/runner.ts";
import { gpuTasks, renderTasks } from "./tasks/index.ts";
import { createGpuCapabilities } from "./gpu/wiring.ts";
import { createRenderEngines } from "./render/index.ts";
import { DEFAULT_SEND_LIMITS } from "./webhooks/deliver.ts";

// gpu: two pages in flight keep ComfyUI busy (the next prompt queued while one runs); the engine
// itself never sends it more than two.
const DEFAULT_CONCURRENCY: Record<RunnerKindName, number> = { gpu: 2, render: 2 };

/** How long a stop may take beyond the drain (releasing jobs, closing engines and pools). */
const STOP_MARGIN_SECONDS = 10;

/** Starts one runner process of a kind and runs it until SIGTERM or SIGINT, which drain it. */
export async function main(kind: RunnerKindName): Promise<void> {
  // The render runner signs webhooks: without the key that opens their secrets it cannot (only the
  // development default is generated, env.ts), and says so before anything starts.
  if (kind === "render" && !env.WEBHOOK_ENCRYPTION_KEY) {
    process.stderr.write(
      "Invalid configuration:\n  - WEBHOOK_ENCRYPTION_KEY: must be set in production (the render runner signs webhooks)\n",
    );
    process.exit(1);
  }
  const log = createLogger(`${kind}-runner`, env.LOG_LEVEL);
  const services = await resolveServices(env, env.DATA_DIR, (line) => log.debug(line));
  const concurrency = env.RUNNER_CONCURRENCY ?? DEFAULT_CONCURRENCY[kind];
  const pg = createPg(services.databaseUrl, { max: concurrency + 4, applicationName: `faceapp-${kind}-runner` });
  const s3 = createS3Client(services.s3);
  const bus = createProgressBus(env.REDIS_URL, pg.sql, {
    onError: (err) => log.warn({ err }, "progress publish failed"),
  });
  const base = { pg, s3, s3Config: services.s3, bus, logger: log };

  const options = {
    databaseUrl: services.databaseUrl,
    concurrency,
    heartbeatSeconds: env.RUNNER_HEARTBEAT_SECONDS,
    staleAfterSeconds: env.RUNNER_STALE_AFTER_SECONDS,
    drainSeconds: env.RUNNER_DRAIN_SECONDS,
    healthPort: env.RUNNER_HEALTH_PORT,
  };
  let closeEngines: () => Promise<void>;
  let runner: Awaited<ReturnType<typeof startRunner>>;
  if (kind === "gpu") {
    // Face analysis (InsightFace when its models are mounted, else face-api) and the face engine.
    const engines = await createGpuCapabilities(env, log);
    closeEngines = engines.close;
    runner = await startRunner({
      ...options,
      kind,
      deps: { ...base, ...engines },
      tasks: gpuTasks,
      readiness: engines.readiness,
      // No job until the face engine can run its workflow (ComfyUI: every class, file and value
      // checked) and, with COMFY_WARMUP, has run the warm-up prompt: a page taken while ComfyUI is
      // still loading its models would wait behind that load, its parent watching 0 %.
      waitUntilReady: true,
      ...(engines.metrics ? { metrics: engines.metrics } : {}),
    });
  } else {
    // One reused Chromium for the text layers; print files assembled from the bucket and streamed back.
    const { renderer, assembler, close } = createRenderEngines({
      s3,
      bucket: services.s3.bucket,
      typesetter: {
        executablePath: env.CHROMIUM_PATH,
        maxRendersPerBrowser: env.RENDER_BROWSER_MAX_PAGES,
        idleMs: env.RENDER_BROWSER_IDLE_SECONDS * 1000,
        timeoutMs: env.RENDER_TIMEOUT_SECONDS * 1000,
        logger: log,
      },
    });
    closeEngines = close;
    // The render runner also delivers webhooks: light work that needs no GPU.
    if (!env.WEBHOOK_ENCRYPTION_KEY) {
      log.fatal(
        "WEBHOOK_ENCRYPTION_KEY must be set in production: the render runner signs webhooks with the secrets it seals",
      );
      process.exit(1);
    }
    const webhooks = {
      encryptionKey: env.WEBHOOK_ENCRYPTION_KEY as string,
      allowLocal: env.WEBHOOKS_ALLOW_LOCAL,
      lookup: systemLookup,
      retryDelaysMs: env.WEBHOOK_RETRY_SCHEDULE.map((seconds: number) => seconds * 1000),
      limits: { ...DEFAULT_SEND_LIMITS, timeoutMs: env.WEBHOOK_TIMEOUT_SECONDS * 1000 },
    };
    runner = await startRunner({
      ...options,
      kind,
      deps: { ...base, renderer, assembler, webhooks },
      tasks: renderTasks,
    });
  }
  // graphile-worker ending on its own (a fatal database error) must not leave a process that looks alive.
  void runner.done.then(
    () => {
      if (!exiting) void shutdown("runner ended");
    },
    (err) => {
      log.error({ err }, "runner failed");
      if (!exiting) void shutdown("runner failed");
    },
  );

  let exiting = false;
  const shutdown = async (signal: string) => {
    if (exiting) return;
    exiting = true;
    log.info({ signal }, "draining");
    // A stop waiting on a hung database or store would never end: the process goes anyway, a margin
    // after the drain (the jobs it still holds come back to the queue when their locks go stale).
    const forced = setTimeout(
      () => {
        log.error({ seconds: env.RUNNER_DRAIN_SECONDS + STOP_MARGIN_SECONDS }, "did not stop in time; exiting");
        process.exit(1);
      },
      (env.RUNNER_DRAIN_SECONDS + STOP_MARGIN_SECONDS) * 1000,
    );
    forced.unref();
    try {
      await runner.stop();
      await closeEngines();
      await bus.close();
      await pg.close();
      await services.stop();
      log.info("stopped");
      process.exit(0);
    } catch (err) {
      log.error({ err }, "unclean stop");
      process.exit(1);
    }
  };
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
  // A connection lost under a promise that nothing awaits (seen when PostgreSQL restarts: a bare
  // `read ECONNRESET` rejection ended the render runner, and its jobs waited for another runner) must
  // not end the process: the pools reconnect by themselves. Any other unhandled rejection still does.
  process.on("unhandledRejection", (reason) => {
    if (!isUnreachable(reason)) throw reason;
    log.warn({ err: reason }, "a connection was lost under a promise nothing awaited; carrying on");
  });
  // Said once the handlers above are in place: whoever waits for it may stop the runner at once, and a
  // SIGTERM that came before them ended the process without a drain (exit by signal, seen once in a
  // loaded CI run of chaos/runner-stop).
  log.info({ healthPort: runner.healthPort, concurrency, workers: runner.workerIds(), bus: bus.kind }, "runner ready");
}
