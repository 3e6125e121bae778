// What the fault scenarios of the pipeline start from (an analysed personalisation, its preview
// generated) and read back: the pages' rows, their persisted events, the jobs graphile-worker holds
// for them, the bucket's keys. Final state, never logs.
import { ListObjectsV2Command, type S3Client } from "@aws-sdk/client-s3";
import { sql } from "kysely";
import { expect } from "vitest";
import { skipAnalysis } from "../analysis.ts";
import { waitUntil } from "../wait.ts";
import { bearer, body, jsonInit, signUp, type TestApi } from "./app.ts";
import { book, createPersonalization, readyPhoto } from "./personalizations.ts";

let books = 0;
/** A new user's analysed personalisation of a new book whose preview is `previewPages` render pages plus the front cover. */
export async function analysedRenderOnly(api: TestApi, previewPages: number[]): Promise<{ id: string; token: string }> {
  const slug = `render-only-${++books}`;
  await book(api, { slug, facePages: [], previewPages });
  const user = await signUp(api.app);
  const photo = await readyPhoto(api.app, user.token);
  const { id } = await body(await createPersonalization(api.app, user.token, slug, photo));
  await skipAnalysis(api.pg, id);
  return { id: id as string, token: user.token };
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
  return api.pg.db
    .selectFrom("app.personalization_pages")
    .selectAll()
    .where("personalization_id", "=", id)
    .orderBy("page")
    .execute();
}

/** The data of the personalisation's persisted `page` events, in the order they were written. */
export async function pageEvents(api: TestApi, id: string) {
  const rows = await api.pg.db
    .selectFrom("app.events")
    .select("data")
    .where("personalization_id", "=", id)
    .where("type", "=", "page")
    .orderBy("id")
    .execute();
  return rows.map((r) => r.data as { page: string; state: string });
}

/** How many persisted `page done` events each page has: exactly one per page when each was done once. */
export async function doneCounts(api: TestApi, id: string): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const data of await pageEvents(api, id)) {
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
    where split_part(key, ':', 1) = ${task} and split_part(key, ':', 2) = ${id}`.execute(api.pg.db);
  return rows;
}

/** Resolves once each of the `count` jobs of a task has failed at least `failures` times, last with `error`. */
export function jobsFailed(api: TestApi, id: string, task: string, count: number, failures: number, error: RegExp) {
  return waitUntil(
    `${count} ${task} jobs failed ${failures}× with ${error}`,
    async () => {
      const jobs = await jobsOf(api, id, task);
      return jobs.length === count && jobs.every((j) => j.failures >= failures && error.test(j.last_error ?? ""));
    },
    90_000,
  );
}

/** Every key of the bucket under `prefix`, all pages of the listing. */
export async function listKeys(s3: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const found: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    for (const object of page.Contents ?? []) if (object.Key) found.push(object.Key);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return found;
}

/** The files a finished page leaves in the bucket: face pages keep the face engine's background too. */
export function pageFiles(needsFace: boolean): Array<"background.png" | "print.jpg" | "web.jpg"> {
  return needsFace ? ["background.png", "print.jpg", "web.jpg"] : ["print.jpg", "web.jpg"];
}

/** The median of some numbers (0 for none). */
export function median(values: number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : Math.round((sorted[mid - 1]! + sorted[mid]!) / 2);
}
