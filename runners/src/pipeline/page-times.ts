import { sql } from "kysely";
import type { Pg } from "@faceapp/sql";

// The measured time of a face page on each engine, which the api turns into a waiting book's ETA
// (api/src/services/queue-watch.ts). What is measured is one page's share of its runner: the page's
// wall time (claimed → background stored) over the face pages that runner had in flight when it
// started. Two pages in flight against one ComfyUI each take twice its execution time, so either way
// the share is what one more page in the queue costs that runner.

/** The first pages are averaged plainly; after them each new page weighs this much (≈ the last 20 pages). */
export const PAGE_TIME_WEIGHT = 0.1;
const PLAIN_SAMPLES = Math.round(1 / PAGE_TIME_WEIGHT);

/** Adds one measured page to the engine's moving mean (one upsert; concurrent runners serialise on the row). */
export async function recordPageTime(pg: Pg, engine: string, shareMs: number): Promise<void> {
  const ms = Math.max(1, shareMs);
  await sql`
    insert into app.engine_page_times as t (engine, mean_ms, samples) values (${engine}, ${ms}, 1)
    on conflict (engine) do update set
      mean_ms = case when t.samples < ${PLAIN_SAMPLES}
        then (t.mean_ms * t.samples + excluded.mean_ms) / (t.samples + 1)
        else t.mean_ms * ${1 - PAGE_TIME_WEIGHT}::float8 + excluded.mean_ms * ${PAGE_TIME_WEIGHT}::float8 end,
      samples = t.samples + 1,
      updated_at = now()`.execute(pg.db);
}
