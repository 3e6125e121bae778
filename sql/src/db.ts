import { Kysely } from "kysely";
import postgres from "postgres";
import type { Database } from "@faceapp/core/schema";
import { sessionDialect } from "./sessions.ts";

export interface Pg {
  /** Typed queries. */
  db: Kysely<Database>;
  /** The postgres.js pool under it, for LISTEN/NOTIFY and raw SQL. */
  sql: postgres.Sql;
  close(): Promise<void>;
}

export interface PgOptions {
  max?: number;
  applicationName?: string;
}

/** Kysely on postgres.js for one database URL. */
export function createPg(url: string, options: PgOptions = {}): Pg {
  const max = options.max ?? 10;
  const settings = {
    onnotice: () => {},
    connection: {
      application_name: options.applicationName ?? "faceapp",
      // Every execution is planned for its own values and the tables as they are now. A connection
      // lives for hours and keeps its statements' plans (ours are prepared; PL/pgSQL functions such
      // as graphile-worker's add_jobs keep theirs); after five runs Postgres may switch a statement
      // to a generic plan and keep it until an ANALYZE of its tables. add_jobs' update of an
      // existing job key, planned so while the queue was empty, is a sequential scan of the whole
      // job table on every job added: POST /v1/personalizations fell round after round as its jobs
      // queued (bench/README.md). Planning each time costs little against such a scan.
      plan_cache_mode: "force_custom_plan",
    },
    // Seconds before a connection that failed is tried again. postgres.js's default grows to 20 s
    // after a few failures, and every query waits it out: with PostgreSQL down a request hung for up
    // to 20 s instead of failing at once (a 503), and after it came back the first queries still
    // waited. Half a second at most keeps both prompt.
    backoff: (retries: number) => Math.min(0.1 * retries, 0.5),
  };
  // Raw SQL and LISTEN/NOTIFY share one pool; Kysely's queries and transactions run on sessions of
  // their own that survive PostgreSQL restarts (sessions.ts). Both connect lazily, up to `max` each.
  const sql = postgres(url, { ...settings, max });
  const db = new Kysely<Database>({ dialect: sessionDialect(url, settings, max) });
  return {
    db,
    sql,
    close: async () => {
      // Bounded: a connection still held (an event stream's query at shutdown) is closed after 5 s.
      await sql.end({ timeout: 5 });
      await db.destroy();
    },
  };
}
