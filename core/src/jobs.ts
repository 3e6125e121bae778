import { sql } from "kysely";
import { FinalError } from "./errors.ts";
import type { AnyKysely } from "./kysely.ts";
import * as v from "valibot";

// The job catalog: each task's identifier, payload schema and retry policy. Jobs are added with
// `addJob` inside the transaction of the state change that needs them, and validated again when run.

const Uuid = v.pipe(v.string(), v.uuid());
const PageId = v.pipe(v.string(), v.regex(/^(page_([0-9]|1[0-9]|2[0-3])|cover_front|cover_back)$/));
const PageJob = v.strictObject({
  personalizationId: Uuid,
  stage: v.picklist(["preview", "full"]),
  page: PageId,
  /** The personalisation's generation when queued; results of older generations are dropped. */
  generation: v.pipe(v.number(), v.integer(), v.minValue(0)),
});

export const jobs = {
  analyze_photo: {
    runner: "gpu",
    maxAttempts: 3,
    payload: v.strictObject({ personalizationId: Uuid, photoUploadId: Uuid }),
  },
  personalize_page: { runner: "gpu", maxAttempts: 4, payload: PageJob },
  render_page: { runner: "render", maxAttempts: 4, payload: PageJob },
  assemble_print: {
    runner: "render",
    maxAttempts: 3,
    payload: v.strictObject({ personalizationId: Uuid }),
  },
  // One attempt to deliver a webhook per job; the task schedules the next attempt itself (its own
  // backoff, docs/webhooks.md). Job attempts only cover the runner's own failures (database lost).
  deliver_webhook: {
    runner: "render",
    maxAttempts: 3,
    payload: v.strictObject({ deliveryId: Uuid }),
  },
} as const;

export type TaskName = keyof typeof jobs;
export type JobPayload<T extends TaskName> = v.InferOutput<(typeof jobs)[T]["payload"]>;
export type RunnerKindName = (typeof jobs)[TaskName]["runner"];

/** The tasks one runner kind registers. */
export function tasksOf(runner: RunnerKindName): TaskName[] {
  return (Object.keys(jobs) as TaskName[]).filter((name) => jobs[name].runner === runner);
}

/** Parses a payload against its task's schema; throws a readable error naming the task. */
export function parsePayload<T extends TaskName>(task: T, payload: unknown): JobPayload<T> {
  const result = v.safeParse(jobs[task].payload, payload);
  if (!result.success) {
    const why = result.issues.map((i) => `${v.getDotPath(i) ?? "payload"}: ${i.message}`).join("; ");
    throw new InvalidPayloadError(`${task} payload is invalid: ${why}`);
  }
  return result.output as JobPayload<T>;
}

/** Final: the same payload fails its schema on every attempt. */
export class InvalidPayloadError extends FinalError {
  override name = "InvalidPayloadError";
}

/** The job key of a task for one subject: a second add replaces a pending duplicate instead of doubling it. */
export function jobKey<T extends TaskName>(task: T, payload: JobPayload<T>): string {
  const p = payload as Record<string, unknown>;
  // A delivery's key names no personalisation, so removeJobsOf (a cancel) never removes its webhook.
  return [task, p.personalizationId ?? p.deliveryId, p.stage, p.page, p.generation]
    .filter((x) => x !== undefined)
    .join(":");
}

export interface JobOptions {
  /** Not before this time (a retry's backoff); at once when absent. */
  runAt?: Date;
}

/**
 * graphile-worker's `add_job` call for a job, its payload validated first: for a statement of the
 * caller's own that adds the job with the change needing it (`select ${addJobCall(...)} from ...`).
 */
export function addJobCall<T extends TaskName>(task: T, payload: JobPayload<T>, options: JobOptions = {}) {
  const parsed = parsePayload(task, payload);
  return sql<null>`graphile_worker.add_job(
    identifier => ${task}::text,
    payload => ${parsed as object}::json,
    ${options.runAt ? sql`run_at => ${options.runAt.toISOString()}::timestamptz,` : sql``}
    max_attempts => ${jobs[task].maxAttempts}::int,
    job_key => ${jobKey(task, parsed)}::text
  )`;
}

/** Adds a job in the caller's transaction (or connection), validating its payload first. */
export async function addJob<T extends TaskName>(
  db: AnyKysely,
  task: T,
  payload: JobPayload<T>,
  options: JobOptions = {},
): Promise<void> {
  await sql`select ${addJobCall(task, payload, options)}`.execute(db);
}

/**
 * Removes the queued jobs of one personalisation and stops retries of its running ones
 * (graphile-worker's remove_job), e.g. on cancel or when its stage has failed.
 */
export async function removeJobsOf(db: AnyKysely, personalizationId: string): Promise<number> {
  const { rows } = await sql<{ key: string }>`
    select graphile_worker.remove_job(key) as key from graphile_worker.jobs
    where key is not null and split_part(key, ':', 2) = ${personalizationId}`.execute(db);
  return rows.length;
}
