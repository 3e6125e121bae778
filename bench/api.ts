// `npm run bench:api [-- --seconds 3] [--rounds 3] [--concurrency 16]`
// The api's routes against ceilings measured in the same run, on the same machine:
//   - GET /healthz of one api process: what the HTTP stack of one process serves at most;
//   - pgbench running the SQL of the route (custom scripts, prepared statements, as many connections
//     as the api's pool): what Postgres serves at most for that work.
// Figures: GET /healthz, GET /v1/books (cached in Redis when REDIS_URL is set), POST /v1/uploads and
// POST /v1/personalizations with 16 closed-loop clients over loopback, each route's rate as a share of
// its ceiling (the median of the rounds' ratios; rounds interleave every case so drift hits all alike),
// and POST /v1/personalizations' p99 under an open-loop load at half of pgbench's rate.
// The api is the real server (api/src/server.ts) in a process of its own on a throwaway database of
// the configured (or embedded) Postgres, with a synthetic catalog of 30 books; the load comes from
// this process. Prints a table, then one line `RESULTS <json>` for `npm run bench`.
import { parseArgs } from "node:util";
import { resolveServices } from "@faceapp/core/local";
import { createDb } from "@faceapp/sql";
import { dataDir, env } from "../api/src/env.ts";
import { upsertBook } from "../api/src/services/books.ts";
import {
  benchRedisUrl,
  cpuProfile,
  type LoadRun,
  load,
  median,
  openLoad,
  pgbench,
  printResults,
  type Result,
  seedUsers,
  spawnApi,
  summarize,
  syntheticManifest,
  throwawayDatabase,
} from "./lib.ts";

const { values: args } = parseArgs({
  options: {
    seconds: { type: "string", default: "3" },
    rounds: { type: "string", default: "3" },
    concurrency: { type: "string", default: "16" },
    /** Writes a CPU profile of the api process into this folder (for finding out why a figure is low). */
    "cpu-prof": { type: "string" },
  },
});
const SECONDS = Math.min(60, Math.max(1, Number(args.seconds)));
const ROUNDS = Math.min(10, Math.max(1, Number(args.rounds)));
const CONCURRENCY = Math.min(256, Math.max(1, Number(args.concurrency)));
/** The api's pool (createDb's default): pgbench gets as many connections. */
const API_POOL = 10;

/** The route's INSERT (services/uploads.ts createUpload) with its session check, the id made by the server. */
const uploadScript = `
insert into app.uploads (id, owner_id, object_key, content_type, declared_bytes)
select g, :owner, 'uploads/' || :owner || '/' || g, 'image/jpeg', 2000000 from gen_random_uuid() g
where exists (
  select from app.sessions as s inner join app.users as u on u.id = s.user_id
  where s.id = :session and s.user_id = :owner and s.revoked_at is null and s.expires_at > now());
`;

/**
 * createPersonalization's one statement (services/personalizations.ts): the session check, the book,
 * the photo, the INSERT, graphile-worker's add_job and the status event.
 */
const personalizationScript = `
with s as (select exists (
    select from app.sessions as s inner join app.users as u on u.id = s.user_id
    where s.id = :session and s.user_id = :owner and s.revoked_at is null and s.expires_at > now()) as live),
b as (select id, slug, title from app.books where slug = :slug and published = true),
ph as (select status from app.uploads where id = :upload and owner_id = :owner),
p as (
  insert into app.personalizations (id, owner_id, book_id, photo_upload_id, status, seed, idempotency_key, request_hash)
  select gen_random_uuid(), :owner, b.id, :upload, 'analyzing', (random() * 2 ^ 47)::bigint, null, null
  from s, b, ph where s.live and ph.status = 'ready'
  on conflict (owner_id, idempotency_key) where idempotency_key is not null do nothing
  returning *),
j as (select graphile_worker.add_job(identifier => 'analyze_photo'::text,
  payload => json_build_object('personalizationId', p.id, 'photoUploadId', :upload::text),
  max_attempts => 3, job_key => ('analyze_photo:' || p.id)::text) from p),
e as (insert into app.events (personalization_id, type, data)
  select id, 'status', '{"status":"analyzing"}'::jsonb from p returning id)
select s.live, b.slug as book_slug, b.title as book_title, ph.status as photo_status,
  (select count(*)::int from j) as jobs, (select id from e) as event_id, p.*
from s left join b on true left join ph on true left join p on true;
`;

const line = (name: string, value: string) => console.log(`${name.padEnd(44)} ${value}`);
const describe = (run: LoadRun) => {
  const s = summarize(run.latencies);
  return `${(run.requests / run.seconds).toFixed(0)} req/s, p50 ${s.p50.toFixed(1)} ms, p99 ${s.p99.toFixed(1)} ms, ${run.errors} errors`;
};

async function main(): Promise<void> {
  const services = await resolveServices(env, dataDir);
  const database = await throwawayDatabase(services.databaseUrl);
  const db = createDb(database.url, { max: 4, applicationName: "faceapp-bench" });
  const profile = args["cpu-prof"];
  // Each client starts thousands of uploads: the per-user limit stays out of the way (its counter is still kept).
  const api = await spawnApi(database.url, services.s3, {
    UPLOAD_RATE_LIMIT_PER_USER: "1000000000",
    ...(profile ? cpuProfile(profile) : {}),
  });
  try {
    for (let i = 0; i < 30; i++) await upsertBook(db.db, syntheticManifest(i));
    // One user per client, each with a verified photo (inserted: uploads are measured on their own).
    const users = await seedUsers(db.sql, CONCURRENCY);
    const uploads = await db.sql<{ id: string; owner_id: string }[]>`
      insert into app.uploads (owner_id, object_key, content_type, declared_bytes, status, width, height, bytes, sha256, verified_at)
      select u, 'uploads/' || u || '/bench', 'image/png', 1000, 'ready', 512, 512, 1000, repeat('0', 64), now()
      from unnest(${db.sql.array(users.map((u) => u.id))}::uuid[]) u
      returning id, owner_id`;
    const uploadOf = new Map(uploads.map((u) => [u.owner_id, u.id]));
    const base = api.url;
    const uploadBody = JSON.stringify({ contentType: "image/jpeg", byteSize: 2_000_000 });
    const bodies = users.map((u) => JSON.stringify({ bookSlug: "bench-book-0", photoUploadId: uploadOf.get(u.id) }));
    const post = (route: string, i: number, body: string) =>
      fetch(`${base}${route}`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${users[i % users.length]!.token}` },
        body,
      });
    const routes = {
      "GET /healthz": () => fetch(`${base}/healthz`),
      "GET /v1/books": () => fetch(`${base}/v1/books?limit=20`),
      "POST /v1/uploads": (i: number) => post("/v1/uploads", i, uploadBody),
      "POST /v1/personalizations": (i: number) => post("/v1/personalizations", i, bodies[i % bodies.length]!),
    };
    const owner = users[0]!.id;
    const session = JSON.parse(Buffer.from(users[0]!.token.split(".")[1]!, "base64url").toString()).sid as string;
    const vars = { owner, session, upload: uploadOf.get(owner)!, slug: "bench-book-0" };
    const ceilings = {
      "pgbench: the uploads INSERT": uploadScript,
      "pgbench: the personalizations transaction": personalizationScript,
    };
    console.log(
      `api process at ${base}, ${CONCURRENCY} concurrent clients, ${ROUNDS} rounds of ${SECONDS} s per case, catalog cache: ${benchRedisUrl() ? "redis" : "none"}, pgbench with ${API_POOL} connections`,
    );
    for (const send of Object.values(routes)) await load(send, 1, CONCURRENCY); // warm-up
    const rates: Record<string, number[]> = {};
    const p99s: Record<string, number[]> = {};
    const errors: Record<string, number> = {};
    const add = (to: Record<string, number[]>, name: string, value: number) => {
      to[name] = [...(to[name] ?? []), value];
    };
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, send] of Object.entries(routes)) {
        const run = await load(send, SECONDS, CONCURRENCY);
        add(rates, name, run.requests / run.seconds);
        add(p99s, name, summarize(run.latencies).p99);
        errors[name] = (errors[name] ?? 0) + run.errors;
        line(`${name} (round ${round + 1})`, describe(run));
      }
      for (const [name, script] of Object.entries(ceilings)) {
        const { tps, failed } = await pgbench(database.url, script, { clients: API_POOL, seconds: SECONDS, vars });
        add(rates, name, tps);
        errors[name] = (errors[name] ?? 0) + failed;
        line(`${name} (round ${round + 1})`, `${tps.toFixed(0)} tx/s, ${failed} failed`);
      }
    }
    const ratio = (a: string, b: string) => median(rates[a]!.map((x, i) => x / rates[b]![i]!));
    const booksRatio = ratio("GET /v1/books", "GET /healthz");
    const uploadsRatio = ratio("POST /v1/uploads", "pgbench: the uploads INSERT");
    const createRatio = ratio("POST /v1/personalizations", "pgbench: the personalizations transaction");

    // Open loop at half of pgbench's rate for the transaction: latency when the api is not saturated.
    const halfRate = median(rates["pgbench: the personalizations transaction"]!) / 2;
    const open = await openLoad(routes["POST /v1/personalizations"], halfRate, SECONDS * 2);
    const openP99 = summarize(open.latencies).p99;
    line(`POST /v1/personalizations at ${halfRate.toFixed(0)} req/s`, describe(open));

    const results: Result[] = [];
    for (const name of [...Object.keys(routes), ...Object.keys(ceilings)]) {
      const unit = name.startsWith("pgbench") ? "tx/s" : "req/s";
      results.push({ name: `${name}: rate`, value: median(rates[name]!), unit, target: "", met: null });
      if (p99s[name])
        results.push({ name: `${name}: p99`, value: median(p99s[name]!), unit: "ms", target: "", met: null });
    }
    results.push(
      {
        name: "GET /v1/books / GET /healthz",
        value: booksRatio,
        unit: "ratio",
        target: "≥ 0.4",
        met: booksRatio >= 0.4,
      },
      {
        name: "POST /v1/uploads / pgbench insert",
        value: uploadsRatio,
        unit: "ratio",
        target: "≥ 0.5",
        met: uploadsRatio >= 0.5,
      },
      {
        name: "POST /v1/personalizations / pgbench transaction",
        value: createRatio,
        unit: "ratio",
        target: "≥ 0.75",
        met: createRatio >= 0.75,
      },
      {
        name: "POST /v1/personalizations: p99, open loop at half pgbench's rate",
        value: openP99,
        unit: "ms",
        target: "≤ 50",
        met: openP99 <= 50 && open.errors === 0,
      },
    );
    const errorCount = Object.values(errors).reduce((a, b) => a + b, 0) + open.errors;
    results.push({ name: "errors", value: errorCount, unit: "requests", target: "0", met: errorCount === 0 });
    printResults(results);
  } finally {
    await api.stop();
    await db.close();
    await database.drop();
    await services.stop();
  }
}

await main();
process.exit(0);
