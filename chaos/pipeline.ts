// What the fault scenarios of the pipeline read back: the pages' rows, their persisted events, the
// jobs graphile-worker holds for them. Final state, never logs.
import { sql } from "kysely";
import { expect } from "vitest";
import { bearer, body, jsonInit, type TestApi } from "../api/test/helpers.ts";

/** Polls `probe` every 150 ms until it holds; fails naming `what` after `timeoutMs`. */
export async function waitUntil(probe: () => Promise<boolean>, what: string, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`${what}: not reached within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

/** Starts the preview stage of an analysed personalisation. */
export async function generate(api: TestApi, p: { id: string; token: string }): Promise<void> {
  const res = await api.app.request(
    `/v1/personalizations/${p.id}/generate`,
    jsonInit("POST", { childName: "Ada" }, bearer(p.token)),
  );
  expect(res.status, JSON.stringify(await body(res.clone()))).toBe(202);
}

/** The personalisation's page rows. */
export function pagesOf(api: TestApi, id: string) {
  return api.db.db
    .selectFrom("app.personalization_pages")
    .selectAll()
    .where("personalization_id", "=", id)
    .orderBy("page")
    .execute();
}

/** How many persisted `page done` events each page has: exactly one per page when each was done once. */
export async function doneCounts(api: TestApi, id: string): Promise<Record<string, number>> {
  const rows = await api.db.db
    .selectFrom("app.events")
    .select("data")
    .where("personalization_id", "=", id)
    .where("type", "=", "page")
    .execute();
  const counts: Record<string, number> = {};
  for (const { data } of rows) {
    if (data.state === "done") counts[String(data.page)] = (counts[String(data.page)] ?? 0) + 1;
  }
  return counts;
}

export interface JobRow {
  key: string;
  attempts: number;
  max_attempts: number;
  last_error: string | null;
  /** Failed attempts so far (a locked job is in the middle of one more). */
  failures: number;
}

/** The graphile-worker jobs still held for the personalisation (a job is deleted once it succeeds). */
export async function jobsOf(api: TestApi, id: string, task: string): Promise<JobRow[]> {
  const { rows } = await sql<JobRow>`
    select key, attempts, max_attempts, last_error, attempts - (locked_by is not null)::int as failures
    from graphile_worker.jobs
    where split_part(key, ':', 1) = ${task} and split_part(key, ':', 2) = ${id}`.execute(api.db.db);
  return rows;
}

/** Resolves once each of the `count` jobs of a task has failed at least `failures` times, last with `error`. */
export function jobsFailed(api: TestApi, id: string, task: string, count: number, failures: number, error: RegExp) {
  return waitUntil(async () => {
    const jobs = await jobsOf(api, id, task);
    return jobs.length === count && jobs.every((j) => j.failures >= failures && error.test(j.last_error ?? ""));
  }, `${count} ${task} jobs failed ${failures}× with ${error}`);
}
