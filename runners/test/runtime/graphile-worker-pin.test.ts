import { createRequire } from "node:module";
import { sql } from "kysely";
import { expect, it } from "vitest";
import { GRAPHILE_WORKER_CHECKED, useTestDatabase } from "@faceapp/testkit";

// testkit's queue simulations write graphile-worker's private tables (a job taken by a worker that
// died, a failure PostgreSQL refuses to record): they were checked against one version of it, and
// this fails on any other. On an upgrade: read its sql/ migrations for the columns they write
// (_private_jobs: locked_by, locked_at; failures recorded by an UPDATE of last_error), run the
// runtime and sweeper tests, then move GRAPHILE_WORKER_CHECKED. docs/queue.md.
const t = useTestDatabase();

it("is the graphile-worker version the private queue simulations were checked against", async () => {
  const installed = createRequire(import.meta.url)("graphile-worker/package.json") as { version: string };
  expect(installed.version).toBe(GRAPHILE_WORKER_CHECKED);
  const { rows } = await sql<{ latest: number }>`select max(id)::int as latest from graphile_worker.migrations`.execute(
    t.db,
  );
  // Its schema as of that version: 0.17.3's last migration is 000019.
  expect(rows[0]?.latest).toBe(19);
});
