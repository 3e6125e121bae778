import { Kysely } from "kysely";
import { PostgresJSDialect } from "kysely-postgres-js";
import postgres from "postgres";
import type { Database } from "./schema.ts";

export interface Db {
  /** Typed queries. */
  db: Kysely<Database>;
  /** The postgres.js pool under it, for LISTEN/NOTIFY and raw SQL. */
  sql: postgres.Sql;
  close(): Promise<void>;
}

export interface DbOptions {
  max?: number;
  applicationName?: string;
}

/** Kysely on postgres.js for one database URL. */
export function createDb(url: string, options: DbOptions = {}): Db {
  const sql = postgres(url, {
    max: options.max ?? 10,
    onnotice: () => {},
    connection: { application_name: options.applicationName ?? "faceapp" },
  });
  const db = new Kysely<Database>({ dialect: new PostgresJSDialect({ postgres: sql }) });
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
