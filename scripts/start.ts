// `npm start`: the whole product on one machine, no Docker. Runs the embedded PostgreSQL and S3 in a
// process of their own (unless DATABASE_URL and AWS_ENDPOINT_URL name real ones), migrates, generates
// and imports the demo books the catalog lacks, builds the web app for this origin, then runs the api
// (serving that build), one gpu runner (composite face engine unless COMFY_BASE_URL / FACE_ENGINE say
// otherwise) and one render runner, all sharing those stores, their logs prefixed in one terminal.
// Ctrl-C (or SIGTERM) drains the api and runners, then stops the stores, then exits.
import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { defaultDataDir, repoRoot } from "@faceapp/core";
import { localS3Credentials } from "@faceapp/core/local";
import { createDb, migrate } from "@faceapp/sql";
import { colour, env, inheritedEnv } from "./env.ts";
import { printer } from "./log.ts";

const self = printer("start", colour);
const LEVEL = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: 100 }[env.LOG_LEVEL];
const say = (message: string, fields: Record<string, unknown> = {}, level = 30) => {
  if (level >= LEVEL) self.line(JSON.stringify({ level, time: new Date().toISOString(), msg: message, ...fields }));
};
const warn = (message: string, fields: Record<string, unknown> = {}) => say(message, fields, 40);

const dataDir = path.resolve(env.DATA_DIR ?? defaultDataDir);
/** Makes each child stop itself if this process dies without stopping it. */
const orphanGuard = pathToFileURL(path.join(repoRoot, "scripts/orphan-guard.mjs")).href;

interface Part {
  name: string;
  child: ChildProcess;
  exited: Promise<number | null>;
  /** Resolves with the first log line of the child that matches. */
  waitFor(match: (record: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>;
  /** Long-running parts: their exit while we run is a failure. One-shots are awaited instead. */
  service: boolean;
}

const parts = new Set<Part>();
/** The embedded stores' process: stopped last, after everything that uses them. */
let stores: Part | undefined;
let stopping = false;

/** Runs one of our entry points with tsx, its output prefixed with its name. */
function run(
  name: string,
  entry: string,
  args: string[],
  childEnv: Record<string, string>,
  service: boolean,
  typescript = true,
  orphanGraceSeconds = 0,
): Part {
  const guard = orphanGraceSeconds ? `${orphanGuard}?grace=${orphanGraceSeconds}` : orphanGuard;
  const preload = ["--import", guard, ...(typescript ? ["--import", "tsx"] : [])];
  const child = spawn(process.execPath, [...preload, entry, ...args], {
    cwd: repoRoot,
    env: childEnv,
    stdio: ["ignore", "pipe", "pipe"],
    // Its own process group: the parent decides when it stops, and whatever it leaves behind
    // (Chromium's helpers) can be killed with the group.
    detached: true,
  });
  const out = printer(name, colour);
  const matchers = new Set<{
    match: (r: Record<string, unknown>) => boolean;
    resolve: (r: Record<string, unknown>) => void;
  }>();
  child.stdout?.on("data", (chunk: Buffer) => {
    if (!matchers.size) return;
    for (const line of chunk.toString("utf8").split("\n")) {
      if (!line.startsWith("{")) continue;
      try {
        const record = JSON.parse(line) as Record<string, unknown>;
        for (const m of matchers)
          if (m.match(record)) {
            matchers.delete(m);
            m.resolve(record);
          }
      } catch {
        // a partial line: the matcher sees the next whole one
      }
    }
  });
  out.attach(child.stdout!, "stdout");
  out.attach(child.stderr!, "stderr");
  const exited = new Promise<number | null>((resolve) => {
    child.once("error", (err) => {
      out.line(`could not start: ${err.message}`, "stderr");
      resolve(1);
    });
    child.once("exit", (code, signal) => resolve(code ?? (signal ? 128 : null)));
  });
  const part: Part = {
    name,
    child,
    exited,
    service,
    waitFor: (match) =>
      new Promise<Record<string, unknown>>((resolve, reject) => {
        matchers.add({ match, resolve });
        void exited.then((code) => reject(new Error(`${name} exited (${code}) before it was ready`)));
      }),
  };
  parts.add(part);
  void exited.then((code) => {
    parts.delete(part);
    killGroup(child, "SIGKILL"); // leftovers of the group, if any
    if (service && !stopping) {
      warn(`${name} exited unexpectedly; stopping everything`, { code });
      void shutdown("child exit", 1);
    }
  });
  return part;
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals) {
  if (!child.pid) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // the group is gone already
  }
}

/** Drains the children, kills what remains of their groups, stops the embedded stores, exits. */
async function shutdown(reason: string, code: number) {
  if (stopping) return;
  stopping = true;
  say("stopping", { reason, parts: [...parts].map((p) => p.name) });
  // First everything that uses the stores (drained), then the stores themselves.
  const users = [...parts].filter((p) => p !== stores);
  if (!(await stopParts(users, env.START_STOP_TIMEOUT_SECONDS))) code ||= 1;
  if (stores && parts.has(stores) && !(await stopParts([stores], 30))) code ||= 1;
  say("stopped");
  process.exit(code);
}

/** SIGTERM, a bounded wait, then SIGKILL to each part's whole process group. True when all drained. */
async function stopParts(running: Part[], seconds: number): Promise<boolean> {
  for (const p of running) p.child.kill("SIGTERM");
  const deadline = new Promise<"timeout">((r) => setTimeout(() => r("timeout"), seconds * 1000));
  const all = Promise.all(running.map((p) => p.exited));
  const clean = (await Promise.race([all, deadline])) !== "timeout";
  if (!clean) warn("did not stop in time; killed", { parts: running.filter((p) => parts.has(p)).map((p) => p.name) });
  for (const p of running) killGroup(p.child, "SIGKILL");
  await Promise.race([all, new Promise((r) => setTimeout(r, 5000))]);
  return clean && (await all).every((code) => code === 0);
}

let firstSignalAt = 0;
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.on(signal, () => {
    if (!firstSignalAt) {
      firstSignalAt = Date.now();
      void shutdown(signal, 0);
    } else if (Date.now() - firstSignalAt > 1000) {
      // npm and the terminal may both deliver the same Ctrl-C: only a later one is a second press.
      // A second Ctrl-C: no more waiting for drains.
      warn("second signal: killing every child now");
      for (const p of parts) killGroup(p.child, "SIGKILL");
    }
  });
}
process.on("uncaughtException", (err) => {
  warn("unexpected error", { err: String(err.stack ?? err) });
  void shutdown("error", 1);
});
process.on("unhandledRejection", (err) => {
  warn("unexpected error", { err: String((err as Error)?.stack ?? err) });
  void shutdown("error", 1);
});

/** Book folders of the repository (books/<slug>/manifest.json) by slug. */
function demoBooks(): Map<string, string> {
  const root = path.join(repoRoot, "books");
  const found = new Map<string, string>();
  if (!fs.existsSync(root)) return found;
  for (const entry of fs.readdirSync(root, { withFileTypes: true })) {
    const manifest = path.join(root, entry.name, "manifest.json");
    if (!entry.isDirectory() || !fs.existsSync(manifest)) continue;
    try {
      const { slug } = JSON.parse(fs.readFileSync(manifest, "utf8")) as { slug?: unknown };
      if (typeof slug === "string") found.set(slug, path.join(root, entry.name));
    } catch {
      warn("unreadable manifest; skipped", { manifest });
    }
  }
  return found;
}

async function oneShot(
  name: string,
  entry: string,
  args: string[],
  childEnv: Record<string, string>,
  typescript = true,
) {
  const code = await run(name, entry, args, childEnv, false, typescript).exited;
  if (stopping) await new Promise(() => {}); // shutdown() exits the process
  if (code !== 0) throw new Error(`${name} failed (exit ${code})`);
}

/** Generates (when the art is missing) and imports the demo books the catalog does not have. */
async function ensureDemoBooks(databaseUrl: string, childEnv: Record<string, string>) {
  const books = demoBooks();
  if (!books.size) {
    warn("no demo books under books/: the catalog stays as it is");
    return;
  }
  const database = createDb(databaseUrl, { max: 1, applicationName: "faceapp-start" });
  let present: Set<string>;
  try {
    const rows = await database.sql<
      { slug: string }[]
    >`select slug from app.books where slug in ${database.sql([...books.keys()])}`;
    present = new Set(rows.map((r) => r.slug));
  } finally {
    await database.close();
  }
  const missing = [...books].filter(([slug]) => !present.has(slug));
  if (!missing.length) {
    say("demo books already in the catalog", { books: [...books.keys()] });
    return;
  }
  const needArt = missing.some(([, dir]) => !fs.existsSync(path.join(dir, "art")));
  if (needArt) {
    if (!fs.existsSync(path.join(repoRoot, "books/generate.ts"))) {
      warn("demo book art is missing and books/generate.ts is not there: skipping the demo books");
      return;
    }
    say("generating the demo books' art (once; books/*/art)");
    await oneShot("books:generate", "books/generate.ts", [], childEnv);
  }
  for (const [slug, dir] of missing) {
    say("importing a demo book", { slug });
    await oneShot("books:import", "api/src/cli/import-book.ts", [dir], { ...childEnv, MIGRATE_ON_START: "false" });
  }
}

/**
 * The web app for the api to serve: WEB_DIST_DIR as given, else a fresh build of web/ into the data
 * folder (about two seconds) with the api at the same origin (VITE_API_BASE_URL=""), so it always
 * matches the code and never disturbs web/dist. Without Vite (a production install) web/dist is used.
 */
async function webApp(childEnv: Record<string, string>): Promise<string | undefined> {
  if (env.WEB_DIST_DIR) return env.WEB_DIST_DIR;
  const vite = path.join(repoRoot, "node_modules/vite/bin/vite.js");
  const built = path.join(repoRoot, "web/dist");
  if (fs.existsSync(vite) && fs.existsSync(path.join(repoRoot, "web/index.html"))) {
    const outDir = path.join(dataDir, "web");
    say("building the web app", { outDir });
    try {
      await oneShot(
        "web:build",
        vite,
        ["build", "web", "--outDir", outDir, "--emptyOutDir", "--logLevel", "warn"],
        { ...childEnv, VITE_API_BASE_URL: "" },
        false,
      );
      return outDir;
    } catch (err) {
      warn("the web app did not build; serving web/dist if there is one", { err: String(err) });
    }
  }
  if (fs.existsSync(path.join(built, "index.html"))) return built;
  warn("no web app to serve (web/ not built): the api runs alone");
  return "off";
}

async function waitForHttp(url: string, part: Part, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  let gone = false;
  void part.exited.then(() => (gone = true));
  while (Date.now() < deadline && !gone) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${part.name} did not answer ${url} ${gone ? "(it exited)" : `within ${timeoutMs / 1000} s`}`);
}

async function main() {
  const started = performance.now();
  say("starting faceapp", { dataDir });
  // The embedded PostgreSQL and S3 (those the environment does not name) run in a process of their
  // own, in its own process group: a Ctrl-C in the terminal reaches only this parent, which stops
  // them last, after the api and the runners have drained.
  // Nothing to start when both are configured (and their URLs, with passwords, stay out of the log).
  let ready: Record<string, unknown> = { databaseUrl: env.DATABASE_URL, s3: env.AWS_ENDPOINT_URL };
  if (!env.DATABASE_URL || !env.AWS_ENDPOINT_URL) {
    const storesEnv = { ...inheritedEnv(), DATA_DIR: dataDir };
    stores = run("services", "core/src/local/serve.ts", [], storesEnv, true, true, env.START_STOP_TIMEOUT_SECONDS);
    ready = await stores.waitFor((r) => r.msg === "services ready");
    if (stopping) return;
  }
  const databaseUrl = env.DATABASE_URL ?? String(ready.databaseUrl);
  const credentials = env.AWS_ENDPOINT_URL
    ? { accessKeyId: env.AWS_ACCESS_KEY_ID ?? "", secretAccessKey: env.AWS_SECRET_ACCESS_KEY ?? "" }
    : localS3Credentials;
  const s3 = {
    endpoint: env.AWS_ENDPOINT_URL ?? String(ready.s3),
    bucket: env.S3_BUCKET_NAME,
    region: env.AWS_REGION_NAME,
    credentials,
  };
  say("stores ready", {
    postgres: env.DATABASE_URL ? "configured" : `embedded on ${env.LOCAL_POSTGRES_PORT}`,
    s3: env.AWS_ENDPOINT_URL ? "configured" : `embedded on ${s3.endpoint}`,
    bucket: s3.bucket,
  });

  const { applied } = await migrate(databaseUrl, { log: (line) => say(line, {}, 20) });
  say(applied.length ? "database migrated" : "database up to date", { applied: applied.length });

  const origin = `http://localhost:${env.PORT}`;
  // Every child uses the stores this process resolved: one Postgres, one bucket.
  const childEnv: Record<string, string> = {
    ...inheritedEnv(),
    // As compose/node.Dockerfile runs every app (the reasons are there).
    MALLOC_ARENA_MAX: "2",
    NODE_OPTIONS: [process.env.NODE_OPTIONS, "--max-semi-space-size=4"].filter(Boolean).join(" "),
    DATA_DIR: dataDir,
    DATABASE_URL: databaseUrl,
    AWS_ENDPOINT_URL: s3.endpoint,
    AWS_ACCESS_KEY_ID: s3.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey,
    AWS_REGION_NAME: s3.region,
    S3_BUCKET_NAME: s3.bucket,
    LOG_LEVEL: env.LOG_LEVEL,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
  };
  await ensureDemoBooks(databaseUrl, childEnv);
  if (stopping) return;

  const webDist = await webApp(childEnv);
  if (stopping) return;
  const api = run(
    "api",
    "api/src/server.ts",
    [],
    {
      ...childEnv,
      PORT: String(env.PORT),
      MIGRATE_ON_START: "false",
      ...(webDist ? { WEB_DIST_DIR: webDist } : {}),
      WEB_ORIGIN: env.WEB_ORIGIN ?? `${origin},http://127.0.0.1:${env.PORT},http://localhost:5173`,
    },
    true,
  );
  // Two runners on one machine: each picks a free health port (a fixed one from .env would collide).
  const runnerEnv = { ...childEnv, RUNNER_HEALTH_PORT: "0" };
  const gpu = run("gpu-runner", "runners/src/gpu-runner.ts", [], runnerEnv, true);
  const render = run("render-runner", "runners/src/render-runner.ts", [], runnerEnv, true);
  const runnerReady = (r: Record<string, unknown>) => r.msg === "runner ready";
  await Promise.all([
    waitForHttp(`http://127.0.0.1:${env.PORT}/readyz`, api, 120_000),
    gpu.waitFor(runnerReady),
    render.waitFor(runnerReady),
  ]);
  if (stopping) return;
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  process.stdout.write(
    `\n  faceapp is running at ${origin}  (API docs: ${origin}/docs; started in ${seconds} s; Ctrl-C stops it)\n\n`,
  );
}

main().catch((err: unknown) => {
  if (stopping) return;
  warn("start failed", { err: String((err as Error)?.stack ?? err) });
  void shutdown("start failed", 1);
});
