// Shared pieces of the benchmark scripts: throwaway databases, a bounded load loop, percentiles, and
// the RESULTS line that `npm run bench` gathers.
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { execFile } from "node:child_process";
import http from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import postgres from "postgres";
import { jobs, type Manifest, queueName, type S3Config } from "@faceapp/core";
import { migrate } from "@faceapp/sql";
import { env } from "../api/src/env.ts";
import { signToken } from "../api/src/services/tokens.ts";
import { type Spawned, serviceEnv, spawnEntry } from "../testkit/src/processes.ts";

export interface Result {
  name: string;
  value: number;
  unit: string;
  target: string;
  met: boolean | null;
}

export const percentile = (sorted: number[], p: number) => sorted[Math.max(0, Math.ceil(sorted.length * p) - 1)] ?? 0;

/** Sorted copy plus the usual percentiles, in the input's unit. */
export function summarize(samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    count: sorted.length,
    p50: percentile(sorted, 0.5),
    p95: percentile(sorted, 0.95),
    p99: percentile(sorted, 0.99),
    max: sorted.at(-1) ?? 0,
  };
}

/** A migrated database of its own on the server of `adminUrl`, dropped by `drop()`. */
export async function throwawayDatabase(adminUrl: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `faceapp_bench_${randomBytes(4).toString("hex")}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database "${name}"`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  await migrate(url.toString());
  return {
    url: url.toString(),
    drop: async () => {
      await admin.unsafe(`drop database if exists "${name}" with (force)`);
      await admin.end();
    },
  };
}

/** What the load loops need of an answer: a `fetch` Response, or `request`'s. */
export interface Answer {
  ok: boolean;
  status: number;
}

const agents = new Map<string, http.Agent>();

/**
 * One HTTP/1.1 request on a kept-alive connection (node:http, one agent per origin), its body read to
 * the end and dropped: what the load loops send. The load generator shares the machine's cores with
 * the api and Postgres, and `fetch` (undici's WHATWG Request, Headers, Response and body streams)
 * cost ≈ 0.9–1.2 ms of this process's CPU per `POST /v1/personalizations`, as much as the api's own
 * work; this costs ≈ 0.3 ms (bench/README.md). The api sees the same requests either way.
 */
export function request(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Answer> {
  const target = new URL(url);
  let agent = agents.get(target.origin);
  if (!agent) {
    agent = new http.Agent({ keepAlive: true });
    agents.set(target.origin, agent);
  }
  const headers = {
    ...init.headers,
    ...(init.body === undefined ? {} : { "content-length": String(Buffer.byteLength(init.body)) }),
  };
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        agent,
        hostname: target.hostname,
        port: target.port,
        path: target.pathname + target.search,
        method: init.method ?? "GET",
        headers,
      },
      (res) => {
        const status = res.statusCode ?? 0;
        res.on("error", reject);
        res.on("end", () => resolve({ ok: status >= 200 && status < 300, status }));
        res.resume();
      },
    );
    req.on("error", reject);
    req.end(init.body);
  });
}

/** Reads a `fetch` answer's body to the end (a `request` answer was read already). */
async function drain(res: Answer | Response): Promise<void> {
  if (res instanceof Response) await res.arrayBuffer();
}

export interface LoadRun {
  requests: number;
  errors: number;
  seconds: number;
  latencies: number[];
}

/** `concurrency` loops sending one request after another for `seconds`; latencies in ms. */
export async function load(
  send: (i: number) => Promise<Answer | Response>,
  seconds: number,
  concurrency: number,
): Promise<LoadRun> {
  const latencies: number[] = [];
  let errors = 0;
  const start = performance.now();
  const end = start + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      while (performance.now() < end) {
        const t0 = performance.now();
        try {
          const res = await send(worker);
          await drain(res);
          if (!res.ok) errors += 1;
        } catch {
          errors += 1;
        }
        latencies.push(performance.now() - t0);
      }
    }),
  );
  return { requests: latencies.length, errors, seconds: (performance.now() - start) / 1000, latencies };
}

/** The machine-readable line `npm run bench` collects. */
export function printResults(results: Result[]): void {
  console.log(`RESULTS ${JSON.stringify(results)}`);
}

export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

/** A free TCP port on loopback (closed again: the caller's child listens on it). */
export async function freePort(): Promise<number> {
  const { createServer } = await import("node:net");
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as import("node:net").AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Resident memory of one process in MB (VmRSS), 0 when it is gone. */
export function rssMb(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? 0) / 1024;
  } catch {
    return 0;
  }
}

/** Proportional set size of one process in MB (shared pages split among their users), 0 when gone. */
export function pssMb(pid: number): number {
  try {
    const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, "utf8");
    return Number(/^Pss:\s+(\d+) kB/m.exec(rollup)?.[1] ?? 0) / 1024;
  } catch {
    return 0;
  }
}

/** The ids of a process's descendants (children, their children, …), from /proc. */
export function descendants(pid: number): number[] {
  const parent = new Map<number, number>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      // pid (comm) state ppid …: comm may hold spaces and parentheses, so split after the last ")".
      parent.set(Number(entry), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
    } catch {
      // gone meanwhile
    }
  }
  const found: number[] = [];
  const walk = (p: number) => {
    for (const [child, pp] of parent) {
      if (pp === p) {
        found.push(child);
        walk(child);
      }
    }
  };
  walk(pid);
  return found;
}

/**
 * Open-loop load: request i leaves at start + i / rate whatever the earlier ones are doing, and its
 * latency counts from that planned time (so a stalled server is not hidden by clients waiting).
 */
export async function openLoad(
  send: (i: number) => Promise<Answer | Response>,
  rate: number,
  seconds: number,
): Promise<LoadRun> {
  const latencies: number[] = [];
  let errors = 0;
  const total = Math.round(rate * seconds);
  const start = performance.now();
  const pending: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const planned = start + (i * 1000) / rate;
    const wait = planned - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    pending.push(
      (async () => {
        try {
          const res = await send(i);
          await drain(res);
          if (!res.ok) errors += 1;
        } catch {
          errors += 1;
        }
        latencies.push(performance.now() - planned);
      })(),
    );
  }
  await Promise.all(pending);
  return { requests: latencies.length, errors, seconds: (performance.now() - start) / 1000, latencies };
}

/** CPU time a process has used so far (user + system, from /proc), in ms; 0 when it is gone. */
export function cpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) * 10; // utime, stime in clock ticks of 10 ms
  } catch {
    return 0;
  }
}

/**
 * A fixed piece of CPU work (SHA-256 over 32 MB) timed in ms: the machine's speed at that moment. On a
 * VM sharing its cores, the same code's CPU time per request moves with it from one minute to the next.
 */
export function speedProbeMs(): number {
  const block = Buffer.alloc(1 << 20, 7);
  const start = performance.now();
  const hash = createHash("sha256");
  for (let i = 0; i < 32; i++) hash.update(block);
  hash.digest();
  return performance.now() - start;
}

type MachineCpu = { busy: number; idle: number; steal: number };

/** The machine's CPU time since boot by kind, in ms of all cores (the first line of /proc/stat). */
function machineCpu(): MachineCpu {
  const [user, nice, system, idle, iowait, irq, softirq, steal] = readFileSync("/proc/stat", "utf8")
    .split("\n")[0]!
    .trim()
    .split(/\s+/)
    .slice(1)
    .map((n) => Number(n) * 10) as number[];
  return { busy: user! + nice! + system! + irq! + softirq!, idle: idle! + iowait!, steal: steal! };
}

/**
 * Starts counting the machine's CPU time; the function returned gives the busy, idle and steal shares
 * (%) of all cores' time since. A stretch with idle time was not CPU-bound; steal is the hypervisor's
 * (time our processes wanted and did not get).
 */
export function machineShares(): () => MachineCpu {
  const start = machineCpu();
  return () => {
    const now = machineCpu();
    const total = now.busy + now.idle + now.steal - start.busy - start.idle - start.steal;
    const share = (k: keyof MachineCpu) => ((now[k] - start[k]) / total) * 100;
    return { busy: share("busy"), idle: share("idle"), steal: share("steal") };
  };
}

/** Milliseconds since the epoch with sub-millisecond resolution, comparable across processes. */
export const wallMs = () => performance.timeOrigin + performance.now();

/** The secret the api processes of the benchmarks sign with (tokens are also minted here). */
export const BENCH_JWT_SECRET = "bench-secret-bench-secret-bench-secret-0123456789";
/** The key production processes seal webhook secrets with: the api and the runners share it. */
export const BENCH_WEBHOOK_KEY = "bench-webhook-key-bench-webhook-key-0123456789";
/** The api's METRICS_TOKEN in benchmarks, which read its V8 heap from /metrics. */
export const BENCH_METRICS_TOKEN = "bench-metrics-token-0123456789";

/**
 * The Redis of REDIS_URL, in a database of its own (15) so the catalog cache and rate-limit keys of a
 * benchmark's api never meet those of other processes on the same server; null without REDIS_URL.
 */
export function benchRedisUrl(): string | null {
  if (!env.REDIS_URL) return null;
  const url = new URL(env.REDIS_URL);
  url.pathname = "/15";
  return url.toString();
}

export interface ApiProcess {
  url: string;
  pid: number;
  spawned: Spawned;
  stop(): Promise<void>;
}

/** The real api (`api/src/server.ts`) in a process of its own, answering /healthz. */
export async function spawnApi(
  databaseUrl: string,
  s3: S3Config,
  extra: Record<string, string> = {},
  /** Another checkout's api (bench/compare.ts); this one's by default. */
  root = ".",
): Promise<ApiProcess> {
  const port = await freePort();
  const spawned = spawnEntry(path.join(root, "api/src/server.ts"), {
    ...serviceEnv(databaseUrl, s3, benchRedisUrl()),
    NODE_ENV: "production",
    LOG_LEVEL: "warn",
    NODE_OPTIONS: benchNodeOptions,
    ...deployedEnv,
    // biome-ignore lint/suspicious/noUndeclaredEnvVars: a benchmark-only switch (bench/preload.mjs)
    BENCH_HEAP_DIR: process.env.BENCH_HEAP_DIR ?? "",
    PORT: String(port),
    HOST: "127.0.0.1",
    MIGRATE_ON_START: "false",
    JWT_SECRET_KEY: BENCH_JWT_SECRET,
    METRICS_TOKEN: BENCH_METRICS_TOKEN,
    WEBHOOK_ENCRYPTION_KEY: BENCH_WEBHOOK_KEY,
    WEB_DIST_DIR: "off",
    ...extra,
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (spawned.child.exitCode !== null)
      throw new Error(`the api exited (${spawned.child.exitCode}): ${JSON.stringify(spawned.logs.slice(-3))}`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error("the api did not answer /healthz within 60 s");
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    pid: spawned.child.pid!,
    spawned,
    stop: async () => {
      await spawned.stop();
    },
  };
}

/**
 * Users with a live session each, inserted straight into the database (no scrypt, no rate limit),
 * and a bearer token for each, signed as the api signs them.
 */
export async function seedUsers(sql: postgres.Sql, count: number): Promise<{ id: string; token: string }[]> {
  const rows = await sql<{ id: string; session: string }[]>`
    with u as (
      insert into app.users (email, password_hash)
      select 'bench-' || gen_random_uuid() || '@example.com', '$scrypt$bench' from generate_series(1, ${count})
      returning id)
    insert into app.sessions (user_id, expires_at)
    select id, now() + interval '1 day' from u
    returning user_id as id, id as session`;
  const config = { secret: BENCH_JWT_SECRET, algorithm: "HS256" as const };
  const expires = new Date(Date.now() + 86_400_000);
  return Promise.all(
    rows.map(async (r) => ({
      id: r.id,
      token: await signToken(config, { userId: r.id, sessionId: r.session }, expires),
    })),
  );
}

const preload = path.join(path.dirname(new URL(import.meta.url).pathname), "preload.mjs");

/**
 * NODE_OPTIONS for the processes the benchmarks spawn: bench/preload.mjs (a GC on SIGUSR2), and the
 * V8 setting compose/node.Dockerfile gives every app.
 */
export const benchNodeOptions = `--max-semi-space-size=4 --expose-gc --import ${preload}`;
/** The rest of what compose/node.Dockerfile sets for every app: the benchmarks run them as deployed. */
export const deployedEnv = { MALLOC_ARENA_MAX: "2" };

/** The environment that makes a spawned process of ours write a CPU profile into `dir` when it exits. */
export function cpuProfile(dir: string): Record<string, string> {
  return { BENCH_CPU_PROF_DIR: path.resolve(dir) };
}

/** A full garbage collection in a process started with benchNodeOptions, then a moment to settle. */
export async function collectGarbage(pid: number): Promise<void> {
  process.kill(pid, "SIGUSR2");
  await new Promise((r) => setTimeout(r, 500));
}

/** A valid manifest for a book that has no art: enough for the catalog. */
export function syntheticManifest(i: number): Manifest {
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
      keep_out: [],
      availability: n <= 4 ? ("prepay" as const) : ("postpay" as const),
    })),
    covers: {
      front: { base_uri: "covers/front.png", needs_face_swap: false, text_layers: [], keep_out: [], web_crop: crop },
      back: {
        base_uri: "covers/back.png",
        needs_face_swap: false,
        text_layers: [],
        keep_out: [],
        web_crop: { ...crop, left: 210 },
      },
    },
    output: { dpi: 300, page_size_px: 2551, cover_size_px: { width: 2800, height: 3000 }, safe_zone_pt: 24 },
  };
}

/**
 * `perUser` personalisations (status analyzing, one status event each, as created by the api) for
 * each user, on one verified photo per user and the book `bookSlug`; their ids, user by user. With
 * `queued`, each also gets its `analyze_photo` job, added in the same statement through
 * graphile-worker's public `add_jobs` (as the api's create route adds one), and nothing runs them.
 */
export async function seedPersonalizations(
  sql: postgres.Sql,
  userIds: string[],
  perUser: number,
  bookSlug: string,
  options: { queued?: boolean } = {},
): Promise<{ id: string; ownerId: string }[]> {
  const rows = await sql<{ id: string; owner_id: string }[]>`
    with up as (
      insert into app.uploads (owner_id, object_key, content_type, declared_bytes, status, width, height, bytes, sha256, verified_at)
      select u, 'uploads/' || u || '/bench', 'image/png', 1000, 'ready', 512, 512, 1000, repeat('0', 64), now()
      from unnest(${sql.array(userIds)}::uuid[]) u
      returning id, owner_id),
    p as (
      insert into app.personalizations (owner_id, book_id, photo_upload_id, status, seed)
      select up.owner_id, (select id from app.books where slug = ${bookSlug}), up.id, 'analyzing', n
      from up, generate_series(1, ${perUser}) n
      returning id, owner_id, photo_upload_id),
    e as (
      insert into app.events (personalization_id, type, data)
      select id, 'status', '{"status":"analyzing"}' from p),
    j as (
      select graphile_worker.add_jobs(array_agg(row(
        ${queueName("analyze_photo", jobs.analyze_photo.version)}::text,
        json_build_object('personalizationId', id, 'photoUploadId', photo_upload_id),
        null, null, 3, 'analyze_photo:' || id, null, null)::graphile_worker.job_spec))
      from p where ${options.queued ?? false} having count(*) > 0)
    select id, owner_id from p, (select count(*) from j) as added order by owner_id, id`;
  return rows.map((r) => ({ id: r.id, ownerId: r.owner_id }));
}

/**
 * Runs pgbench with one custom script (prepared statements, as postgres.js sends them; `vars` as its
 * -D variables): transactions per second without the connections' set-up, how many, and the failed ones.
 */
export async function pgbench(
  databaseUrl: string,
  script: string,
  options: { clients: number; seconds: number; vars?: Record<string, string> },
): Promise<{ tps: number; transactions: number; failed: number }> {
  const dir = mkdtempSync(path.join(tmpdir(), "faceapp-pgbench-"));
  const file = path.join(dir, "script.sql");
  writeFileSync(file, script);
  const url = new URL(databaseUrl);
  const args = ["-n", "-M", "prepared", "-c", String(options.clients), "-j", String(Math.min(options.clients, 2))];
  args.push("-T", String(options.seconds), "-f", file, "-h", url.hostname, "-p", url.port || "5432");
  args.push("-U", decodeURIComponent(url.username), url.pathname.slice(1));
  for (const [k, v] of Object.entries(options.vars ?? {})) args.push("-D", `${k}=${v}`);
  try {
    const bin = pgbenchPath();
    if (!bin) throw new Error("pgbench not found: install postgresql-client");
    const { stdout } = await promisify(execFile)(bin, args, {
      maxBuffer: 1 << 20,
      env: { ...process.env, PGPASSWORD: decodeURIComponent(url.password), PGAPPNAME: "pgbench" },
    });
    const tps = Number(/tps = ([\d.]+) \(without initial connection time\)/.exec(stdout)?.[1]);
    const transactions = Number(/number of transactions actually processed: (\d+)/.exec(stdout)?.[1]);
    const failed = Number(/number of failed transactions: (\d+)/.exec(stdout)?.[1] ?? 0);
    if (!Number.isFinite(tps) || !Number.isFinite(transactions)) throw new Error(`pgbench printed no rate:\n${stdout}`);
    return { tps, transactions, failed };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** pgbench on PATH, or the newest of Debian's PostgreSQL packages'; null when there is none. */
export function pgbenchPath(): string | null {
  for (const dir of (process.env.PATH ?? "").split(":")) if (existsSync(path.join(dir, "pgbench"))) return "pgbench";
  const root = "/usr/lib/postgresql";
  const versions = existsSync(root) ? readdirSync(root).sort((a, b) => Number(b) - Number(a)) : [];
  for (const v of versions) if (existsSync(path.join(root, v, "bin/pgbench"))) return path.join(root, v, "bin/pgbench");
  return null;
}
