// Measures, for each killed runner, how long the jobs it held wait before they run again.
import { type Kysely, sql } from "kysely";
import type { Database } from "@faceapp/sql";

interface Held {
  killedAt: number;
  /** The killed runner's graphile-worker ids: a lock by any other worker is the job's restart. */
  deadWorkers: Set<string>;
}

/**
 * Kill → restart: `kill()` notes the jobs the killed workers still lock, then a poll (every 100 ms)
 * sees each of them locked by another worker, or gone because it completed. The times are from the
 * signal to that observation, so they carry up to one poll of slack.
 */
export class KillWatch {
  private held = new Map<string, Held>();
  private times: number[] = [];
  private polling: Promise<void> | undefined;

  constructor(private readonly db: Kysely<Database>) {}

  /** Runs `kill` (SIGKILL and wait for the exit) and records the jobs it left locked; returns their number. */
  async kill(workerIds: string[], kill: () => Promise<unknown>): Promise<number> {
    const killedAt = Date.now();
    await kill();
    const { rows } = await sql<{ id: string }>`
      select id::text as id from graphile_worker.jobs where locked_by = any(${workerIds}::text[])`.execute(this.db);
    const deadWorkers = new Set(workerIds);
    for (const { id } of rows) this.held.set(id, { killedAt, deadWorkers });
    this.polling ??= this.poll();
    return rows.length;
  }

  /** Kill → restart of every job interrupted so far, in ms. */
  restartTimes(): number[] {
    return [...this.times];
  }

  /** Jobs killed and not yet seen again. */
  get waiting(): number {
    return this.held.size;
  }

  /** Waits until every interrupted job was seen again (or `timeoutMs`), then stops polling. */
  async settle(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.held.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    this.stopped = true;
    await this.polling;
  }

  private stopped = false;

  private async poll(): Promise<void> {
    while (!this.stopped) {
      if (this.held.size > 0) {
        const ids = [...this.held.keys()];
        const { rows } = await sql<{ id: string; locked_by: string | null }>`
          select id::text as id, locked_by from graphile_worker.jobs where id = any(${ids}::bigint[])`.execute(this.db);
        const now = Date.now();
        const lockedBy = new Map(rows.map((r) => [r.id, r.locked_by]));
        for (const id of ids) {
          const job = this.held.get(id)!;
          const by = lockedBy.get(id);
          const gone = !lockedBy.has(id);
          if (gone || (by !== null && by !== undefined && !job.deadWorkers.has(by))) {
            this.times.push(now - job.killedAt);
            this.held.delete(id);
          }
        }
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
