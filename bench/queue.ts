// `npm run bench:queue [-- --waiting 10000] [--ticks 20]`: the cost of the gpu queue's places per tick
// with that many books waiting (3 face pages each) and as many event streams watching them, in one api
// process (api/src/services/queue-watch.ts). Between ticks the first book in line finishes, so every
// tick moves every waiting book and tells all of their streams: the most a tick does.
// Figures (the worst tick seen): the api's CPU time (user + system) per tick, and Postgres's own
// execution time of the tick's one statement (EXPLAIN ANALYZE of the same statement, run beside it).
import { parseArgs } from "node:util";
import { resolveServices } from "@faceapp/core/local";
import { createPg } from "@faceapp/sql";
import { sql } from "kysely";
import { dataDir, env } from "../api/src/env.ts";
import { placeWaitingQuery, queueWatch } from "../api/src/services/queue-watch.ts";
import { seedBook } from "../testkit/src/book.ts";
import { printResults, type Result, seedPersonalizations, seedUsers, summarize, throwawayDatabase } from "./lib.ts";

const { values: args } = parseArgs({
  options: { waiting: { type: "string", default: "10000" }, ticks: { type: "string", default: "20" } },
});
const WAITING = Math.max(8, Number(args.waiting));
const TICKS = Math.max(2, Number(args.ticks));
const FACE_PAGES = [1, 2, 3];

const services = await resolveServices(env, dataDir);
const database = await throwawayDatabase(services.databaseUrl);
const pg = createPg(database.url, { max: 4, applicationName: "faceapp-bench-queue" });
const results: Result[] = [];
const seeding = performance.now();
try {
  await seedBook(pg, services.s3, { slug: "bench", facePages: FACE_PAGES, previewPages: FACE_PAGES });
  const users = await seedUsers(pg.sql, Math.ceil(WAITING / 8));
  const books = (
    await seedPersonalizations(
      pg.sql,
      users.map((u) => u.id),
      8,
      "bench",
    )
  ).slice(0, WAITING);
  const ids = books.map((b) => b.id);
  // Each book's preview started, as generatePreview leaves it: pending face-page rows and their jobs, in order.
  await pg.sql`update app.personalizations set status = 'preview_generating', analysis = '{"ok":true}'
    where id = any(${ids}::uuid[])`;
  for (let i = 0; i < ids.length; i += 1000) {
    const chunk = ids.slice(i, i + 1000);
    await pg.sql`
      with b as (select id, ord from unnest(${chunk}::uuid[]) with ordinality as b(id, ord)),
      pages as (
        insert into app.personalization_pages (personalization_id, stage, page, needs_face, seed)
        select b.id, 'preview', 'page_' || n, true, n from b, unnest(${FACE_PAGES}::int[]) n returning 1)
      select graphile_worker.add_jobs(array_agg(row('personalize_page',
        json_build_object('personalizationId', b.id, 'stage', 'preview', 'page', 'page_' || n, 'generation', 0),
        null, null, 4, 'personalize_page:' || b.id || ':preview:page_' || n || ':0', null, null
      )::graphile_worker.job_spec order by b.ord, n))
      from b, unnest(${FACE_PAGES}::int[]) n`;
  }
  await pg.sql`insert into app.engine_page_times (engine, mean_ms, samples) values ('comfyui', 9000, 50)`;
  await pg.sql`insert into app.runner_heartbeats (worker_id, kind, host, pid) values ('bench', 'gpu', 'bench', 1)`;
  await pg.sql`analyze`;

  const watch = queueWatch(pg.db, 3_600_000, (err) => {
    throw err;
  });
  let told = 0;
  for (const id of ids) watch.watch(id, () => told++);
  await watch.tick(); // the streams' first places (shared by all of them)
  console.log(`seeded and watched in ${((performance.now() - seeding) / 1000).toFixed(0)} s`);
  // biome-ignore lint/suspicious/noUndeclaredEnvVars: a benchmark-only switch (bench/README.md)
  if (process.env.BENCH_QUEUE_PLAN) {
    const { rows } = await sql<{ "QUERY PLAN": string }>`explain (analyze, buffers) ${placeWaitingQuery()}`.execute(
      pg.db,
    );
    console.log(rows.map((r) => r["QUERY PLAN"]).join("\n"));
  }
  const cpu: number[] = [];
  const wall: number[] = [];
  const pgMs: number[] = [];
  const toldPerTick: number[] = [];
  for (let tick = 0; tick < TICKS; tick++) {
    // The first book in line is drawn and done.
    await pg.sql`select graphile_worker.complete_jobs(array(
      select id from graphile_worker.jobs where key like ${`personalize_page:${ids[tick]}:%`}))`;
    await pg.sql`update app.personalization_pages set status = 'done', print_key = 'x', web_key = 'x', background_key = 'x'
      where personalization_id = ${ids[tick] as string}`;
    told = 0;
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await watch.tick();
    const t1 = performance.now();
    const c1 = process.cpuUsage(c0);
    cpu.push((c1.user + c1.system) / 1000);
    wall.push(t1 - t0);
    toldPerTick.push(told);
    const { rows } = await sql<{
      "QUERY PLAN": [{ "Execution Time": number }];
    }>`explain (analyze, timing off, format json) ${placeWaitingQuery()}`.execute(pg.db);
    pgMs.push(rows[0]?.["QUERY PLAN"][0]["Execution Time"] ?? Number.NaN);
  }
  const c = summarize(cpu);
  const p = summarize(pgMs);
  const w = summarize(wall);
  console.log(
    `${WAITING} waiting books (${WAITING * FACE_PAGES.length} face-page jobs), ${WAITING} watched streams, ${TICKS} ticks`,
  );
  console.log(`streams told per tick: ${toldPerTick.join(", ")}`);
  console.log(`api CPU per tick   ms: p50 ${c.p50.toFixed(1)}, max ${c.max.toFixed(1)}`);
  console.log(`Postgres per tick  ms: p50 ${p.p50.toFixed(1)}, max ${p.max.toFixed(1)}`);
  console.log(`tick wall time     ms: p50 ${w.p50.toFixed(1)}, max ${w.max.toFixed(1)}`);
  // Each tick tells every book still watched and waiting (the finished ones heard their null once).
  const every = toldPerTick.every((n, tick) => n === WAITING - tick);
  results.push(
    {
      name: `queue places, ${WAITING} waiting: api CPU per tick (max)`,
      value: c.max,
      unit: "ms",
      target: "≤ 100",
      met: every && c.max <= 100,
    },
    {
      name: `queue places, ${WAITING} waiting: Postgres per tick (max)`,
      value: p.max,
      unit: "ms",
      target: "≤ 200",
      met: p.max <= 200,
    },
    { name: `queue places, ${WAITING} waiting: tick wall time (max)`, value: w.max, unit: "ms", target: "", met: null },
  );
} finally {
  await pg.close();
  await database.drop();
  await services.stop();
}
printResults(results);
process.exit(0);
