// `npm run bench:api [-- --seconds 10] [--rounds 3] [--concurrency 16] [--rows 100000] [--open-rate 400] [--cpu-prof dir]`
// The api's routes, each with 16 closed-loop clients over loopback from this process:
//   - GET /healthz (the HTTP stack's ceiling), GET /v1/books (Redis cache) and POST /v1/uploads;
//   - POST /v1/personalizations (job creation) on an empty database and on one already holding
//     `rows` personalisations with as many queued `analyze_photo` jobs (seeded in SQL), each served by
//     an api process of its own, in the same interleaved rounds: the full one within 10 % of the
//     empty one, each round within 10 % of the others, and every round ≥ 2 × 415 req/s (what the
//     original Python stack's job creation ran at on this machine);
//   - POST /v1/personalizations' p99 under an open-loop load at 400 req/s on the full database;
//   - pgbench running the route's statement on the full database in the same rounds (when installed):
//     the spread of its rounds is the floor the machine and Postgres set under the api's.
// Per round and case it also prints the CPU time per request of the api process and of the Postgres
// backends serving it (from /proc, when Postgres runs on this machine), and what those backends were
// waiting for: what explains a rate that moves, whatever else the machine is doing. Prints a table,
// then one line `RESULTS <json>`.
import { parseArgs } from "node:util";
import type postgres from "postgres";
import { initialStatus, jobArguments } from "@faceapp/core";
import { resolveServices } from "@faceapp/core/local";
import { createPg } from "@faceapp/sql";
import { dataDir, env } from "../api/src/env.ts";
import { upsertBook } from "../api/src/services/books.ts";
import {
  type Answer,
  type ApiProcess,
  benchRedisUrl,
  cpuMs,
  cpuProfile,
  load,
  machineShares,
  median,
  speedProbeMs,
  openLoad,
  pgbench,
  pgbenchPath,
  printResults,
  type Result,
  request,
  seedPersonalizations,
  seedUsers,
  spawnApi,
  summarize,
  syntheticManifest,
  throwawayDatabase,
} from "./lib.ts";

const { values: args } = parseArgs({
  options: {
    seconds: { type: "string", default: "10" },
    rounds: { type: "string", default: "3" },
    concurrency: { type: "string", default: "16" },
    rows: { type: "string", default: "100000" },
    "open-rate": { type: "string", default: "400" },
    /** Writes CPU profiles of the api processes into this folder (for finding out why a figure is low). */
    "cpu-prof": { type: "string" },
  },
});
const SECONDS = Math.min(60, Math.max(1, Number(args.seconds)));
const ROUNDS = Math.min(10, Math.max(1, Number(args.rounds)));
const CONCURRENCY = Math.min(256, Math.max(1, Number(args.concurrency)));
const ROWS = Math.max(0, Number(args.rows));
const OPEN_RATE = Math.max(1, Number(args["open-rate"]));
/** The original stack's job creation on this machine (FastAPI, SQLAlchemy, Celery on Redis). */
const ORIGINAL_RATE = 415;
const BOOK = "bench-book-0";
/** pgbench's clients: as many as the api's pool has connections (createPg's default). */
const API_POOL = 10;
/**
 * The route's statement as pgbench sends it: app.create_personalization for a random caller, with the
 * job's payload and key made for the new id from the templates the api's own code gives (`sentinel`
 * stands for the id).
 */
const ROUTE_SCRIPT = `\\set n random(1, ${CONCURRENCY})
select r.live from bench_callers c
  cross join lateral (select gen_random_uuid() as id) g
  cross join lateral app.create_personalization(c.session_id, c.owner_id, now(), :book::text, c.photo_id,
    g.id, :status::text, (random() * 2 ^ 47)::bigint, null, null, :identifier::text,
    replace(replace(:payload::text, :sentinel::text, g.id::text), :photo::text, c.photo_id::text)::json,
    :attempts::int, replace(:key::text, :sentinel::text, g.id::text)) as r
where c.n = :n;
`;

const line = (name: string, value: string) => console.log(`${name.padEnd(48)} ${value}`);

/** A database for the api: the catalog, one user per client with a verified photo, and `rows` queued personalisations. */
async function prepare(adminUrl: string, rows: number) {
  const database = await throwawayDatabase(adminUrl);
  const pg = createPg(database.url, { max: 2, applicationName: "faceapp-bench" });
  for (let i = 0; i < 30; i++) await upsertBook(pg.db, syntheticManifest(i));
  const users = await seedUsers(pg.sql, CONCURRENCY);
  const ids = users.map((u) => u.id);
  // The existing rows belong to the same users: their own personalisations grow as in a long run.
  if (rows > 0) await seedPersonalizations(pg.sql, ids, Math.ceil(rows / ids.length), BOOK, { queued: true });
  // As autovacuum would have by then: the seeded rows' first vacuum (visibility map, hint bits, ≈ 300,000
  // rows in four tables) is not left to an autovacuum worker in the middle of a round.
  await pg.sql`vacuum (analyze)`;
  const uploads = await pg.sql<{ id: string; owner_id: string }[]>`
    insert into app.uploads (owner_id, object_key, content_type, declared_bytes, status, width, height, bytes, sha256, verified_at)
    select u, 'uploads/' || u || '/' || gen_random_uuid(), 'image/png', 1000, 'ready', 512, 512, 1000, repeat('0', 64), now()
    from unnest(${pg.sql.array(ids)}::uuid[]) u
    returning id, owner_id`;
  const uploadOf = new Map(uploads.map((u) => [u.owner_id, u.id]));
  // pgbench's callers: each user's session and photo, numbered from 1.
  await pg.sql`
    create table bench_callers as
    select row_number() over (order by u.owner_id)::int as n, s.id as session_id, u.owner_id, u.id as photo_id
    from app.uploads u join app.sessions s on s.user_id = u.owner_id`;
  const bodies = users.map((u) => JSON.stringify({ bookSlug: BOOK, photoUploadId: uploadOf.get(u.id) }));
  return { database, pg, users, bodies };
}

/**
 * Postgres while a round runs, sampled every 100 ms. Its own work, which no request asked for: the
 * autovacuum workers seen (the table each worked on), the checkpoints begun and the buffers the
 * backends had to write themselves. And what the backends serving the round's database were doing
 * (`pg_stat_activity`'s wait events of those in a statement): mostly waiting for the lock that
 * serialises the commits of transactions that NOTIFY (`Lock:object`; graphile-worker's add_jobs
 * notifies `jobs:insert`), the commit's WAL flush (`IO:WALSync`), or running (`CPU`). What explains a
 * slow round.
 */
function watchPostgres(sql: postgres.Sql, database: string) {
  const tables = new Set<string>();
  const waits = new Map<string, number>();
  let seen = 0;
  let stop = false;
  // Checkpoints begun, and shared buffers the backends themselves had to write out to make room (the
  // background writer and checkpointer write the rest): a working set outgrowing shared_buffers.
  // And the WAL written (pg_stat_wal, the whole cluster's: one case runs at a time): its bytes, and the
  // full-page images among them (a page's first change after a checkpoint is logged whole). And the
  // blocks the round's database read from outside shared_buffers (the OS's cache or the disk).
  const counters = async () =>
    (
      await sql<{ checkpoints: number; backend: number; walBytes: number; fpi: number; read: number }[]>`
        select (checkpoints_timed + checkpoints_req)::int as checkpoints, buffers_backend::int as backend,
          (select wal_bytes::float8 from pg_stat_wal) as "walBytes", (select wal_fpi::float8 from pg_stat_wal) as fpi,
          (select blks_read::float8 from pg_stat_database where datname = ${database}) as read
        from pg_stat_bgwriter`
    )[0]!;
  const started = counters();
  const sampling = (async () => {
    while (!stop) {
      const rows = await sql<{ query: string }[]>`
        select query from pg_stat_activity where backend_type = 'autovacuum worker' and query <> ''`;
      for (const { query } of rows) tables.add(query.replace(/^autovacuum:\s*/, ""));
      const busy = await sql<{ wait: string }[]>`
        select coalesce(wait_event_type || ':' || wait_event, 'CPU') as wait from pg_stat_activity
        where datname = ${database} and application_name <> 'faceapp-bench' and state = 'active'`;
      for (const { wait } of busy) waits.set(wait, (waits.get(wait) ?? 0) + 1);
      seen += busy.length;
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  return async () => {
    stop = true;
    await sampling;
    const [now, then] = [await counters(), await started];
    const begun = now.checkpoints - then.checkpoints;
    const written = now.backend - then.backend;
    const unasked =
      [
        ...tables,
        ...(begun ? [`${begun} checkpoint${begun > 1 ? "s" : ""}`] : []),
        ...(written ? [`${written} buffers written by backends`] : []),
      ].join("; ") || "none";
    // The three commonest, as shares of the busy backends seen.
    const doing =
      [...waits]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 3)
        .map(([wait, n]) => `${wait} ${((n / seen) * 100).toFixed(0)} %`)
        .join(", ") || "none busy";
    return {
      unasked,
      doing,
      walBytes: now.walBytes - then.walBytes,
      fpi: now.fpi - then.fpi,
      read: now.read - then.read,
    };
  };
}

/** The Postgres backends serving one database's api (server processes, when Postgres runs on this machine). */
async function backends(sql: postgres.Sql, name: string): Promise<number[]> {
  const rows = await sql<{ pid: number }[]>`
    select pid from pg_stat_activity where datname = ${name} and application_name <> 'faceapp-bench'`;
  return rows.map((r) => r.pid);
}

async function main(): Promise<void> {
  const services = await resolveServices(env, dataDir);
  const t0 = performance.now();
  const databases: Awaited<ReturnType<typeof prepare>>[] = [];
  try {
    databases.push(await prepare(services.databaseUrl, 0), await prepare(services.databaseUrl, ROWS));
    // The seed's dirty pages are written now, not by a checkpoint during the rounds.
    await databases[0]!.pg.sql`checkpoint`;
    await measure(services, databases[0]!, databases[1]!, t0);
  } finally {
    for (const { pg, database } of databases) {
      await pg.close();
      await database.drop();
    }
    await services.stop();
  }
}

async function measure(
  services: Awaited<ReturnType<typeof resolveServices>>,
  empty: Awaited<ReturnType<typeof prepare>>,
  full: Awaited<ReturnType<typeof prepare>>,
  t0: number,
): Promise<void> {
  const [queued] = await full.pg.sql<{ count: number }[]>`select count(*)::int from graphile_worker.jobs`;
  const seeded = queued?.count ?? 0;
  line("seeded", `${seeded} queued jobs and personalisations in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const profile = args["cpu-prof"];
  const apiEnv = {
    // Each client starts thousands of uploads: the per-user limit stays out of the way (its counter is still kept).
    UPLOAD_RATE_LIMIT_PER_USER: "1000000000",
    ...(profile ? cpuProfile(profile) : {}),
  };
  const apis: ApiProcess[] = [];
  try {
    // The two creation cases each get an api process that serves nothing else, so the two are alike
    // but for their database (with the other routes in the same process, the one that also served
    // them spent less CPU per creation, both databases empty); the other routes get a third.
    const apiOther = await spawnApi(empty.database.url, services.s3, apiEnv);
    apis.push(apiOther);
    const apiEmpty = await spawnApi(empty.database.url, services.s3, apiEnv);
    apis.push(apiEmpty);
    const apiFull = await spawnApi(full.database.url, services.s3, apiEnv);
    apis.push(apiFull);
    const post = (base: string, token: string, route: string, body: string) =>
      request(`${base}${route}`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
        body,
      });
    const uploadBody = JSON.stringify({ contentType: "image/jpeg", byteSize: 2_000_000 });
    const create = (api: ApiProcess, seeded: typeof empty) => (i: number) =>
      post(
        api.url,
        seeded.users[i % seeded.users.length]!.token,
        "/v1/personalizations",
        seeded.bodies[i % seeded.bodies.length]!,
      );
    const createEmpty = "POST /v1/personalizations, empty database";
    const createFull = `POST /v1/personalizations, ${ROWS} rows`;
    const cases: Record<string, { send: (i: number) => Promise<Answer>; api: ApiProcess; seeded: typeof empty }> = {
      "GET /healthz": { send: () => request(`${apiOther.url}/healthz`), api: apiOther, seeded: empty },
      "GET /v1/books": { send: () => request(`${apiOther.url}/v1/books?limit=20`), api: apiOther, seeded: empty },
      "POST /v1/uploads": {
        send: (i) => post(apiOther.url, empty.users[i % empty.users.length]!.token, "/v1/uploads", uploadBody),
        api: apiOther,
        seeded: empty,
      },
      [createEmpty]: { send: create(apiEmpty, empty), api: apiEmpty, seeded: empty },
      [createFull]: { send: create(apiFull, full), api: apiFull, seeded: full },
    };
    console.log(
      `api processes for GET /healthz, GET /v1/books and POST /v1/uploads; for creation on an empty database; for creation on ${ROWS} personalisations and queued jobs; ${CONCURRENCY} concurrent clients, ${ROUNDS} rounds of ${SECONDS} s per case, catalog cache: ${benchRedisUrl() ? "redis" : "none"}`,
    );
    // Warm-up. A fresh api process spends several times its steady CPU per creation in its first
    // seconds of load (V8 compiling the hot paths): ≈ 3–5 ms in the first second, ≈ 2 ms in the second
    // and third, and not cold again after 8 s idle (bench/README.md). After five seconds its CPU per
    // creation still fell from round to round (api 0.50, 0.42, 0.38 ms; the rounds' spread 8 and 12 %);
    // after fifteen it stayed within 0.02 ms (spread 3–4 %), so the creation cases warm for fifteen.
    for (const [name, { send }] of Object.entries(cases)) {
      await load(send, name === createEmpty || name === createFull ? 15 : 2, CONCURRENCY);
    }
    const rates: Record<string, number[]> = {};
    const p99s: Record<string, number[]> = {};
    const apiCpu: Record<string, number[]> = {};
    const pgCpu: Record<string, number[]> = {};
    let errors = 0;
    const add = (to: Record<string, number[]>, name: string, value: number) => {
      to[name] = [...(to[name] ?? []), value];
    };
    // The floor this machine and Postgres set under the api's spread: pgbench running the route's
    // statement on the full database after the two creation cases of every round (no api, no load
    // generator in Node), when pgbench is installed.
    const sentinel = "00000000-0000-4000-8000-000000000000";
    const photo = "00000000-0000-4000-8000-000000000001";
    const job = jobArguments("analyze_photo", { personalizationId: sentinel, photoUploadId: photo });
    const floorVars = {
      book: BOOK,
      status: initialStatus,
      identifier: job.identifier,
      payload: JSON.stringify(job.payload),
      attempts: String(job.maxAttempts),
      key: job.key,
      sentinel,
      photo,
    };
    const floor = pgbenchPath() ? `pgbench: the route's statement, ${ROWS} rows` : null;
    if (!floor) console.log("pgbench not found: no floor for the rounds' spread (install postgresql-client)");
    for (let round = 0; round < ROUNDS; round++) {
      // The two creation cases next to each other, their order swapped every round.
      const names = Object.keys(cases).filter((n) => n !== createEmpty && n !== createFull);
      names.push(...(round % 2 ? [createFull, createEmpty] : [createEmpty, createFull]));
      for (const name of names) {
        const { send, api, seeded } = cases[name]!;
        // The same load first, not measured: a case comes to its round after the others' rounds (tens
        // of seconds idle), and its api spent more CPU per request in the first moments back (10-second
        // rounds, quiet machine: the empty database's first round 1,490 req/s, api 0.37 ms and Postgres
        // 0.61 ms per creation, against 1,712–1,723 req/s and 0.31 / 0.52–0.53 ms). A creation case
        // gets three seconds: after one, the empty database's first round, ≈ 33 s after its warm-up,
        // still took api 0.49 / Postgres 0.95 ms per creation against 0.43–0.45 / 0.84–0.87 ms in the
        // next two (1,042 against 1,151–1,172 req/s).
        await load(send, name === createEmpty || name === createFull ? 3 : 1, CONCURRENCY);
        // CPU counted from here: the unmeasured seconds' is not divided among the round's requests.
        const database = new URL(seeded.database.url).pathname.slice(1);
        const pids = await backends(empty.pg.sql, database);
        const before = { api: cpuMs(api.pid), pg: pids.map(cpuMs) };
        const probe = speedProbeMs();
        const watching = watchPostgres(empty.pg.sql, database);
        const machine = machineShares();
        const self0 = process.cpuUsage();
        const run = await load(send, SECONDS, CONCURRENCY);
        const self = process.cpuUsage(self0);
        const api1 = cpuMs(api.pid);
        const shares = machine();
        const probeAfter = speedProbeMs();
        const { unasked, doing, walBytes, fpi, read } = await watching();
        // Backends that started during the round count from zero.
        const after = await backends(empty.pg.sql, database);
        const pg = after.reduce((sum, pid) => sum + cpuMs(pid) - (before.pg[pids.indexOf(pid)] ?? 0), 0);
        add(rates, name, run.requests / run.seconds);
        add(p99s, name, summarize(run.latencies).p99);
        add(apiCpu, name, (api1 - before.api) / run.requests);
        add(pgCpu, name, pg / run.requests);
        errors += run.errors;
        const s = summarize(run.latencies);
        line(
          `${name} (round ${round + 1})`,
          `${(run.requests / run.seconds).toFixed(0)} req/s, p50 ${s.p50.toFixed(1)} ms, p99 ${s.p99.toFixed(1)} ms, ${run.errors} errors; CPU per request: api ${((api1 - before.api) / run.requests).toFixed(2)} ms, Postgres ${(pg / run.requests).toFixed(2)} ms, load generator (this process) ${((self.user + self.system) / 1000 / run.requests).toFixed(2)} ms; machine busy ${shares.busy.toFixed(0)} %, idle ${shares.idle.toFixed(0)} %, steal ${shares.steal.toFixed(0)} %; speed probe ${probe.toFixed(0)} ms before, ${probeAfter.toFixed(0)} ms after; Postgres unasked (autovacuum, checkpoints, backend writes): ${unasked}; its backends (busy ones sampled): ${doing}; WAL per request ${(walBytes / run.requests / 1024).toFixed(1)} KB, ${(fpi / run.requests).toFixed(2)} full-page images; blocks read from outside shared buffers per request ${(read / run.requests).toFixed(2)}`,
        );
      }
      if (floor) {
        const watching = watchPostgres(empty.pg.sql, new URL(full.database.url).pathname.slice(1));
        const created = async () =>
          (await full.pg.sql<{ n: number }[]>`select count(*)::int as n from app.personalizations`)[0]!.n;
        const before = await created();
        const machine = machineShares();
        const {
          tps,
          transactions: tx,
          failed,
        } = await pgbench(full.database.url, ROUTE_SCRIPT, {
          clients: API_POOL,
          seconds: SECONDS,
          vars: floorVars,
        });
        const shares = machine();
        const { doing, walBytes, fpi } = await watching();
        // The statement refuses by returning nothing made (a session ended, a photo not ready): every
        // transaction must have made its personalisation, or the floor measured something else.
        const made = (await created()) - before;
        if (made !== tx)
          throw new Error(`pgbench ran ${tx} transactions of the route's statement and made ${made} personalisations`);
        errors += failed;
        add(rates, floor, tps);
        line(
          `${floor} (round ${round + 1})`,
          `${tps.toFixed(0)} tx/s, ${failed} failed; machine busy ${shares.busy.toFixed(0)} %; its backends (busy ones sampled): ${doing}; WAL per transaction ${(walBytes / tx / 1024).toFixed(1)} KB, ${(fpi / tx).toFixed(2)} full-page images`,
        );
      }
    }

    // Open loop at a fixed rate on the full database: latency when the api is not saturated.
    const open = await openLoad(cases[createFull]!.send, OPEN_RATE, Math.max(5, SECONDS * 2));
    const openS = summarize(open.latencies);
    errors += open.errors;
    line(
      `${createFull}, open loop at ${OPEN_RATE} req/s`,
      `${(open.requests / open.seconds).toFixed(0)} req/s, p50 ${openS.p50.toFixed(1)} ms, p99 ${openS.p99.toFixed(1)} ms, ${open.errors} errors`,
    );

    const worst = (name: string) => Math.min(...rates[name]!);
    const spread = (name: string) => 1 - Math.min(...rates[name]!) / Math.max(...rates[name]!);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const fullShare = mean(rates[createFull]!) / mean(rates[createEmpty]!);
    const booksShare = median(rates["GET /v1/books"]!.map((x, i) => x / rates["GET /healthz"]![i]!));
    const createWorst = Math.min(worst(createEmpty), worst(createFull));
    const results: Result[] = [];
    for (const name of Object.keys(cases)) {
      results.push({ name: `${name}: rate, worst round`, value: worst(name), unit: "req/s", target: "", met: null });
      results.push({
        name: `${name}: p99, worst round`,
        value: Math.max(...p99s[name]!),
        unit: "ms",
        target: "",
        met: null,
      });
    }
    for (const name of [createEmpty, createFull]) {
      results.push(
        {
          name: `${name}: api CPU per request, median`,
          value: median(apiCpu[name]!),
          unit: "ms",
          target: "",
          met: null,
        },
        {
          name: `${name}: Postgres CPU per request, median`,
          value: median(pgCpu[name]!),
          unit: "ms",
          target: "",
          met: null,
        },
        {
          name: `${name}: spread of the rounds' rates`,
          value: spread(name) * 100,
          unit: "%",
          target: "≤ 10",
          met: spread(name) <= 0.1,
        },
      );
    }
    if (floor) {
      results.push(
        { name: `${floor}: rate, worst round`, value: worst(floor), unit: "tx/s", target: "", met: null },
        {
          name: `${floor}: spread of the rounds' rates (the floor under the api's)`,
          value: spread(floor) * 100,
          unit: "%",
          target: "",
          met: null,
        },
      );
    }
    results.push(
      {
        name: "GET /v1/books / GET /healthz",
        value: booksShare,
        unit: "ratio",
        target: "≥ 0.4",
        met: booksShare >= 0.4,
      },
      {
        name: `POST /v1/personalizations: ${ROWS} rows / empty database (mean of the rounds)`,
        value: fullShare,
        unit: "ratio",
        target: "≥ 0.9",
        met: fullShare >= 0.9,
      },
      {
        name: "POST /v1/personalizations: rate, worst round of both databases",
        value: createWorst,
        unit: "req/s",
        target: `≥ ${2 * ORIGINAL_RATE}`,
        met: createWorst >= 2 * ORIGINAL_RATE,
      },
      {
        name: `POST /v1/personalizations: p99, open loop at ${OPEN_RATE} req/s, ${ROWS} rows`,
        value: openS.p99,
        unit: "ms",
        target: "≤ 50",
        met: openS.p99 <= 50 && open.errors === 0,
      },
      { name: "errors", value: errors, unit: "requests", target: "0", met: errors === 0 },
    );
    printResults(results);
  } finally {
    for (const api of apis) await api.stop();
  }
}

await main();
process.exit(0);
