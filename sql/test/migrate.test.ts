import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MigrationError, migrate, migrationsDir, readMigrations } from "@faceapp/sql";
import { createTestDatabase } from "@faceapp/testkit";

// These tests need empty databases, not the migrated template.
const drops: (() => Promise<void>)[] = [];
async function emptyDatabase(): Promise<string> {
  const created = await createTestDatabase({ empty: true });
  drops.push(created.drop);
  return created.url;
}
afterAll(async () => {
  for (const drop of drops) await drop();
});

describe("migrate", () => {
  let url: string;
  beforeAll(async () => {
    url = await emptyDatabase();
  });

  it("applies every migration to an empty database, then graphile-worker's schema", async () => {
    const files = await readMigrations();
    const { applied } = await migrate(url);
    expect(applied).toEqual(files.map((f) => f.version));
    const sql = postgres(url, { max: 1, onnotice: () => {} });
    const tables = await sql`select table_name from information_schema.tables where table_schema = 'app' order by 1`;
    expect(tables.map((t) => t.table_name)).toEqual([
      "books",
      "engine_page_times",
      "events",
      "personalization_pages",
      "personalizations",
      "runner_heartbeats",
      "schema_migrations",
      "sessions",
      "uploads",
      "users",
      "webhook_attempts",
      "webhook_deliveries",
      "webhook_endpoints",
    ]);
    const [worker] =
      await sql`select count(*)::int as n from information_schema.routines where routine_schema = 'graphile_worker' and routine_name = 'add_job'`;
    expect(worker?.n).toBe(1);
    await sql.end();
  });

  it("is idempotent: a second run applies nothing and changes nothing", async () => {
    const { applied } = await migrate(url);
    expect(applied).toEqual([]);
  });

  it("serialises concurrent migrators on one empty database", async () => {
    const fresh = await emptyDatabase();
    const results = await Promise.all([migrate(fresh), migrate(fresh), migrate(fresh)]);
    const all = results.flatMap((r) => r.applied);
    expect(all.sort((a, b) => a - b)).toEqual((await readMigrations()).map((m) => m.version));
  });
});

describe("migrate refuses", () => {
  let dir: string;
  let url: string;
  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), "faceapp-migrations-"));
    for (const f of await fs.readdir(migrationsDir)) await fs.copyFile(path.join(migrationsDir, f), path.join(dir, f));
    url = await emptyDatabase();
    await migrate(url, { dir });
  });
  afterAll(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it("an applied migration that was edited afterwards", async () => {
    const file = path.join(dir, "0001_init.sql");
    const original = await fs.readFile(file, "utf8");
    await fs.writeFile(file, `${original}\n-- an innocent-looking edit\n`);
    await expect(migrate(url, { dir })).rejects.toThrow(/0001_init was edited/);
    await expect(migrate(url, { dir })).rejects.toBeInstanceOf(MigrationError);
    await fs.writeFile(file, original);
    await expect(migrate(url, { dir })).resolves.toEqual({ applied: [] });
  });

  it("a gap in the numbering", async () => {
    const gap = `${String((await readMigrations()).length + 2).padStart(4, "0")}_skipped.sql`;
    await fs.writeFile(path.join(dir, gap), "select 1;");
    await expect(migrate(url, { dir })).rejects.toThrow(/breaks the sequence/);
    await fs.rm(path.join(dir, gap));
  });

  it("a failing migration leaves nothing half-applied", async () => {
    const shipped = await readMigrations();
    const broken = `${String(shipped.length + 1).padStart(4, "0")}_broken.sql`;
    await fs.writeFile(path.join(dir, broken), "create table app.half (id int);\nselect * from no_such_table;");
    await expect(migrate(url, { dir })).rejects.toThrow(/no_such_table/);
    const sql = postgres(url, { max: 1, onnotice: () => {} });
    const [half] = await sql`select to_regclass('app.half') as t`;
    const versions = await sql`select version from app.schema_migrations`;
    await sql.end();
    expect(half?.t).toBeNull();
    expect(versions.map((v) => v.version)).toEqual(shipped.map((m) => m.version));
    await fs.rm(path.join(dir, broken));
  });
});
