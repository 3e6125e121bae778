// `npm run bench:pipeline [-- --jobs 1000] [--personalizations 150] [--runner-concurrency 4]`
// (POST /v1/personalizations, which used to be measured here, is in bench:api against its ceiling.)
// 1. enqueue → task start over sequential jobs through our runner runtime — p50/p99.
// 2. no-op pages through one render runner: the real render_page task (claim, objects written to S3,
//    fan-in, events) with a renderer that returns ready-made images — pages/s.
// On a throwaway database of the configured (or embedded) Postgres; S3 as configured (or embedded).
import { parseArgs } from "node:util";
import sharp from "sharp";
import { addJob, createLogger, createProgressBus, createS3Client } from "@faceapp/core";
import { resolveServices } from "@faceapp/core/local";
import { createPg } from "@faceapp/sql";
import { sql } from "kysely";
import { dataDir, env } from "../api/src/env.ts";
import { generatePreview } from "../api/src/services/personalizations.ts";
import { startRunner } from "../runners/src/runtime/runner.ts";
import { defineTask } from "../runners/src/runtime/task.ts";
import { renderTasks } from "../runners/src/tasks/index.ts";
import { noWebhooks } from "../runners/src/webhooks/deliver.ts";
import { seedBook } from "../testkit/src/book.ts";
import { clearQueue } from "../testkit/src/queue.ts";
import { printResults, type Result, seedPersonalizations, seedUsers, summarize, throwawayDatabase } from "./lib.ts";

const { values: args } = parseArgs({
  options: {
    jobs: { type: "string", default: "1000" },
    personalizations: { type: "string", default: "150" },
    "runner-concurrency": { type: "string", default: "4" },
  },
});
const JOBS = Math.min(20_000, Math.max(10, Number(args.jobs)));
const PERSONALIZATIONS = Math.min(2_000, Math.max(1, Number(args.personalizations)));

const logger = createLogger("bench", "silent");
const services = await resolveServices(env, dataDir);
const database = await throwawayDatabase(services.databaseUrl);
const pg = createPg(database.url, { max: 20, applicationName: "faceapp-bench" });
const s3 = createS3Client(services.s3);
const bus = createProgressBus(env.REDIS_URL, pg.sql);
const results: Result[] = [];
const row = (name: string, value: string) => console.log(`${name.padEnd(58)} ${value}`);

try {
  // The book: 12 preview pages and the front cover, no face pages (the gpu runner is not measured here).
  await seedBook(pg, services.s3, {
    slug: "bench",
    facePages: [],
    previewPages: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12],
  });
  // The personalisations whose previews the no-op pages make (POST /v1/personalizations is measured by bench:api).
  const users = await seedUsers(pg.sql, Math.ceil(PERSONALIZATIONS / 8));
  await seedPersonalizations(
    pg.sql,
    users.map((u) => u.id),
    8,
    "bench",
  );
  await clearQueue(pg);

  // Enqueue → start: one job at a time, each added by core's addJob and picked up by our runtime.
  let started: (() => void) | null = null;
  const probe = defineTask({
    name: "render_page",
    async run() {
      started?.();
    },
  });
  const runnerOptions = {
    databaseUrl: database.url,
    heartbeatSeconds: 10,
    staleAfterSeconds: 60,
    drainSeconds: 5,
    healthPort: 0,
  };
  const deps = { pg, s3, s3Config: services.s3, bus, logger };
  const latencyRunner = await startRunner({
    ...runnerOptions,
    kind: "render",
    concurrency: 1,
    deps: deps as never,
    tasks: [probe],
  });
  const latencies: number[] = [];
  for (let i = 0; i < JOBS; i++) {
    const begun = new Promise<void>((resolve) => {
      started = resolve;
    });
    const t0 = performance.now();
    await addJob(pg.db, "render_page", {
      personalizationId: crypto.randomUUID(),
      stage: "preview",
      page: "page_1",
      generation: 0,
    });
    await begun;
    latencies.push(performance.now() - t0);
  }
  await latencyRunner.stop();
  const enqueue = summarize(latencies);
  row(
    `enqueue → task start (${JOBS} sequential jobs)`,
    `p50 ${enqueue.p50.toFixed(2)} ms, p99 ${enqueue.p99.toFixed(2)} ms, max ${enqueue.max.toFixed(1)} ms`,
  );
  results.push(
    { name: "enqueue → task start: p50", value: enqueue.p50, unit: "ms", target: "≤ 5", met: enqueue.p50 <= 5 },
    { name: "enqueue → task start: p99", value: enqueue.p99, unit: "ms", target: "≤ 15", met: enqueue.p99 <= 15 },
  );

  // No-op pages: previews of PERSONALIZATIONS personalisations (13 pages each) through one render runner.
  const all = await pg.db
    .selectFrom("app.personalizations")
    .select(["id", "owner_id"])
    .limit(PERSONALIZATIONS)
    .execute();
  await pg.db
    .updateTable("app.personalizations")
    .set({ status: "analyzed", analysis: { ok: true } })
    .where(
      "id",
      "in",
      all.map((p) => p.id),
    )
    .execute();
  for (const p of all)
    await generatePreview(pg.db, { client: s3, config: services.s3 }, p.owner_id, p.id, { childName: "Ada" });
  const pages = all.length * 13;
  const web = await sharp({ create: { width: 8, height: 8, channels: 3, background: "#fff" } })
    .jpeg()
    .toBuffer();
  const print = web;
  const noop = { render: async () => ({ print, web }), close: async () => {} };
  const concurrency = Math.min(64, Math.max(1, Number(args["runner-concurrency"])));
  const t0 = performance.now();
  const pageRunner = await startRunner({
    ...runnerOptions,
    kind: "render",
    concurrency,
    deps: { ...deps, renderer: noop, assembler: { assemble: async () => {} }, webhooks: noWebhooks },
    tasks: renderTasks,
  });
  for (;;) {
    const { rows } = await sql<{ done: number; failed: number }>`
      select count(*) filter (where status = 'done')::int as done, count(*) filter (where status = 'failed')::int as failed
      from app.personalization_pages`.execute(pg.db);
    if (rows[0]?.failed) {
      const { rows: why } = await sql<{
        last_error: string;
      }>`select last_error from graphile_worker.jobs where last_error is not null limit 3`.execute(pg.db);
      throw new Error(`${rows[0].failed} pages failed: ${why.map((w) => w.last_error).join("; ")}`);
    }
    if ((rows[0]?.done ?? 0) >= pages) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const seconds = (performance.now() - t0) / 1000;
  await pageRunner.stop();
  const throughput = pages / seconds;
  row(
    `no-op pages, one render runner (concurrency ${concurrency})`,
    `${throughput.toFixed(0)} pages/s (${pages} pages in ${seconds.toFixed(1)} s)`,
  );
  results.push({
    name: "no-op pages through one render runner",
    value: throughput,
    unit: "pages/s",
    target: "≥ 500",
    met: throughput >= 500,
  });
  printResults(results);
} finally {
  await bus.close();
  await pg.close();
  await database.drop();
  await services.stop();
}
process.exit(0);
