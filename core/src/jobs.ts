import { type Kysely, sql } from "kysely";
import { FinalError } from "./errors.ts";
import type { Database } from "./schema.ts";
import * as v from "valibot";

// The job catalog: each task's identifier, payload schema, version and retry policy. Jobs are added
// with `addJob` inside the transaction of the state change that needs them, and validated again when
// run. A payload change bumps its task's version (docs/queue.md): jobs of each version are queued under
// their own name (`render_page@2`), so a runner takes only the versions it knows, and for one release
// the previous version's jobs are still run, upgraded to the current shape (`previous`).

/** A task's previous payload version, still run for one release after a change. */
export interface PreviousVersion {
  payload: v.GenericSchema;
  /** A payload of the previous shape (already validated by `payload`) in the current shape. */
  upgrade(previous: unknown): unknown;
}

/** What the catalog says about one task. */
export interface JobSpec {
  runner: "gpu" | "render";
  maxAttempts: number;
  /** 1, then bumped by each change of `payload`: the name jobs are queued under (`queueName`). */
  version: number;
  payload: v.GenericSchema;
  previous?: PreviousVersion;
}

/**
 * The previous payload version of a task and how its jobs become current ones: typed against both
 * schemas, and the result is validated against the current schema again when the job runs.
 */
export function previousVersion<C extends v.GenericSchema, P extends v.GenericSchema>(
  _current: C,
  payload: P,
  upgrade: (previous: v.InferOutput<P>) => v.InferInput<C>,
): PreviousVersion {
  return { payload, upgrade: upgrade as (previous: unknown) => unknown };
}

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
    version: 1,
    payload: v.strictObject({ personalizationId: Uuid, photoUploadId: Uuid }),
  },
  personalize_page: { runner: "gpu", maxAttempts: 4, version: 1, payload: PageJob },
  render_page: { runner: "render", maxAttempts: 4, version: 1, payload: PageJob },
  assemble_print: {
    runner: "render",
    maxAttempts: 3,
    version: 1,
    payload: v.strictObject({ personalizationId: Uuid }),
  },
  // One attempt to deliver a webhook per job; the task schedules the next attempt itself (its own
  // backoff, docs/webhooks.md). Job attempts only cover the runner's own failures (database lost).
  deliver_webhook: {
    runner: "render",
    maxAttempts: 3,
    version: 1,
    payload: v.strictObject({ deliveryId: Uuid }),
  },
} as const satisfies Record<string, JobSpec>;

export type TaskName = keyof typeof jobs;
export type JobPayload<T extends TaskName> = v.InferOutput<(typeof jobs)[T]["payload"]>;
export type RunnerKindName = (typeof jobs)[TaskName]["runner"];
/** A catalog of the same tasks: the real one is `jobs`; tests of the runtime pass one with a previous version. */
export type JobCatalog = { readonly [T in TaskName]: JobSpec };

/** The tasks one runner kind registers. */
export function tasksOf(runner: RunnerKindName): TaskName[] {
  return (Object.keys(jobs) as TaskName[]).filter((name) => jobs[name].runner === runner);
}

/** The name jobs of a task's payload version are queued under: the task's identifier, then `@<version>` from 2 on. */
export function queueName(task: TaskName, version: number): string {
  return version > 1 ? `${task}@${version}` : task;
}

/** The queue names a runner takes a task's jobs from: its current version's, and its previous one's while kept. */
export function queueNamesOf(task: TaskName, catalog: JobCatalog = jobs): string[] {
  const { version, previous } = catalog[task];
  return previous ? [queueName(task, version), queueName(task, version - 1)] : [queueName(task, version)];
}

function validate<T>(schema: v.GenericSchema, payload: unknown, what: string): T {
  const result = v.safeParse(schema, payload);
  if (!result.success) {
    const why = result.issues.map((i) => `${v.getDotPath(i) ?? "payload"}: ${i.message}`).join("; ");
    throw new InvalidPayloadError(`${what} payload is invalid: ${why}`);
  }
  return result.output as T;
}

/** Parses a payload against its task's current schema; throws a readable error naming the task. */
export function parsePayload<T extends TaskName>(task: T, payload: unknown, catalog: JobCatalog = jobs): JobPayload<T> {
  return validate(catalog[task].payload, payload, task);
}

/**
 * Parses the payload of a job taken from `queue`: a previous version's payload is validated against
 * its own schema and upgraded to the current shape, which is validated too.
 */
export function parseQueuedPayload<T extends TaskName>(
  task: T,
  queue: string,
  payload: unknown,
  catalog: JobCatalog = jobs,
): JobPayload<T> {
  const { version, previous } = catalog[task];
  if (previous && queue === queueName(task, version - 1)) {
    return parsePayload(task, previous.upgrade(validate(previous.payload, payload, queue)), catalog);
  }
  return parsePayload(task, payload, catalog);
}

/** Final: the same payload fails its schema on every attempt. */
export class InvalidPayloadError extends FinalError {
  override name = "InvalidPayloadError";
}

/**
 * The job key of a task for one subject: a second add replaces a pending duplicate instead of doubling
 * it, whichever version the pending one was queued with (the key names the task, not its version).
 */
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

/** The arguments of `app.add_job` for a job, its payload validated first. */
export interface JobArguments {
  identifier: string;
  payload: object;
  maxAttempts: number;
  key: string;
  runAt: string | null;
}

/** `app.add_job`'s arguments for a job (validated payload, versioned name, key): see `addJobCall`. */
export function jobArguments<T extends TaskName>(
  task: T,
  payload: JobPayload<T>,
  options: JobOptions = {},
): JobArguments {
  const parsed = parsePayload(task, payload);
  return {
    identifier: queueName(task, jobs[task].version),
    payload: parsed as object,
    maxAttempts: jobs[task].maxAttempts,
    key: jobKey(task, parsed),
    runAt: options.runAt ? options.runAt.toISOString() : null,
  };
}

/**
 * graphile-worker's `add_job` call for a job, its payload validated first: for a statement of the
 * caller's own that adds the job with the change needing it (`select ${addJobCall(...)} from ...`).
 * It goes through `app.add_job` (sql/migrations: add_job_plans, key_lookups), which lets add_job's
 * own statements keep their plans (lookups by key through an index, right at any size of the queue)
 * on connections that plan everything else afresh.
 */
export function addJobCall<T extends TaskName>(task: T, payload: JobPayload<T>, options: JobOptions = {}) {
  const job = jobArguments(task, payload, options);
  return sql<null>`app.add_job(
    ${job.identifier}::text,
    ${job.payload}::json,
    ${job.maxAttempts}::int,
    ${job.key}::text,
    ${job.runAt}::timestamptz
  )`;
}

/** Adds a job in the caller's transaction (or connection), validating its payload first. */
export async function addJob<T extends TaskName>(
  db: Kysely<Database>,
  task: T,
  payload: JobPayload<T>,
  options: JobOptions = {},
): Promise<void> {
  await sql`select ${addJobCall(task, payload, options)}`.execute(db);
}

/**
 * The job keys one personalisation can have queued: its photo analysis, its print files, and one per
 * page row and page task at the row's generation. A stage's page jobs are added with its rows (same
 * transaction), and a row moves to another generation only after `removeJobsOf`, so the rows name
 * every key; each comes from `jobKey`, the one definition of the layout.
 */
async function jobKeysOf(db: Kysely<Database>, personalizationId: string): Promise<string[]> {
  const { rows } = await sql<Pick<JobPayload<"render_page">, "stage" | "page" | "generation">>`
    select stage, page, generation from app.personalization_pages where personalization_id = ${personalizationId}`.execute(
    db,
  );
  return [
    jobKey("analyze_photo", { personalizationId, photoUploadId: "" }),
    jobKey("assemble_print", { personalizationId }),
    ...rows.flatMap((row) =>
      (["personalize_page", "render_page"] as const).map((task) => jobKey(task, { personalizationId, ...row })),
    ),
  ];
}

/**
 * Removes the queued jobs of one personalisation and stops retries of its running ones, e.g. on
 * cancel or when its stage has failed: graphile-worker's public `remove_job` for each of its keys
 * (a queued job is deleted; a running one keeps running, its key cleared and its attempts spent).
 */
export async function removeJobsOf(db: Kysely<Database>, personalizationId: string): Promise<number> {
  const keys = await jobKeysOf(db, personalizationId);
  const { rows } = await sql<{ id: string | null }>`
    select (graphile_worker.remove_job(k)).id from unnest(${keys}::text[]) as k`.execute(db);
  return rows.filter((r) => r.id !== null).length;
}
