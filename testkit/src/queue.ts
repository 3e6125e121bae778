import type { Pg } from "@faceapp/sql";

// The queue states tests set up. Through graphile-worker's public SQL functions where it has one;
// where it has none, the simulations below write its private tables, and were checked against
// this version of it only (testkit/test/queue.test.ts fails on any other: check them again, then
// move the pin). docs/queue.md says why.

/** The graphile-worker version the private simulations below were checked against. */
export const GRAPHILE_WORKER_CHECKED = "0.17.3";

/**
 * The newest job, as a worker `workerId` leaves it when it dies `secondsAgo` after taking it: locked
 * by it, lock that old. No public answer: graphile-worker takes jobs only inside its own worker, and
 * a test cannot kill a worker of its own process without killing itself. Returns the job's id.
 */
export async function takeNewestJobAs(pg: Pg, workerId: string, secondsAgo: number): Promise<string> {
  const [row] = await pg.sql<{ id: string }[]>`
    update graphile_worker._private_jobs set locked_by = ${workerId}, locked_at = now() - make_interval(secs => ${secondsAgo})
    where id = (select max(id) from graphile_worker.jobs) returning id::text`;
  if (!row) throw new Error("no job to take");
  return row.id;
}

/** The job with `key`, as a worker `workerId` has just taken it (locked, one attempt spent); as above. */
export async function takeJobAs(pg: Pg, workerId: string, key: string): Promise<void> {
  await pg.sql`update graphile_worker._private_jobs set locked_by = ${workerId}, locked_at = now(), attempts = attempts + 1
    where key = ${key}`;
}

/**
 * Completes the job with `key`, as its worker does when it succeeds: public `complete_jobs`, which
 * leaves a locked job alone, so its worker's locks are released first (`force_unlock_workers`: every
 * job that worker holds).
 */
export async function completeJob(pg: Pg, key: string): Promise<void> {
  await pg.sql`select graphile_worker.force_unlock_workers(array(
    select locked_by from graphile_worker.jobs where key = ${key} and locked_by is not null))`;
  await pg.sql`select count(*) from graphile_worker.complete_jobs(array(select id from graphile_worker.jobs where key = ${key}))`;
}

/** Fails the job with `key` for good (public `permanently_fail_jobs`). */
export async function failJobForGood(pg: Pg, key: string, reason: string): Promise<void> {
  await pg.sql`select count(*) from graphile_worker.permanently_fail_jobs(
    array(select id from graphile_worker.jobs where key = ${key}), ${reason})`;
}

/**
 * Makes PostgreSQL refuse the first recording of a failure whose message starts with `prefix`, as an
 * outage would: a trigger on the table graphile-worker records failures in (no public answer: a fault
 * inside its own statement). Returns the undo.
 */
export async function refuseFirstFailureRecord(pg: Pg, prefix: string): Promise<() => Promise<void>> {
  await pg.sql`create sequence refusals`;
  await pg.sql`create function refuse_once() returns trigger language plpgsql as $$
    begin if nextval('refusals') = 1 then raise exception 'outcome refused'; end if; return new; end $$`;
  // A trigger's condition takes no parameter: the prefix is a literal, quoted by PostgreSQL.
  const [{ pattern } = { pattern: "" }] = await pg.sql<
    { pattern: string }[]
  >`select quote_literal(${`${prefix}%`}) as pattern`;
  await pg.sql.unsafe(`create trigger refuse_once before update on graphile_worker._private_jobs for each row
    when (new.last_error like ${pattern}) execute function refuse_once()`);
  return async () => {
    await pg.sql`drop trigger refuse_once on graphile_worker._private_jobs`;
  };
}

/** Sets an unlocked job's attempts, as if it had been tried that often (public `reschedule_jobs`). */
export async function setAttempts(pg: Pg, id: string, attempts: number): Promise<void> {
  await pg.sql`select count(*) from graphile_worker.reschedule_jobs(array[${id}::bigint], attempts => ${attempts}::int)`;
}

/** Empties the queue: every lock released, every job completed (public `force_unlock_workers`, `complete_jobs`). */
export async function clearQueue(pg: Pg): Promise<void> {
  await pg.sql`select graphile_worker.force_unlock_workers(array(select distinct locked_by from graphile_worker.jobs where locked_by is not null))`;
  await pg.sql`select count(*) from graphile_worker.complete_jobs(array(select id from graphile_worker.jobs))`;
}

/** Removes a queued job by its key (public `remove_job`). */
export async function removeJob(pg: Pg, key: string): Promise<void> {
  await pg.sql`select graphile_worker.remove_job(${key}::text)`;
}
