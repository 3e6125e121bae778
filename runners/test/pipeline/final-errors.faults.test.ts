// Errors that say retrying cannot help end their job at once: a real render_page job whose text cannot
// fit its box, on a real render runner, is tried once and its page fails with the reason.
import { redisUrl, serviceEnv, skipAnalysis, spawnRunner, type Spawned, record } from "@faceapp/testkit";
import { sql } from "kysely";
import { afterAll, beforeAll, expect, it } from "vitest";
import {
  bearer,
  body,
  jsonInit,
  signUp,
  useApi,
  book,
  createPersonalization,
  readyPhoto,
  waitForStatus,
} from "@faceapp/testkit/api";

const api = useApi();
let runner: Spawned;

beforeAll(async () => {
  runner = await spawnRunner("render", serviceEnv(api.pg.url, api.s3Config, redisUrl));
}, 120_000);
afterAll(async () => {
  await runner?.stop();
});

it("fails a page whose text cannot fit after one attempt, with the reason", async () => {
  // One word of 2,000 letters in a box a tenth of the page wide: no font size down to 1 px fits it.
  await book(api, { slug: "too-much-text", facePages: [], previewPages: [1], text: "W".repeat(2000), boxWidth: 0.1 });
  const user = await signUp(api.app);
  const photo = await readyPhoto(api.app, user.token);
  const { id } = await body(await createPersonalization(api.app, user.token, "too-much-text", photo));
  await skipAnalysis(api.pg, id);
  const generate = await api.app.request(
    `/v1/personalizations/${id}/generate`,
    jsonInit("POST", { childName: "Ada" }, bearer(user.token)),
  );
  expect(generate.status).toBe(202);
  const started = Date.now();
  const failed = await waitForStatus(api.app, user.token, id, ["generation_failed", "preview_ready"]);
  expect(failed.status).toBe("generation_failed");
  expect(failed.failureReason).toBe("page page_1: text layer 0 does not fit its box");
  const { rows } = await sql<{ status: string; attempt: number; failure_reason: string | null }>`
    select status, attempt, failure_reason from app.personalization_pages
    where personalization_id = ${id} and page = 'page_1'`.execute(api.pg.db);
  // One claim of the page: not the four attempts graphile-worker would give a retryable error.
  expect(rows).toEqual([{ status: "failed", attempt: 1, failure_reason: "text layer 0 does not fit its box" }]);
  record(
    "final error: text that cannot fit",
    { attempts: rows[0]!.attempt, failedAfterMs: Date.now() - started },
    "Defences",
  );
}, 180_000);
