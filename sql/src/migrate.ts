import { createHash } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import postgres from "postgres";
import { runMigrations as runWorkerMigrations } from "graphile-worker";

/** The folder of numbered plain-SQL migrations shipped with this package. */
export const migrationsDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../migrations");

export interface Migration {
  version: number;
  name: string;
  sql: string;
  checksum: string;
}

export class MigrationError extends Error {
  override name = "MigrationError";
}

const label = (m: { version: number; name: string }) => `${String(m.version).padStart(4, "0")}_${m.name}`;

// Any fixed number: serialises migrators started at the same moment (api and runners in compose).
const LOCK_KEY = 72_401_976;

/** Reads `NNNN_name.sql` files in version order, refusing gaps and duplicates. */
export async function readMigrations(dir = migrationsDir): Promise<Migration[]> {
  const files = (await fs.readdir(dir)).filter((f) => f.endsWith(".sql")).sort();
  const migrations: Migration[] = [];
  for (const file of files) {
    const match = /^(\d{4})_([a-z0-9_]+)\.sql$/.exec(file);
    if (!match) throw new MigrationError(`migration file name must look like 0001_name.sql: ${file}`);
    const sql = (await fs.readFile(path.join(dir, file), "utf8")).replace(/\r\n/g, "\n");
    const version = Number(match[1]);
    if (version !== migrations.length + 1)
      throw new MigrationError(`migration ${file} breaks the sequence: expected ${migrations.length + 1}`);
    migrations.push({
      version,
      name: match[2] as string,
      sql,
      checksum: createHash("sha256").update(sql).digest("hex"),
    });
  }
  return migrations;
}

export interface MigrateOptions {
  dir?: string;
  log?: (line: string) => void;
}

/**
 * Applies pending migrations, one transaction each, then graphile-worker's own schema. Refuses to
 * run when an applied migration was edited or removed.
 */
export async function migrate(databaseUrl: string, options: MigrateOptions = {}): Promise<{ applied: number[] }> {
  const log = options.log ?? (() => {});
  const migrations = await readMigrations(options.dir);
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  const applied: number[] = [];
  try {
    await sql`select pg_advisory_lock(${LOCK_KEY})`;
    await sql`create schema if not exists app`;
    await sql`create table if not exists app.schema_migrations (
      version integer primary key,
      name text not null,
      checksum text not null,
      applied_at timestamptz not null default now()
    )`;
    const done = await sql<{ version: number; name: string; checksum: string }[]>`
      select version, name, checksum from app.schema_migrations order by version`;
    for (const row of done) {
      const file = migrations.find((m) => m.version === row.version);
      if (!file)
        throw new MigrationError(`applied migration ${label(row)} is missing from ${options.dir ?? migrationsDir}`);
      if (file.checksum !== row.checksum) {
        throw new MigrationError(
          `applied migration ${label(row)} was edited after it ran; add a new migration instead`,
        );
      }
    }
    for (const migration of migrations.slice(done.length)) {
      await sql.begin(async (tx) => {
        await tx.unsafe(migration.sql);
        await tx`insert into app.schema_migrations (version, name, checksum)
          values (${migration.version}, ${migration.name}, ${migration.checksum})`;
      });
      applied.push(migration.version);
      log(`applied migration ${label(migration)}`);
    }
    await runWorkerMigrations({ connectionString: databaseUrl });
  } finally {
    await sql`select pg_advisory_unlock(${LOCK_KEY})`.catch(() => {});
    await sql.end();
  }
  return { applied };
}
