// PostgreSQL crashing right after the api acknowledged job creations: every personalisation it
// acknowledged is there, with its analysis job, when PostgreSQL has recovered. An acknowledgement must
// mean the commit is on disk: a commit that does not wait for its WAL flush (synchronous_commit off,
// tried for issue 21, bench/README.md) lost 28 and 32 of 36 here. No runner takes the jobs: their
// commits would flush the WAL and hide a creation that was not flushed.
import { createPg } from "@faceapp/sql";
import { seedBook, serviceEnv, useTestBucket } from "@faceapp/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type ApiProcess,
  call,
  createPersonalization,
  dumpLogs,
  type PrivatePostgres,
  readyPhoto,
  signUp,
  startApi,
  startPrivatePostgres,
  waitUntil,
} from "./lib.ts";

const SLUG = "pg-crash-book";
/** Crashes, each right after a burst of creations. */
const CRASHES = 3;
/** Concurrent creations in a burst. */
const BURST = 12;

const bucket = useTestBucket();
let privatePostgres: PrivatePostgres;
let api: ApiProcess;

beforeAll(async () => {
  privatePostgres = await startPrivatePostgres();
  const pg = createPg(privatePostgres.url, { max: 2 });
  try {
    await seedBook(pg, bucket, { slug: SLUG, facePages: [], previewPages: [1] });
  } finally {
    await pg.close();
  }
  api = await startApi(serviceEnv(privatePostgres.url, bucket));
}, 180_000);

afterAll(async () => {
  await api?.stop("SIGKILL");
  await privatePostgres?.destroy();
});

describe("PostgreSQL crashing right after creations were acknowledged", () => {
  it("keeps every personalisation the api acknowledged, with its analysis job", async () => {
    const token = await signUp(api.base);
    const photo = await readyPhoto(api.base, token);
    const acknowledged: string[] = [];
    for (let crash = 0; crash < CRASHES; crash++) {
      const answers = await Promise.all(
        Array.from({ length: BURST }, () => createPersonalization(api.base, token, SLUG, photo)),
      );
      for (const res of answers) expect(res.status, JSON.stringify(res.body)).toBe(202);
      acknowledged.push(...answers.map((res) => res.body.id as string));
      await privatePostgres.crash();
      await privatePostgres.start();
      // The api finds PostgreSQL again by itself.
      await waitUntil(
        "the api ready again",
        async () => (await call(api.base, "GET", "/readyz")).status === 200,
        30_000,
        100,
      ).catch((error) => {
        dumpLogs([api]);
        throw error;
      });
    }

    const pg = createPg(privatePostgres.url, { max: 2 });
    try {
      const rows = await pg.db.selectFrom("app.personalizations").select("id").execute();
      expect(rows.map((r) => r.id).sort()).toEqual([...acknowledged].sort());
      const jobs = await pg.sql<{ id: string }[]>`
        select payload->>'personalizationId' as id from graphile_worker._private_jobs`;
      expect(jobs.map((j) => j.id).sort()).toEqual([...acknowledged].sort());
    } finally {
      await pg.close();
    }
    // And the parent sees each of them.
    for (const id of acknowledged) {
      expect((await call(api.base, "GET", `/v1/personalizations/${id}`, { token })).status).toBe(200);
    }
  }, 300_000);
});
