import { sql } from "kysely";
import { describe, expect, it } from "vitest";
import { analysedRenderOnly, generate, type TestApi, useApi } from "@faceapp/testkit/api";
import { failPage } from "../../src/pipeline/pages.ts";

// The pipeline's page state beside the pipeline: a page that fails for good fails its stage, and the
// stage's queued jobs go with it (graphile-worker's remove_job on each of the personalisation's keys).
const api = useApi();

/** Jobs of one personalisation still waiting to run, found by its id in their keys. */
async function waitingJobs(pg: TestApi["pg"], id: string) {
  const { rows } = await sql<{ key: string }>`
    select key from graphile_worker.jobs
    where position(${id} in coalesce(key, '')) > 0 and locked_by is null and attempts < max_attempts
    order by key`.execute(pg.db);
  return rows.map((r) => r.key);
}

describe("a page that fails for good", () => {
  it("fails its stage and removes the stage's queued jobs, and only this personalisation's", async () => {
    const failing = await analysedRenderOnly(api, [1, 2, 3]);
    const other = await analysedRenderOnly(api, [1, 2]);
    await generate(api, failing);
    await generate(api, other);
    expect(await waitingJobs(api.pg, failing.id)).toHaveLength(4);
    const othersBefore = await waitingJobs(api.pg, other.id);
    expect(othersBefore).toHaveLength(3);

    const { generation } = await api.pg.db
      .selectFrom("app.personalization_pages")
      .select("generation")
      .where("personalization_id", "=", failing.id)
      .where("page", "=", "page_1")
      .executeTakeFirstOrThrow();
    const key = { personalizationId: failing.id, stage: "preview" as const, page: "page_1", generation };
    await failPage(api.pg, api.deps.bus, key, "no");

    const row = await api.pg.db
      .selectFrom("app.personalizations")
      .select(["status", "failure_reason"])
      .where("id", "=", failing.id)
      .executeTakeFirstOrThrow();
    expect(row).toEqual({ status: "generation_failed", failure_reason: "page page_1: no" });
    expect(await waitingJobs(api.pg, failing.id)).toEqual([]);
    expect(await waitingJobs(api.pg, other.id)).toEqual(othersBefore);
  }, 120_000);
});
