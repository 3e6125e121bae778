import type { S3Client } from "@aws-sdk/client-s3";
import type { Task as WorkerTask } from "graphile-worker";
import {
  InvalidPayloadError,
  isFinal,
  type JobCatalog,
  type JobPayload,
  jobs,
  type Logger,
  type ProgressBus,
  type S3Config,
  type TaskName,
  parseQueuedPayload,
} from "@faceapp/core";
import type { Pg } from "@faceapp/sql";
import { RUNNER_LOST } from "./heartbeat.ts";
import { type ReleasedJob, spendAttempts } from "./queue.ts";

/** What every task gets from its runner. */
export interface RunnerDeps {
  pg: Pg;
  s3: S3Client;
  s3Config: S3Config;
  bus: ProgressBus;
  logger: Logger;
}

export interface TaskContext<D extends RunnerDeps = RunnerDeps> {
  deps: D;
  log: Logger;
  /** Aborts when the runner shuts down or the personalisation is canceled. */
  signal: AbortSignal;
  job: { id: string; attempt: number; maxAttempts: number };
}

export interface TaskDefinition<T extends TaskName, D extends RunnerDeps = RunnerDeps> {
  name: T;
  run(payload: JobPayload<T>, ctx: TaskContext<D>): Promise<void>;
  /** Called once the last attempt has failed: record why, so nobody waits for work that will not come. */
  onFinalFailure?(payload: JobPayload<T>, reason: string, ctx: TaskContext<D>): Promise<void>;
}

/** Declares a task: its file is named after its identifier (tasks/<name>.ts). */
export function defineTask<T extends TaskName, D extends RunnerDeps = RunnerDeps>(
  definition: TaskDefinition<T, D>,
): TaskDefinition<T, D> {
  return definition;
}

// Errors whose messages were written for people; anything else may carry hosts, keys or SDK
// internals, so parents see a plain sentence and the detail stays in the logs.
const SPEAKS_TO_PEOPLE = new Set([
  "FaceEngineError",
  "TextDoesNotFitError",
  "PrintCheckError",
  "RenderTimeoutError",
  "InvalidPayloadError",
]);

/** A short reason for people and the events table, from whatever was thrown. */
export function reasonOf(error: unknown): string {
  if (!(error instanceof Error) || !SPEAKS_TO_PEOPLE.has(error.name)) return "an internal error stopped this step";
  return error.message.length > 500 ? `${error.message.slice(0, 497)}...` : error.message;
}

/**
 * Adapts a task to graphile-worker: validates the payload (an invalid one fails for good, with its
 * reason, instead of being retried), aborts on shutdown or cancel, records the final failure; a final
 * error (`isFinal`: a `FinalError`, or `retryable: false`) fails the job at once.
 */
export function toWorkerTask<T extends TaskName, D extends RunnerDeps>(
  definition: TaskDefinition<T, D>,
  deps: D,
  options: {
    /** The queue name it takes jobs from: its current version's (the default) or its previous one's. */
    queue?: string;
    catalog?: JobCatalog;
    /** Given each job a drain stops, for its attempt to be handed back once its pool has recorded it. */
    released?: (job: ReleasedJob) => void;
  } = {},
): WorkerTask {
  const { queue = definition.name, catalog = jobs, released = () => {} } = options;
  return async (rawPayload, helpers) => {
    const job = { id: String(helpers.job.id), attempt: helpers.job.attempts, maxAttempts: helpers.job.max_attempts };
    const log = deps.logger.child({ task: queue, jobId: job.id, attempt: job.attempt });
    // Retrying cannot help an invalid payload or an error that says so (a workflow ComfyUI rejects):
    // its remaining attempts are spent, so the job stays failed with its reason.
    const failForGood = async () => {
      if (!(await spendAttempts(helpers.query, helpers.job.key)))
        log.warn("a job without a key: retried as its attempts allow");
    };
    let payload: JobPayload<T>;
    try {
      payload = parseQueuedPayload(definition.name, queue, rawPayload, catalog);
    } catch (error) {
      if (!(error instanceof InvalidPayloadError)) throw error;
      await failForGood();
      log.error({ reason: error.message }, "invalid payload: failed without retry");
      throw error;
    }

    const canceled = new AbortController();
    const personalizationId = (payload as { personalizationId?: string }).personalizationId;
    const stopListening = personalizationId
      ? deps.bus.subscribe(personalizationId, (event) => {
          if (event.type === "status" && event.data.status === "canceled") canceled.abort(new Error("canceled"));
        })
      : () => {};
    const ctx: TaskContext<D> = { deps, log, job, signal: AbortSignal.any([helpers.abortSignal, canceled.signal]) };
    try {
      // Its runner died on its previous attempt too, and this is its last: not risked on another runner.
      if (helpers.job.last_error === RUNNER_LOST && job.attempt >= job.maxAttempts)
        throw new Error(`${RUNNER_LOST}, again and again: not tried a last time`);
      await definition.run(payload, ctx);
    } catch (error) {
      if (helpers.abortSignal.aborted && !canceled.signal.aborted) {
        // Stopped by a drain, not by its own failure: the attempt is handed back for the next runner
        // once graphile-worker has recorded this failure (a locked job cannot be rescheduled).
        released({ id: job.id, attempt: job.attempt });
        log.info("released by the drain");
        throw error;
      }
      const permanent = isFinal(error);
      const final = permanent || job.attempt >= job.maxAttempts;
      log.warn({ err: error, final }, final ? "task failed for good" : "task failed, will retry");
      if (permanent) await failForGood();
      if (final && definition.onFinalFailure) await definition.onFinalFailure(payload, reasonOf(error), ctx);
      throw error;
    } finally {
      stopListening();
    }
  };
}
