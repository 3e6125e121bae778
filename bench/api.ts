// `npm run bench:api [-- --url http://127.0.0.1:8000] [--seconds 5] [--concurrency 16]`
// Requests per second and latency percentiles of POST /v1/uploads (auth, an insert, a presigned POST)
// and GET /v1/books (the catalog; served from Redis when REDIS_URL is set), over loopback.
// Without --url it starts the api in-process on a free port, on a throwaway database of the
// configured (or embedded) Postgres, with a synthetic catalog of 30 books.
// Prints a table, then one line `RESULTS <json>` ({name, value, unit, target, met}[]) for `npm run bench`.
import { randomBytes } from "node:crypto";
import type { AddressInfo } from "node:net";
import { parseArgs } from "node:util";
import { createLogger, createS3Client, type Manifest } from "@faceapp/core";
import { resolveServices } from "@faceapp/core/local";
import { createDb, migrate } from "@faceapp/sql";
import { serve } from "@hono/node-server";
import { Redis } from "ioredis";
import postgres from "postgres";
import { createApp } from "../api/src/app.ts";
import { dataDir, env } from "../api/src/env.ts";
import { upsertBook } from "../api/src/services/books.ts";
import { load, percentile, type Result } from "./lib.ts";

const { values: args } = parseArgs({
  options: {
    url: { type: "string" },
    seconds: { type: "string", default: "5" },
    concurrency: { type: "string", default: "16" },
  },
});
const SECONDS = Math.min(60, Math.max(1, Number(args.seconds)));
const CONCURRENCY = Math.min(256, Math.max(1, Number(args.concurrency)));

/** A valid manifest for a book that has no art: enough for the catalog. */
function syntheticManifest(i: number): Manifest {
  const crop = { left: 25, top: 210, width: 2551, height: 2551 };
  return {
    slug: `bench-book-${i}`,
    title: `Bench book ${i}`,
    description: "A synthetic book for the api benchmark.",
    language: "en",
    category: i % 2 ? "adventure" : "animals",
    age_min: i % 5,
    age_max: 5 + (i % 5),
    typography: {
      fonts: { body: { file: "fonts/body.ttf", family: "Body", weight: 400 } },
      body_font: "body",
      accent_font: "body",
      body_size_pt: 18,
      accent_size_pt: 36,
      line_height: 1.3,
      color: "#222222",
    },
    pages: Array.from({ length: 24 }, (_, n) => ({
      page_num: n,
      base_uri: `pages/page_${n}.png`,
      needs_face_swap: n % 4 === 1,
      text_layers: [],
      availability: n <= 4 ? ("prepay" as const) : ("postpay" as const),
    })),
    covers: {
      front: { base_uri: "covers/front.png", needs_face_swap: false, text_layers: [], web_crop: crop },
      back: { base_uri: "covers/back.png", needs_face_swap: false, text_layers: [], web_crop: { ...crop, left: 210 } },
    },
    output: { dpi: 300, page_size_px: 2551, cover_size_px: { width: 2800, height: 3000 }, safe_zone_pt: 24 },
  };
}

/** Starts the api in this process on a throwaway database; returns its URL and how to stop it. */
async function startInProcess(): Promise<{ url: string; stop(): Promise<void> }> {
  const services = await resolveServices(env, dataDir);
  const dbName = `faceapp_bench_${randomBytes(4).toString("hex")}`;
  const admin = postgres(services.databaseUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database "${dbName}"`);
  const url = new URL(services.databaseUrl);
  url.pathname = `/${dbName}`;
  await migrate(url.toString());
  const database = createDb(url.toString(), { max: 10, applicationName: "faceapp-bench" });
  for (let i = 0; i < 30; i++) await upsertBook(database.db, syntheticManifest(i));
  const redis = env.REDIS_URL ? new Redis(env.REDIS_URL) : null;
  const app = createApp({
    db: database.db,
    s3: createS3Client(services.s3),
    s3Config: services.s3,
    redis,
    // The bench is one client IP signing up once; no limit matters, and scrypt's cost is not measured here.
    env: { ...env, LOG_LEVEL: "silent" },
    logger: createLogger("api-bench", "silent"),
    redisPrefix: `bench:${dbName}:`,
  } as Parameters<typeof createApp>[0]);
  const server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" });
  await new Promise<void>((resolve) => server.once("listening", () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    stop: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await database.close();
      if (redis) {
        const keys = await redis.keys(`bench:${dbName}:*`);
        if (keys.length) await redis.del(...keys);
        await redis.quit();
      }
      await admin.unsafe(`drop database if exists "${dbName}" with (force)`);
      await admin.end();
      await services.stop();
    },
  };
}

async function main(): Promise<void> {
  const local = args.url ? undefined : await startInProcess();
  const base = (args.url ?? local!.url).replace(/\/$/, "");
  try {
    const signup = await fetch(`${base}/v1/auth/signup`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        email: `bench-${randomBytes(6).toString("hex")}@example.com`,
        password: "bench password 1",
      }),
    });
    if (signup.status !== 201) throw new Error(`signup failed: ${signup.status} ${await signup.text()}`);
    const { token } = (await signup.json()) as { token: string };
    const uploadBody = JSON.stringify({ contentType: "image/jpeg", byteSize: 2_000_000 });
    const cases: [string, () => Promise<Response>][] = [
      [
        "POST /v1/uploads",
        () =>
          fetch(`${base}/v1/uploads`, {
            method: "POST",
            headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
            body: uploadBody,
          }),
      ],
      ["GET /v1/books", () => fetch(`${base}/v1/books?limit=20`)],
    ];
    console.log(
      `api at ${base} (${local ? "in-process" : "external"}), ${CONCURRENCY} concurrent clients, ${SECONDS} s per route, catalog cache: ${local ? (env.REDIS_URL ? "redis" : "none") : "as configured"}`,
    );
    const results: Result[] = [];
    console.log(
      `${"route".padEnd(20)} ${"req/s".padStart(9)} ${"p50 ms".padStart(8)} ${"p99 ms".padStart(8)} ${"max ms".padStart(8)} ${"requests".padStart(9)} ${"errors".padStart(7)}`,
    );
    for (const [name, send] of cases) {
      await load(send, 1, CONCURRENCY); // warm-up: part of neither figure
      const run = await load(send, SECONDS, CONCURRENCY);
      const sorted = [...run.latencies].sort((a, b) => a - b);
      const rate = run.requests / run.seconds;
      const p50 = percentile(sorted, 0.5);
      const p99 = percentile(sorted, 0.99);
      console.log(
        `${name.padEnd(20)} ${rate.toFixed(0).padStart(9)} ${p50.toFixed(1).padStart(8)} ${p99.toFixed(1).padStart(8)} ${(sorted.at(-1) ?? 0).toFixed(1).padStart(8)} ${String(run.requests).padStart(9)} ${String(run.errors).padStart(7)}`,
      );
      results.push(
        { name: `${name}: requests per second`, value: rate, unit: "req/s", target: "", met: null },
        { name: `${name}: p99 latency`, value: p99, unit: "ms", target: "", met: null },
        { name: `${name}: errors`, value: run.errors, unit: "requests", target: "0", met: run.errors === 0 },
      );
    }
    console.log(`RESULTS ${JSON.stringify(results)}`);
  } finally {
    await local?.stop();
  }
}

await main();
process.exit(0);
