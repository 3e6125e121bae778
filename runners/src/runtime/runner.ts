import { EventEmitter } from "node:events";
import { HeadBucketCommand } from "@aws-sdk/client-s3";
import { sql } from "kysely";
import { collectDefaultMetrics, Gauge, Registry } from "prom-client";
import { Logger as WorkerLogger, type TaskList, type WorkerEvents, run } from "graphile-worker";
import { type JobCatalog, jobs, queueNamesOf, type RunnerKindName, tasksOf } from "@faceapp/core";
import { beat, forget, sweep } from "./heartbeat.ts";
import { type Readiness, startHealthServer } from "./health.ts";
import { handBack, type ReleasedJob } from "./queue.ts";
import { type RunnerDeps, type TaskDefinition, toWorkerTask } from "./task.ts";

export interface RunnerOptions<D extends RunnerDeps> {
  kind: RunnerKindName;
  databaseUrl: string;
  deps: D;
  // biome-ignore lint/suspicious/noExplicitAny: a list of tasks of different payload types
  tasks: TaskDefinition<any, D>[];
  concurrency: number;
  heartbeatSeconds: number;
  staleAfterSeconds: number;
  /** How long stop() lets running jobs finish before aborting them (they are then retried elsewhere). */
  drainSeconds: number;
  healthPort: number;
  readiness?: Readiness;
  /**
   * Take no job until every readiness check is ok (asked every `readyPollMs`, default 5 s): the gpu
   * runner waits for a ComfyUI that can run its workflow. /healthz and /readyz answer meanwhile.
   */
  waitUntilReady?: boolean;
  readyPollMs?: number;
  pollIntervalMs?: number;
  /** Adds the runner's own gauges (the gpu runner's: ComfyUI's warm-up time and queue depth) to /metrics. */
  metrics?: (registry: Registry) => void;
  /** The job catalog whose queue names and payload versions it takes: `jobs` unless a test passes another. */
  catalog?: JobCatalog;
}

export interface RunningRunner {
  healthPort: number;
  /** graphile-worker ids of this runner's workers. */
  workerIds(): string[];
  /** Stops taking jobs, drains running ones within the bound, releases the rest. Idempotent. */
  stop(): Promise<void>;
  /** Settles when the runner has stopped. */
  done: Promise<void>;
}

/** Starts one runner of a kind: only its own tasks, heartbeats, the stale-worker sweeper, a health port. */
export async function startRunner<D extends RunnerDeps>(options: RunnerOptions<D>): Promise<RunningRunner> {
  const { deps, kind } = options;
  const own = new Set(tasksOf(kind));
  const foreign = options.tasks.filter((t) => !own.has(t.name)).map((t) => t.name);
  if (foreign.length) throw new Error(`${kind} runner cannot run ${foreign.join(", ")}`);
  // Jobs a drain stopped: their attempts are handed back once their pool has ended (and so recorded them).
  const released: ReleasedJob[] = [];
  const release = (job: ReleasedJob) => released.push(job);
  const handBackReleased = async () => {
    const count = await handBack(deps.pg, released.splice(0));
    if (count) deps.logger.info({ jobs: count }, "handed back the attempts of jobs released by the drain");
  };
  // Each task takes the jobs of its current payload version and, while kept, of its previous one.
  const catalog = options.catalog ?? jobs;
  const taskList: TaskList = Object.fromEntries(
    options.tasks.flatMap((t) =>
      queueNamesOf(t.name, catalog).map((queue) => [
        queue,
        toWorkerTask(t, deps, { queue, catalog, released: release }),
      ]),
    ),
  );

  // The ids this runner beats for: its workers', and its pool's, which is what graphile-worker locks
  // jobs with (a pool's jobs are only the sweeper's to unlock once the pool itself goes silent).
  const workerIds = new Set<string>();
  let stopRequested = false;
  const events: WorkerEvents = new EventEmitter();
  const track = (id: string) => {
    workerIds.add(id);
    beat(deps.pg, kind, [id]).catch((err) => deps.logger.warn({ err }, "heartbeat failed"));
  };
  events.on("worker:create", ({ worker }) => track(worker.workerId));

  // A pool that begins stopping by itself (below) but has not ended within the drain bound is given
  // up: a worker in a task that ignores its abort, or a query that never returns, would otherwise keep
  // the runner off its queue for good. A pool that is stopping takes no new jobs.
  const bound = (options.drainSeconds + 5) * 1000;
  let poolId = "";
  let giveUp: (() => void) | null = null;
  events.on("pool:create", ({ workerPool }) => {
    poolId = workerPool.id;
    track(workerPool.id);
  });
  events.on("pool:gracefulShutdown", ({ workerPool }) => {
    if (stopRequested) return;
    const id = workerPool.id;
    setTimeout(() => id === poolId && giveUp?.(), bound).unref();
  });

  const workerLogger = new WorkerLogger((scope) => (level, message, meta) => {
    const pinoLevel = level === "warning" ? "warn" : level === "error" ? "error" : "debug";
    deps.logger[pinoLevel]({ scope, ...meta }, message);
  });
  const start = () =>
    run({
      connectionString: options.databaseUrl,
      concurrency: options.concurrency,
      taskList,
      noHandleSignals: true,
      pollInterval: options.pollIntervalMs ?? 1000,
      logger: workerLogger,
      events,
      gracefulShutdownAbortTimeout: options.drainSeconds * 1000,
      // Without batching, graphile-worker writes a job's completion without awaiting it, and a drain
      // that exits right after loses it (the job stays locked); a batch is flushed on shutdown.
      preset: { worker: { completeJobBatchDelay: 0, failJobBatchDelay: 0 } },
    });
  let wakeRetry: (() => void) | null = null;
  // Resolves once readiness passes (or at once); a stop while waiting ends the wait.
  const readyToWork = async () => {
    while (options.waitUntilReady && options.readiness && !stopRequested) {
      const checks = await options.readiness().catch(() => ({ runner: { ok: false } }));
      if (Object.values(checks).every((c) => c.ok)) return;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, options.readyPollMs ?? 5000);
        wakeRetry = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wakeRetry = null;
    }
  };
  let runner: Awaited<ReturnType<typeof start>> | undefined = options.waitUntilReady ? undefined : await start();

  // graphile-worker stops its whole pool when it cannot record a job's outcome (PostgreSQL restarted,
  // the network lost): the runner then sat idle, or exited, for good. Unless it is being stopped, the
  // pool is started again once the database answers; the jobs the stopped pool held are unlocked at
  // once (nobody runs them any more), and are retried as their attempts allow.
  const supervise = async (): Promise<void> => {
    if (!runner) {
      await readyToWork();
      if (stopRequested) return;
      runner = await start();
      if (stopRequested) await runner.stop("stopping").catch(() => {});
      deps.logger.info({ workers: [...workerIds] }, "ready: taking jobs");
    }
    for (;;) {
      const pool = runner;
      const failure = await new Promise<unknown>((resolve) => {
        giveUp = () => {
          resolve(new Error(`the worker pool did not stop within ${bound / 1000} s; given up`));
          void pool.kill("given up").catch(() => {});
        };
        pool.promise.then(
          () => resolve(null),
          (err: unknown) => resolve(err ?? new Error("the worker pool failed")),
        );
      });
      giveUp = null;
      if (stopRequested) {
        await handBackReleased().catch((err) => deps.logger.warn({ err }, "could not hand back released jobs"));
        if (failure) throw failure;
        return;
      }
      const lost = [...workerIds];
      workerIds.clear();
      deps.logger.error({ err: failure, workers: lost }, "job processing stopped; starting it again");
      for (let delay = 250; ; delay = Math.min(delay * 2, 5000)) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, delay);
          wakeRetry = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        wakeRetry = null;
        if (stopRequested) return;
        try {
          await sql`select graphile_worker.force_unlock_workers(${lost}::text[])`.execute(deps.pg.db);
          await forget(deps.pg, lost);
          await handBackReleased();
          runner = await start();
          if (stopRequested) await runner.stop("stopping").catch(() => {});
          deps.logger.info({ workers: [...workerIds] }, "job processing started again");
          break;
        } catch (err) {
          deps.logger.warn({ err }, "job processing cannot start yet; trying again");
        }
      }
    }
  };
  const done = supervise();

  let ticking = false;
  const tick = async () => {
    if (ticking) return;
    ticking = true;
    try {
      await beat(deps.pg, kind, [...workerIds]);
      const unlocked = await sweep(deps.pg, options.staleAfterSeconds);
      if (unlocked.length) deps.logger.warn({ workers: unlocked }, "unlocked the jobs of silent workers");
    } catch (err) {
      deps.logger.warn({ err }, "heartbeat or sweep failed");
    } finally {
      ticking = false;
    }
  };
  const timer = setInterval(tick, options.heartbeatSeconds * 1000);
  void tick();

  const check = (probe: Promise<unknown>) =>
    probe.then(
      () => ({ ok: true }),
      (e) => ({ ok: false, error: String(e) }),
    );
  const readiness = async () => {
    const [database, storage, engines] = await Promise.all([
      check(deps.pg.sql`select 1`),
      check(deps.s3.send(new HeadBucketCommand({ Bucket: deps.s3Config.bucket }))),
      options.readiness?.() ?? {},
    ]);
    return { database, storage, ...engines };
  };
  // A registry per runner, so several runners in one process (tests) never collide.
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  new Gauge({
    name: "faceapp_runner_taking_jobs",
    help: "1 once the runner takes jobs (for the gpu runner: its face engine was ready, warmed up), else 0",
    labelNames: ["kind"],
    registers: [registry],
    collect() {
      this.set({ kind }, runner && !stopRequested ? 1 : 0);
    },
  });
  options.metrics?.(registry);
  const health = await startHealthServer(options.healthPort, readiness, registry);

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      stopRequested = true;
      wakeRetry?.();
      // Heartbeats go on while draining, so no other runner's sweeper takes the running jobs.
      const hard = setTimeout(() => void runner?.kill("drain bound exceeded"), bound);
      try {
        // A pool that already stopped by itself has nothing left to drain.
        await runner?.stop("stopping").catch(() => {});
        await done.catch((err) => deps.logger.warn({ err }, "runner ended with an error"));
      } finally {
        clearTimeout(hard);
        clearInterval(timer);
      }
      await forget(deps.pg, [...workerIds]).catch(() => {});
      await health.close();
    })();
    return stopping;
  };
  return { healthPort: health.port, workerIds: () => [...workerIds], stop, done };
}
