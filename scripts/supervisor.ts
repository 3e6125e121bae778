// What `npm start` and `npm run dev` share to run the product as one terminal's job: children in
// process groups of their own, their logs prefixed in one stream, a part that dies taking the rest
// down, and Ctrl-C (or SIGTERM) draining the users of the stores first, then the stores, then exiting.
import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { repoRoot } from "@faceapp/core";
import { colour, env } from "./env.ts";
import { printer } from "./log.ts";

export interface Part {
  name: string;
  child: ChildProcess;
  exited: Promise<number | null>;
  /** Resolves with the first log line of the child that matches. */
  waitFor(match: (record: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>;
  /** Long-running parts: their exit while we run is a failure. One-shots are awaited instead. */
  service: boolean;
  /** True when its exit code says it stopped cleanly. */
  clean(code: number | null): boolean;
}

export interface RunOptions {
  /** A long-running part (its exit stops everything) rather than a one-shot. */
  service: boolean;
  /** Run with tsx (our TypeScript entry points); false for plain JavaScript. Default true. */
  typescript?: boolean;
  /** Seconds a part outlives a parent that died without stopping it (the stores). */
  orphanGraceSeconds?: number;
  /** Under `node --watch`: restarted by itself when a file it imports changes. */
  watch?: boolean;
  /** Exit codes that mean it stopped cleanly when asked to; default [0] (a drained part). */
  cleanExitCodes?: number[];
}

const LEVEL = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: 100 }[env.LOG_LEVEL];
/** Makes each child stop itself if this process dies without stopping it. */
const orphanGuard = pathToFileURL(path.join(repoRoot, "scripts/orphan-guard.mjs")).href;

export type Supervisor = ReturnType<typeof createSupervisor>;

/** One per process: `name` prefixes its own log lines (`start`, `dev`). */
export function createSupervisor(name: string) {
  const self = printer(name, colour);
  const say = (message: string, fields: Record<string, unknown> = {}, level = 30) => {
    if (level >= LEVEL) self.line(JSON.stringify({ level, time: new Date().toISOString(), msg: message, ...fields }));
  };
  const warn = (message: string, fields: Record<string, unknown> = {}) => say(message, fields, 40);

  const parts = new Set<Part>();
  /** The embedded stores' process: stopped last, after everything that uses them. */
  let stores: Part | undefined;
  let stopping = false;

  /** Runs one of our entry points, its output prefixed with its name. */
  function run(partName: string, entry: string, args: string[], childEnv: Record<string, string>, o: RunOptions): Part {
    const { service, typescript = true, orphanGraceSeconds = 0, watch = false } = o;
    const query = new URLSearchParams();
    if (orphanGraceSeconds) query.set("grace", String(orphanGraceSeconds));
    // Under --watch the child's parent is node's watcher: the guard watches this process instead.
    if (watch) query.set("supervisor", String(process.pid));
    const guard = query.size ? `${orphanGuard}?${query}` : orphanGuard;
    const preload = [
      // The watcher writes into the same pipe: no clearing of the terminal on restarts.
      ...(watch ? ["--watch", "--watch-preserve-output"] : []),
      "--import",
      guard,
      ...(typescript ? ["--import", "tsx"] : []),
    ];
    const child = spawn(process.execPath, [...preload, entry, ...args], {
      cwd: repoRoot,
      env: childEnv,
      stdio: ["ignore", "pipe", "pipe"],
      // Its own process group: the parent decides when it stops, and whatever it leaves behind
      // (Chromium's helpers) can be killed with the group.
      detached: true,
    });
    const out = printer(partName, colour);
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
      name: partName,
      child,
      exited,
      service,
      clean: (code) => code !== null && (o.cleanExitCodes ?? [0]).includes(code),
      waitFor: (match) =>
        new Promise<Record<string, unknown>>((resolve, reject) => {
          matchers.add({ match, resolve });
          void exited.then((code) => reject(new Error(`${partName} exited (${code}) before it was ready`)));
        }),
    };
    parts.add(part);
    void exited.then((code) => {
      parts.delete(part);
      killGroup(child, "SIGKILL"); // leftovers of the group, if any
      if (service && !stopping) {
        warn(`${partName} exited unexpectedly; stopping everything`, { code });
        void shutdown("child exit", 1);
      }
    });
    return part;
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
    say("stopped", { exitCode: code });
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
    const codes = await all;
    return clean && running.every((p, i) => p.clean(codes[i]!));
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

  /** Runs a one-shot part to its end; throws when it fails. */
  async function oneShot(
    partName: string,
    entry: string,
    args: string[],
    childEnv: Record<string, string>,
    typescript = true,
  ) {
    const code = await run(partName, entry, args, childEnv, { service: false, typescript }).exited;
    if (stopping) await new Promise(() => {}); // shutdown() exits the process
    if (code !== 0) throw new Error(`${partName} failed (exit ${code})`);
  }

  /** Resolves once `url` answers 2xx; throws when the part exits first or the time is up. */
  async function waitForHttp(url: string, part: Part, timeoutMs: number) {
    const deadline = Date.now() + timeoutMs;
    let gone = false;
    void part.exited.then(() => (gone = true));
    while (Date.now() < deadline && !gone && !stopping) {
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

  /** Runs `main`; a failure before it is done stops everything with exit 1. */
  function main(body: () => Promise<void>, what: string) {
    body().catch((err: unknown) => {
      if (stopping) return;
      warn(`${what} failed`, { err: String((err as Error)?.stack ?? err) });
      void shutdown(`${what} failed`, 1);
    });
  }

  return {
    say,
    warn,
    run,
    oneShot,
    waitForHttp,
    main,
    /** Marks the embedded stores' part, stopped after every other. */
    setStores: (part: Part) => {
      stores = part;
    },
    get stopping() {
      return stopping;
    },
  };
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals) {
  if (!child.pid) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // the group is gone already
  }
}
