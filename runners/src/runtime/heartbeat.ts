import os from "node:os";
import { sql } from "kysely";
import type { Pg } from "@faceapp/sql";
import type { RunnerKindName } from "@faceapp/core";
import { unlockLost } from "./queue.ts";

/** Records that these graphile-worker workers are alive. */
export async function beat(pg: Pg, kind: RunnerKindName, workerIds: string[]): Promise<void> {
  if (workerIds.length === 0) return;
  await pg.db
    .insertInto("app.runner_heartbeats")
    .values(workerIds.map((worker_id) => ({ worker_id, kind, host: os.hostname(), pid: process.pid })))
    .onConflict((oc) => oc.column("worker_id").doUpdateSet({ last_seen_at: sql`now()` }))
    .execute();
}

export async function forget(pg: Pg, workerIds: string[]): Promise<void> {
  if (workerIds.length === 0) return;
  await pg.db.deleteFrom("app.runner_heartbeats").where("worker_id", "in", workerIds).execute();
}

/** Why a job's last attempt ended, when its runner went silent while running it. */
export const RUNNER_LOST = "its runner stopped responding while running it";

/**
 * Unlocks the jobs of workers that went silent (SIGKILL, OOM, power), so another runner takes them
 * within about `staleAfterSeconds` instead of graphile-worker's 4-hour lock expiry, with the attempt
 * they were on handed back. A job locked by a worker that never beat (killed before its first
 * heartbeat) counts once its lock is that old.
 */
export async function sweep(pg: Pg, staleAfterSeconds: number): Promise<string[]> {
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
    select worker_id from stale union select worker_id from orphaned`.execute(pg.db);
  const ids = rows.map((r) => r.worker_id);
  if (ids.length === 0) return ids;
  // A job whose runner died did not fail: its attempt is handed back, as a drain hands back the jobs
  // it releases, unless its previous attempt ended the same way: a job that kills its runner each time
  // (a poison input, out of memory) then spends its attempts and fails with this reason instead of
  // taking runners down for ever. Not a removed job (remove_job spends a locked job's attempts and
  // clears its key).
  await unlockLost(pg, ids, RUNNER_LOST);
  return ids;
}
