// A connection lives for hours while the tables under it grow: the plans it keeps must not be the
// ones that suited the empty tables (db.ts, plan_cache_mode). Rows read by sequential scans in the
// current transaction (pg_stat_xact_user_tables) tell a plan that walks the whole job table from
// one that looks the job key up.
import { randomUUID } from "node:crypto";
import { sql } from "kysely";
import { describe, expect, it } from "vitest";
import { addJob } from "@faceapp/core";
import { useTestDatabase } from "@faceapp/testkit";
import { createPg } from "../src/index.ts";

const t = useTestDatabase();
const QUEUED = 2000;

const analysis = () => ({ personalizationId: randomUUID(), photoUploadId: randomUUID() });

describe("a long-lived connection adding jobs", () => {
  // Our connections plan every statement afresh; app.add_job lets add_job's statements keep plans
  // made without sequential scans, so a connection on PostgreSQL's default (auto: a generic plan may be
  // kept after five runs) must not scan the queue either.
  it.each(["force_custom_plan", "auto"])(
    "does not scan the whole queue once it has grown under the connection's cached plans (plan_cache_mode %s)",
    async (mode) => {
      // An empty queue, as the statistics know it (the other case's jobs gone).
      await sql`delete from graphile_worker._private_jobs`.execute(t.db);
      await sql`analyze graphile_worker._private_jobs`.execute(t.db);
      const own = createPg(t.url, { max: 1 });
      try {
        await sql`select set_config('plan_cache_mode', ${mode}, false)`.execute(own.db);
        // Plans made while the queue is empty (PostgreSQL may keep a generic one after five runs).
        for (let i = 0; i < 10; i++) await addJob(own.db, "analyze_photo", analysis());
        // The queue grows through another connection, with nothing analysed since.
        await sql`select count(*) from graphile_worker.add_jobs(array(
          select row('analyze_photo', json_build_object('personalizationId', gen_random_uuid(),
            'photoUploadId', gen_random_uuid()), null, null, 3, 'queued:' || n, null, null)::graphile_worker.job_spec
          from generate_series(1, ${QUEUED}) n))`.execute(t.db);

        const scanned = await own.db.transaction().execute(async (tx) => {
          await addJob(tx, "analyze_photo", analysis());
          const { rows } = await sql<{ rows: number }>`
          select coalesce(sum(seq_tup_read), 0)::int as rows from pg_stat_xact_user_tables
          where schemaname = 'graphile_worker'`.execute(tx);
          return rows[0]!.rows;
        });
        const { rows } = await sql<{ jobs: number }>`select count(*)::int as jobs from graphile_worker.jobs`.execute(
          t.db,
        );
        expect(rows[0]!.jobs).toBe(QUEUED + 11);
        expect(scanned).toBeLessThan(QUEUED);
      } finally {
        await own.close();
      }
    },
  );
});
