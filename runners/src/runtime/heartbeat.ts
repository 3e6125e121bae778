import os from "node:os";
import { sql } from "kysely";
import type { Db } from "@faceapp/sql";
import type { RunnerKindName } from "@faceapp/core";

/** Records that these graphile-worker workers are alive. */
export async function beat(db: Db, kind: RunnerKindName, workerIds: string[]): Promise<void> {
  if (workerIds.length === 0) return;
  await db.db
    .insertInto("app.runner_heartbeats")
    .values(workerIds.map((worker_id) => ({ worker_id, kind, host: os.hostname(), pid: process.pid })))
    .onConflict((oc) => oc.column("worker_id").doUpdateSet({ last_seen_at: sql`now()` }))
    .execute();
}

export async function forget(db: Db, workerIds: string[]): Promise<void> {
  if (workerIds.length === 0) return;
  await db.db.deleteFrom("app.runner_heartbeats").where("worker_id", "in", workerIds).execute();
}

/**
 * Unlocks the jobs of workers that went silent (SIGKILL, OOM, power), so another runner takes them
 * within about `staleAfterSeconds` instead of graphile-worker's 4-hour lock expiry. A job locked by a
 * worker that never beat (killed before its first heartbeat) counts once its lock is that old.
 */
export async function sweep(db: Db, staleAfterSeconds: number): Promise<string[]> {
  const { rows } = await sql<{ worker_id: string }>`
    with stale as (
      delete from app.runner_heartbeats
      where last_seen_at < now() - make_interval(secs => ${staleAfterSeconds})
      returning worker_id
    ), orphaned as (
      select distinct locked_by as worker_id from graphile_worker.jobs j
      where locked_by is not null and locked_at < now() - make_interval(secs => ${staleAfterSeconds})
        and not exists (select 1 from app.runner_heartbeats h where h.worker_id = j.locked_by)
    )
    select worker_id from stale union select worker_id from orphaned`.execute(db.db);
  const ids = rows.map((r) => r.worker_id);
  if (ids.length) await sql`select graphile_worker.force_unlock_workers(${ids}::text[])`.execute(db.db);
  return ids;
}
