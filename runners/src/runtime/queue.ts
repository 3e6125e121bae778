import { sql } from "kysely";
import type { Pg } from "@faceapp/sql";

// What the runtime does to graphile-worker's jobs beyond running them, each through its public SQL
// functions (docs/queue.md): `remove_job`, `force_unlock_workers`, `permanently_fail_jobs`,
// `reschedule_jobs`, and the read-only `graphile_worker.jobs` view. Its `_private_*` tables are
// never written here.

/** A job whose attempt a drain stopped: `attempt` is the attempt number it was on. */
export interface ReleasedJob {
  id: string;
  attempt: number;
}

/**
 * Retrying cannot help (an invalid payload, an error that says so): the running job's remaining
 * attempts are spent by graphile-worker's `remove_job` on its key, which, for a job that is running,
 * clears the key and sets its attempts to its maximum. The task then throws, and graphile-worker
 * records the error as the job's last. False for a job without a key (none of ours: `addJob` always
 * gives one): it is retried as its attempts allow.
 */
export async function spendAttempts(
  query: (text: string, values: unknown[]) => Promise<unknown>,
  key: string | null,
): Promise<boolean> {
  if (key === null) return false;
  await query("select graphile_worker.remove_job($1::text)", [key]);
  return true;
}

/**
 * Hands back the attempts of jobs a drain stopped, once their pool has recorded them as failed (and
 * so unlocked them): `reschedule_jobs` sets each one's attempts to what it was before it was taken,
 * due now. A job taken again meanwhile (its attempts moved on), removed (no key) or still locked is
 * left alone.
 */
export async function handBack(pg: Pg, released: ReleasedJob[]): Promise<number> {
  if (released.length === 0) return 0;
  const { rows } = await sql<{ id: string }>`
    select r.id from graphile_worker.jobs j
    join unnest(${released.map((r) => r.id)}::bigint[], ${released.map((r) => r.attempt)}::int[]) as r(id, attempt)
      on j.id = r.id
    cross join lateral graphile_worker.reschedule_jobs(array[r.id], run_at => now(), attempts => greatest(r.attempt - 1, 0))
    where j.locked_at is null and j.attempts = r.attempt and j.key is not null`.execute(pg.db);
  return rows.length;
}

// Taken by every sweeper before it reads the jobs it unlocks: a job is handed back by one of them.
const SWEEP_LOCK = 0x5eed_f00d;

/**
 * Unlocks the jobs of silent workers with `force_unlock_workers`, and records on each keyed job that
 * its runner was lost: `permanently_fail_jobs` sets that reason (and spends its attempts), and
 * `reschedule_jobs` then gives back the attempts it should keep: all but the one it was on, or that
 * one too when its previous attempt ended the same way. In one transaction: nobody sees the spent
 * attempts, and a concurrent sweeper, waiting on the advisory lock, finds these jobs unlocked.
 */
export async function unlockLost(pg: Pg, workerIds: string[], reason: string): Promise<void> {
  await pg.db.transaction().execute(async (tx) => {
    await sql`select pg_advisory_xact_lock(${SWEEP_LOCK})`.execute(tx);
    const { rows } = await sql<{ id: string; attempts: number }>`
      select id, case when last_error is distinct from ${reason} then greatest(attempts - 1, 0) else attempts end as attempts
      from graphile_worker.jobs where locked_by = any(${workerIds}::text[]) and key is not null`.execute(tx);
    await sql`select graphile_worker.force_unlock_workers(${workerIds}::text[])`.execute(tx);
    if (rows.length === 0) return;
    await sql`select count(*) from graphile_worker.permanently_fail_jobs(${rows.map((r) => r.id)}::bigint[], ${reason})`.execute(
      tx,
    );
    await sql`
      select count(*) from unnest(${rows.map((r) => r.id)}::bigint[], ${rows.map((r) => r.attempts)}::int[]) as r(id, attempts)
      cross join lateral graphile_worker.reschedule_jobs(array[r.id], attempts => r.attempts)`.execute(tx);
  });
}
