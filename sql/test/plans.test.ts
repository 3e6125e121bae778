// A connection lives for hours while the tables under it grow: the plans it keeps must not be the
// ones that suited the empty tables (db.ts, plan_cache_mode). Rows read by sequential scans and rows
// fetched through indexes in the current transaction (pg_stat_xact_user_tables) tell a plan that walks
// the whole job table from one that looks the job key up: with sequential scans off, the walk was a
// full scan of the key's index hashed against the job added (bench/README.md, issue 21), which
// counting sequential scans alone did not see.
import { randomUUID } from "node:crypto";
import { sql } from "kysely";
import postgres from "postgres";
import { describe, expect, it } from "vitest";
import { addJob, jobArguments } from "@faceapp/core";
import { useTestDatabase } from "@faceapp/testkit";
import { createPg } from "../src/index.ts";

const t = useTestDatabase();
const QUEUED = 2000;

const analysis = () => ({ personalizationId: randomUUID(), photoUploadId: randomUUID() });

/** QUEUED more queued jobs, added in one statement. */
const growQueue = (db: typeof t.db) =>
  sql`select count(*) from graphile_worker.add_jobs(array(
    select row('analyze_photo', json_build_object('personalizationId', gen_random_uuid(),
      'photoUploadId', gen_random_uuid()), null, null, 3, 'queued:' || gen_random_uuid(), null, null)::graphile_worker.job_spec
    from generate_series(1, ${QUEUED})))`.execute(db);

describe("a long-lived connection adding jobs", () => {
  // Our connections plan every statement afresh; app.add_job lets add_job's statements keep plans
  // made with neither sequential nor plain index scans (bitmap scans only, which need a condition on
  // the index), so a connection on PostgreSQL's default (auto: a generic plan may be kept after five
  // runs) must not read the queue whole either.
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
        await growQueue(t.db);

        const read = await own.db.transaction().execute(async (tx) => {
          await addJob(tx, "analyze_photo", analysis());
          const { rows } = await sql<{ rows: number }>`
          select coalesce(sum(seq_tup_read + coalesce(idx_tup_fetch, 0)), 0)::int as rows from pg_stat_xact_user_tables
          where schemaname = 'graphile_worker'`.execute(tx);
          return rows[0]!.rows;
        });
        const { rows } = await sql<{ jobs: number }>`select count(*)::int as jobs from graphile_worker.jobs`.execute(
          t.db,
        );
        expect(rows[0]!.jobs).toBe(QUEUED + 11);
        expect(read).toBeLessThan(QUEUED);
      } finally {
        await own.close();
      }
    },
  );
});

describe("a long-lived connection creating personalisations", () => {
  // app.create_personalization (POST /v1/personalizations' statement) keeps its plans and those of the
  // foreign-key checks under its inserts: they must stay index plans as every table it reads grows.
  it.each(["force_custom_plan", "auto"])(
    "reads no table whole once they have grown under the connection's cached plans (plan_cache_mode %s)",
    async (mode) => {
      const book = randomUUID();
      const slug = `plans-${mode.replace(/_/g, "-")}`;
      await sql`insert into app.books (id, slug, title, category, age_min, age_max, manifest_key, manifest, cover_key, page_count, published)
        values (${book}, ${slug}, 'Plans', 'animals', 0, 9, 'm', '{}', 'c', 1, true)`.execute(t.db);
      // A user with a session and a verified photo; `create` starts one personalisation of theirs.
      const person = async () => {
        const { rows } = await sql<{ user: string; session: string; photo: string }>`
          with u as (insert into app.users (email, password_hash) values (${`${randomUUID()}@example.com`}, '$scrypt$plans') returning id),
          s as (insert into app.sessions (user_id, expires_at) select id, now() + interval '1 day' from u returning id),
          ph as (
            insert into app.uploads (owner_id, object_key, content_type, declared_bytes, status, width, height, bytes, sha256, verified_at)
            select id, 'uploads/' || gen_random_uuid(), 'image/png', 1000, 'ready', 512, 512, 1000, repeat('0', 64), now() from u
            returning id)
          select u.id as user, s.id as session, ph.id as photo from u, s, ph`.execute(t.db);
        return rows[0]!;
      };
      const create = async (db: typeof t.db, who: Awaited<ReturnType<typeof person>>) => {
        const id = randomUUID();
        const job = jobArguments("analyze_photo", { personalizationId: id, photoUploadId: who.photo });
        const { rows } = await sql<{ live: boolean; jobs: number; event_id: string | null; id: string | null }>`
          select r.live, r.jobs, r.event_id, (r.created).id
          from app.create_personalization(${who.session}::uuid, ${who.user}::uuid, now(),
            ${slug}, ${who.photo}::uuid,
            ${id}::uuid, 'analyzing', 1, null, null,
            ${job.identifier}, ${JSON.stringify(job.payload)}::json, ${job.maxAttempts}, ${job.key}) as r`.execute(db);
        expect(rows[0]).toMatchObject({ live: true, jobs: 1, id });
        expect(rows[0]!.event_id).not.toBeNull();
      };
      const me = await person();
      // An empty queue, as the statistics know it (the other cases' jobs gone).
      await sql`delete from graphile_worker._private_jobs`.execute(t.db);
      await sql`analyze`.execute(t.db);
      const own = createPg(t.url, { max: 1 });
      try {
        await sql`select set_config('plan_cache_mode', ${mode}, false)`.execute(own.db);
        // Plans made while the tables are small (PostgreSQL may keep a generic one after five runs).
        for (let i = 0; i < 10; i++) await create(own.db, me);
        // Every table it reads grows through another connection, with nothing analysed since.
        await sql`
          with u as (
            insert into app.users (email, password_hash)
            select gen_random_uuid() || '@example.com', '$scrypt$plans' from generate_series(1, ${QUEUED}) returning id),
          s as (insert into app.sessions (user_id, expires_at) select id, now() + interval '1 day' from u),
          ph as (
            insert into app.uploads (owner_id, object_key, content_type, declared_bytes, status, width, height, bytes, sha256, verified_at)
            select id, 'uploads/' || gen_random_uuid(), 'image/png', 1000, 'ready', 512, 512, 1000, repeat('0', 64), now() from u
            returning id, owner_id),
          p as (
            insert into app.personalizations (owner_id, book_id, photo_upload_id, status, seed)
            select owner_id, ${book}, id, 'analyzing', 1 from ph returning id)
          insert into app.events (personalization_id, type, data) select id, 'status', '{}' from p`.execute(t.db);
        await growQueue(t.db);

        const read = await own.db.transaction().execute(async (tx) => {
          await create(tx, me);
          const { rows } = await sql<{ rows: number }>`
            select coalesce(sum(seq_tup_read + coalesce(idx_tup_fetch, 0)), 0)::int as rows from pg_stat_xact_user_tables
            where schemaname in ('app', 'graphile_worker')`.execute(tx);
          return rows[0]!.rows;
        });
        expect(read).toBeLessThan(QUEUED);
      } finally {
        await own.close();
      }
    },
  );
});

describe("adding a job", () => {
  // app.add_job's plans may have to use a scan it turns off (0010), whose penalty cost is far above
  // jit_above_cost: compiled to machine code, each job added took about 200 ms. auto_explain shows
  // every statement add_job runs, nested ones included, with a "JIT:" part when one was compiled. (On a
  // server built without JIT, such as the embedded PostgreSQL of `npm run dev`, nothing is compiled and
  // this cannot fail; CI's PostgreSQL has it.)
  it("compiles none of its statements to machine code", async () => {
    await growQueue(t.db);
    const notices: string[] = [];
    const own = postgres(t.url, { max: 1, onnotice: (notice) => notices.push(String(notice.message)) });
    try {
      await own`load 'auto_explain'`;
      await own`select set_config('auto_explain.log_min_duration', '0', false),
        set_config('auto_explain.log_nested_statements', 'on', false),
        set_config('auto_explain.log_level', 'notice', false)`;
      for (let i = 0; i < 7; i++) {
        const job = jobArguments("analyze_photo", analysis());
        await own`select app.add_job(${job.identifier}, ${JSON.stringify(job.payload)}::json, ${job.maxAttempts}, ${job.key}, null)`;
      }
    } finally {
      await own.end();
    }
    const plans = notices.filter((n) => n.includes("plan:"));
    expect(plans.some((n) => n.includes("_private_jobs"))).toBe(true);
    expect(plans.filter((n) => n.includes("JIT:"))).toEqual([]);
  });
});
