// Vitest global setup: one Postgres (configured or embedded), one template database built from the
// migrations, one s3rver; each test file then clones its own database and makes its own bucket.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createHash } from "node:crypto";
import postgres from "postgres";
import type { TestProject } from "vitest/node";
import { defaultDataDir } from "@faceapp/core";
import { startLocalPostgres, startLocalS3, type LocalService } from "@faceapp/core/local";
import { migrate, migrationsDir } from "@faceapp/sql";
import { env } from "./env.ts";
import "./context.ts";
import { withDatabase } from "./urls.ts";

async function templateName(): Promise<string> {
  const hash = createHash("sha256");
  for (const file of fs.readdirSync(migrationsDir).sort())
    hash.update(file).update(fs.readFileSync(path.join(migrationsDir, file)));
  return `faceapp_tpl_${hash.digest("hex").slice(0, 12)}`;
}

/** Builds the template once per migration set; concurrent runs wait on an advisory lock. */
async function ensureTemplate(adminUrl: string): Promise<string> {
  const name = await templateName();
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    await admin`select pg_advisory_lock(7240)`;
    const [exists] = await admin`select 1 from pg_database where datname = ${name}`;
    if (!exists) {
      const building = `${name}_building`;
      await admin.unsafe(`drop database if exists "${building}"`);
      await admin.unsafe(`create database "${building}"`);
      await migrate(withDatabase(adminUrl, building));
      await admin.unsafe(`alter database "${building}" rename to "${name}"`);
      await admin.unsafe(`alter database "${name}" with is_template true`);
    }
    await admin`select pg_advisory_unlock(7240)`;
  } finally {
    await admin.end();
  }
  return name;
}

export default async function setup(project: TestProject) {
  const started: LocalService[] = [];
  let adminUrl = env.DATABASE_URL;
  if (!adminUrl) {
    const pg = await startLocalPostgres({
      dataDir: path.join(defaultDataDir, "test-postgres"),
      port: env.TEST_POSTGRES_PORT,
      database: "postgres",
    });
    started.push(pg);
    adminUrl = pg.url;
  }
  const templateDatabase = await ensureTemplate(adminUrl);

  const s3Dir = fs.mkdtempSync(path.join(os.tmpdir(), "faceapp-s3-"));
  const s3 = await startLocalS3({ dir: s3Dir, port: 0, bucket: "faceapp-test" });
  started.push(s3);

  const runId = `${process.pid.toString(36)}${Date.now().toString(36)}`;
  project.provide("adminDatabaseUrl", adminUrl);
  project.provide("templateDatabase", templateDatabase);
  project.provide("runId", runId);
  project.provide("s3Endpoint", s3.url);
  project.provide("redisUrl", env.REDIS_URL ?? null);
  if (!env.REDIS_URL) console.warn("[testkit] REDIS_URL is not set: tests that need Redis are skipped.");

  return async () => {
    // Files drop their own databases; this catches the ones a crashed file left behind.
    const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
    const leftovers = await admin`select datname from pg_database where datname like ${`faceapp_t_${runId}_%`}`;
    for (const { datname } of leftovers) await admin.unsafe(`drop database if exists "${datname}" with (force)`);
    await admin.end();
    for (const service of started.reverse()) await service.stop();
    fs.rmSync(s3Dir, { recursive: true, force: true });
  };
}
