// `npm run bench:sse [-- --streams 10000] [--latency-streams 1000] [--rate 1000] [--seconds 10] [--cpu-prof dir]`
// Event streams (GET /v1/personalizations/:id/events) held by one api process:
//   1. memory: the api's resident memory (and V8 heap, from /metrics) with `streams` streams open,
//      less what it held before, per stream;
//   2. latency: `rate` events/s spread over `latency-streams` streams, each written to app.events and
//      published through the real progress bus as a runner does (core/src/progress.ts), measured from
//      the publish to the client having parsed the event.
// The api is the real server in a process of its own, on a throwaway database where users,
// personalisations and their first event are inserted straight away (the api allows 8 streams per
// user). The clients are another process (bench/sse-client.ts). Prints a table and a RESULTS line.
import { type ChildProcess, fork } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { createProgressBus, insertEvent } from "@faceapp/core";
import { sql } from "kysely";
import { resolveServices } from "@faceapp/core/local";
import { createPg } from "@faceapp/sql";
import { dataDir, env } from "../api/src/env.ts";
import { upsertBook } from "../api/src/services/books.ts";
import {
  BENCH_METRICS_TOKEN,
  benchRedisUrl,
  collectGarbage,
  cpuMs,
  cpuProfile,
  printResults,
  type Result,
  rssMb,
  seedPersonalizations,
  seedUsers,
  spawnApi,
  summarize,
  syntheticManifest,
  throwawayDatabase,
  wallMs,
} from "./lib.ts";

const { values: args } = parseArgs({
  options: {
    streams: { type: "string", default: "10000" },
    "latency-streams": { type: "string", default: "1000" },
    rate: { type: "string", default: "1000" },
    seconds: { type: "string", default: "10" },
    /** Writes a CPU profile of the api process into this folder (for finding out why a figure is low). */
    "cpu-prof": { type: "string" },
  },
});
const STREAMS = Math.max(8, Number(args.streams));
const LATENCY_STREAMS = Math.min(STREAMS, Math.max(1, Number(args["latency-streams"])));
const RATE = Math.max(1, Number(args.rate));
const SECONDS = Math.max(1, Number(args.seconds));
const PER_USER = 8; // MAX_STREAMS_PER_USER
const here = path.dirname(fileURLToPath(import.meta.url));
const line = (name: string, value: string) => console.log(`${name.padEnd(48)} ${value}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Waits until each process has gone quiet (under 5 % of a core over half a second; at most 30 s) and
 * returns how long that took: the 9,000 streams just closed are torn down before the latency window
 * opens, so the window measures 1,000 streams at 1,000 events/s, not a mass disconnect.
 */
async function settle(pids: number[]): Promise<number> {
  const start = performance.now();
  let before = pids.map(cpuMs);
  while (performance.now() - start < 30_000) {
    await sleep(500);
    const now = pids.map(cpuMs);
    if (now.every((ms, i) => ms - before[i]! < 25)) break;
    before = now;
  }
  return performance.now() - start;
}

/** One request to the client process and its answer. */
function ask<T>(client: ChildProcess, message: object, answer: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: { type: string }) => {
      if (m.type !== answer) return;
      client.off("message", onMessage);
      client.off("exit", onExit);
      resolve(m as T);
    };
    const onExit = (code: number | null) => reject(new Error(`the client process exited (${code})`));
    client.on("message", onMessage);
    client.once("exit", onExit);
    client.send(message);
  });
}

/** The api's V8 heap in use and committed (what it holds of the RSS), from its Prometheus metrics (MB). */
async function heapMb(base: string): Promise<{ used: number; total: number }> {
  const text = await (
    await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${BENCH_METRICS_TOKEN}` } })
  ).text();
  const metric = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, "m").exec(text)?.[1] ?? Number.NaN) / 2 ** 20;
  return { used: metric("nodejs_heap_size_used_bytes"), total: metric("nodejs_heap_size_total_bytes") };
}

async function main() {
  const services = await resolveServices(env, dataDir);
  const database = await throwawayDatabase(services.databaseUrl);
  const pg = createPg(database.url, { max: 16, applicationName: "faceapp-bench" });
  // The api's garbage collections, to see which of them fall within the latency window.
  const gcLog = path.join(os.tmpdir(), `bench-sse-gc-${process.pid}.log`);
  const api = await spawnApi(database.url, services.s3, {
    BENCH_GC_LOG: gcLog,
    ...(args["cpu-prof"] ? cpuProfile(args["cpu-prof"]) : {}),
  });
  const bus = createProgressBus(benchRedisUrl(), pg.sql);
  /** RATE events/s spread over `targets` for `seconds`, open loop; notes when each was published. */
  const publish = async (targets: string[], seconds: number, publishedAt: Map<string, number>) => {
    const pending: Promise<void>[] = [];
    const start = performance.now();
    for (let k = 0; k < RATE * seconds; k++) {
      const planned = start + (k * 1000) / RATE;
      const wait = planned - performance.now();
      if (wait > 1) await sleep(wait);
      const id = targets[k % targets.length]!;
      pending.push(
        (async () => {
          // As a runner finishing a page: the row committed, then published.
          const event = await insertEvent(pg.db, id, "page", {
            stage: "preview",
            page: `page_${k % 24}`,
            state: "done",
            webKey: `personalizations/${id}/preview/page_${k % 24}.web.jpg`,
          });
          publishedAt.set(event.id!, wallMs());
          await bus.publish(id, [event]);
        })(),
      );
    }
    await Promise.all(pending);
    return (performance.now() - start) / 1000;
  };
  const client = fork(path.join(here, "sse-client.ts"), [], {
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  try {
    const { execSync } = await import("node:child_process");
    const limit = Number(execSync("ulimit -n", { shell: "/bin/bash" }).toString().trim());
    if (limit < STREAMS + 1000) {
      throw new Error(`ulimit -n is ${limit}: ${STREAMS} streams need more; raise it (ulimit -n 65536) and rerun`);
    }
    await upsertBook(pg.db, syntheticManifest(0));
    const t0 = performance.now();
    const users = await seedUsers(pg.sql, Math.ceil(STREAMS / PER_USER));
    const tokenOf = new Map(users.map((u) => [u.id, u.token]));
    const personalizations = await seedPersonalizations(
      pg.sql,
      users.map((u) => u.id),
      PER_USER,
      "bench-book-0",
    );
    const streams = personalizations.slice(0, STREAMS).map((p) => ({ id: p.id, token: tokenOf.get(p.ownerId)! }));
    line(
      "seeded",
      `${users.length} users, ${streams.length} personalisations in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
    await new Promise<void>((resolve) => client.once("message", () => resolve())); // ready

    // Warm-up: the route's code paths and pools, and the live path (publish, catch-up read, write, parse)
    // for two seconds at the window's rate, as in an api that has been serving: left cold, the window's
    // first half second was a backlog (V8 compiling that path under 1,000 events/s). Then back to none
    // before the baseline, the warm-up's events dropped.
    const warm = streams.slice(0, 200);
    await ask(client, { type: "open", base: api.url, streams: warm }, "opened");
    await publish(
      warm.map((w) => w.id),
      2,
      new Map(),
    );
    await sleep(1000);
    await ask(client, { type: "report" }, "received");
    await ask(client, { type: "keep", count: 0 }, "kept");
    await sleep(2000);
    await collectGarbage(api.pid);
    const before = { rss: rssMb(api.pid), heap: await heapMb(api.url) };
    const opening = performance.now();
    const opened = await ask<{ open: number; failed: number }>(
      client,
      { type: "open", base: api.url, streams },
      "opened",
    );
    const openSeconds = (performance.now() - opening) / 1000;
    await sleep(3000);
    await collectGarbage(api.pid);
    const after = { rss: rssMb(api.pid), heap: await heapMb(api.url) };
    const perStreamKb = ((after.rss - before.rss) * 1024) / Math.max(1, opened.open);
    const heapPerStreamKb = ((after.heap.used - before.heap.used) * 1024) / Math.max(1, opened.open);
    line(
      `${STREAMS} streams opened`,
      `${opened.open} open, ${opened.failed} failed, in ${openSeconds.toFixed(1)} s (${(opened.open / openSeconds).toFixed(0)}/s)`,
    );
    line(
      "api memory",
      `RSS ${before.rss.toFixed(0)} → ${after.rss.toFixed(0)} MB (${perStreamKb.toFixed(1)} KB per stream), heap ${before.heap.used.toFixed(0)} → ${after.heap.used.toFixed(0)} MB (${heapPerStreamKb.toFixed(1)} KB per stream; committed ${before.heap.total.toFixed(0)} → ${after.heap.total.toFixed(0)} MB)`,
    );

    // Latency: keep the first LATENCY_STREAMS streams; RATE events/s spread over them, open loop.
    // The publisher's connections open first, as a runner's are long before a page completes: left to
    // the window's first milliseconds, its 16 connections (backend starts, type fetches) shared the
    // cores with the api just as the events began.
    await Promise.all(Array.from({ length: 16 }, () => sql`select 1`.execute(pg.db)));
    await ask(client, { type: "keep", count: LATENCY_STREAMS }, "kept");
    const settled = await settle([api.pid, client.pid!]);
    // What the streams opened after the warm-up replayed of its events is no part of the window.
    await ask(client, { type: "report" }, "received");
    line(
      `${STREAMS - LATENCY_STREAMS} streams closed`,
      `api and clients quiet again after ${(settled / 1000).toFixed(1)} s; the window opens ${((performance.now() - opening) / 1000).toFixed(1)} s after the kept streams began opening`,
    );
    const targets = streams.slice(0, LATENCY_STREAMS).map((s) => s.id);
    const publishedAt = new Map<string, number>();
    const windowStart = wallMs();
    const publishSeconds = await publish(targets, SECONDS, publishedAt);
    // Wait for the stragglers (a backlog in the api is late, not lost) until nothing more arrives.
    const events: [string, number][] = [];
    const heartbeats: number[] = [];
    const giveUp = performance.now() + 60_000;
    for (let quiet = 0; quiet < 3 && events.length < publishedAt.size && performance.now() < giveUp; ) {
      await sleep(1000);
      const report = await ask<{ events: [string, number][]; heartbeats: number[] }>(
        client,
        { type: "report" },
        "received",
      );
      events.push(...report.events);
      heartbeats.push(...report.heartbeats);
      quiet = report.events.length ? 0 : quiet + 1;
    }
    const windowEnd = Math.max(...events.map(([, at]) => at), wallMs());
    const pauses = gcPauses(gcLog, windowStart, windowEnd);
    const latencies = events.filter(([id]) => publishedAt.has(id)).map(([id, at]) => at - publishedAt.get(id)!);
    // By when each event was published, per half second of the window: a backlog (one stretch slow,
    // the rest quick) reads differently from a tail spread evenly over the window.
    const buckets: number[][] = [];
    for (const [id, at] of events) {
      const sent = publishedAt.get(id);
      if (sent === undefined) continue;
      const b = Math.floor((sent - windowStart) / 500);
      buckets[b] ??= [];
      buckets[b].push(at - sent);
    }
    const lost = publishedAt.size - latencies.length;
    const s = summarize(latencies);
    line(
      `${RATE} events/s over ${LATENCY_STREAMS} streams, ${SECONDS} s`,
      `published ${(publishedAt.size / publishSeconds).toFixed(0)}/s; publish → parsed p50 ${s.p50.toFixed(1)} ms, p99 ${s.p99.toFixed(1)} ms, max ${s.max.toFixed(1)} ms, ${lost} not received`,
    );
    line(
      "  p50 / p99 (ms) by publish time, per 0.5 s",
      Array.from(buckets, (b) => {
        const q = summarize(b ?? []);
        return `${q.p50.toFixed(0)}/${q.p99.toFixed(0)}`;
      }).join(" "),
    );
    // Heartbeats are writes the api makes beside the events (bench/README.md, "SSE latency").
    const beats: number[] = Array.from(buckets, () => 0);
    for (const at of heartbeats) {
      const b = Math.floor((at - windowStart) / 500);
      if (b >= 0 && b < beats.length) beats[b]! += 1;
    }
    line("  heartbeats received, per 0.5 s", beats.join(" "));
    line(
      "api GC pauses in that window",
      pauses
        .map((p) => `${p.kind} ${p.count}× (max ${p.max.toFixed(1)} ms, total ${p.total.toFixed(0)} ms)`)
        .join(", ") || "none",
    );
    const results: Result[] = [
      {
        name: `${STREAMS} streams open on one api process`,
        value: opened.open,
        unit: "streams",
        target: `${STREAMS}`,
        met: opened.open === STREAMS,
      },
      {
        name: "memory per open stream (api RSS)",
        value: perStreamKb,
        unit: "KB",
        target: "≤ 30",
        met: perStreamKb <= 30,
      },
      { name: "memory per open stream (V8 heap)", value: heapPerStreamKb, unit: "KB", target: "", met: null },
      { name: "streams opened per second", value: opened.open / openSeconds, unit: "/s", target: "", met: null },
      { name: "publish → client parsed: p50", value: s.p50, unit: "ms", target: "", met: null },
      { name: "publish → client parsed: p99", value: s.p99, unit: "ms", target: "≤ 100", met: s.p99 <= 100 },
      {
        name: "events published per second",
        value: publishedAt.size / publishSeconds,
        unit: "/s",
        target: `≥ ${RATE * 0.95}`,
        met: publishedAt.size / publishSeconds >= RATE * 0.95,
      },
      { name: "events not received", value: lost, unit: "events", target: "0", met: lost === 0 },
    ];
    printResults(results);
  } finally {
    client.kill();
    await api.stop();
    await bus.close();
    await pg.close();
    await database.drop();
    await services.stop();
    fs.rmSync(gcLog, { force: true });
  }
}

/** The api's GC pauses (bench/preload.mjs) between two wall-clock times, by kind. */
function gcPauses(file: string, from: number, to: number) {
  const byKind = new Map<string, { kind: string; count: number; max: number; total: number }>();
  const text = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "";
  for (const row of text.split("\n")) {
    const [at, kind, ms] = row.split(" ");
    if (!kind || Number(at) < from || Number(at) > to) continue;
    const k = byKind.get(kind) ?? { kind, count: 0, max: 0, total: 0 };
    k.count += 1;
    k.max = Math.max(k.max, Number(ms));
    k.total += Number(ms);
    byKind.set(kind, k);
  }
  return [...byKind.values()];
}

await main();
process.exit(0);
