import { sql } from "kysely";
import postgres from "postgres";
import { afterEach, describe, expect, it } from "vitest";
import { redisUrl, serviceEnv, spawnRunner, type Spawned } from "@faceapp/testkit";
import {
  analysedRenderOnly,
  generate,
  pageEvents,
  bearer,
  body,
  useApi,
  readEvents,
  waitForStatus,
} from "@faceapp/testkit/api";

// Runners dying and draining, and cancel, with real runner processes. The test holds a row lock on
// the personalisation so that a runner is provably in the middle of a page when it is signalled.
const api = useApi();
const spawned: Spawned[] = [];
const runnerEnv = (extra: Record<string, string> = {}) => ({
  ...serviceEnv(api.pg.url, api.s3Config, redisUrl),
  RUNNER_HEARTBEAT_SECONDS: "1",
  RUNNER_STALE_AFTER_SECONDS: "3",
  ...extra,
});
async function runner(extra: Record<string, string> = {}) {
  const r = await spawnRunner("render", runnerEnv(extra));
  spawned.push(r);
  return r;
}

afterEach(async () => {
  await Promise.all(spawned.splice(0).map((r) => r.stop("SIGKILL")));
});

/** A personalisation whose preview is queued (render pages only), with no runner yet. */
async function queuedPreview(previewPages: number[]) {
  const p = await analysedRenderOnly(api, previewPages);
  await generate(api, p);
  return p;
}

/** Holds the personalisation's row lock until released: finishing pages wait on it. */
async function holdRowLock(id: string) {
  const conn = postgres(api.pg.url, { max: 1, onnotice: () => {} });
  const reserved = await conn.reserve();
  await reserved`begin`;
  await reserved`select 1 from app.personalizations where id = ${id} for update`;
  return {
    release: async () => {
      await reserved`rollback`.catch(() => {});
      reserved.release();
      await conn.end();
    },
  };
}

async function waitUntil(probe: () => Promise<boolean>, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Runner sessions blocked on the test's lock: each one is a page in progress. */
async function blockedRunnerSessions(): Promise<number> {
  const { rows } = await sql<{ n: number }>`
    select count(*)::int as n from pg_stat_activity
    where datname = current_database() and application_name = 'faceapp-render-runner' and wait_event_type = 'Lock'`.execute(
    api.pg.db,
  );
  return rows[0]?.n ?? 0;
}

describe("a runner killed with SIGKILL in the middle of a page", () => {
  it("has its jobs finished by another runner once its heartbeat is stale, each page written once", async () => {
    const { id, token } = await queuedPreview([1]);
    const lock = await holdRowLock(id);
    const victim = await runner();
    await waitUntil(async () => (await blockedRunnerSessions()) >= 1);
    const killedAt = Date.now();
    expect(await victim.stop("SIGKILL")).toBeNull();
    await lock.release();

    await runner();
    const ready = await waitForStatus(api.app, token, id, ["preview_ready", "generation_failed"], 60_000);
    expect(ready.status).toBe("preview_ready");
    console.log(`[faults] kill → preview ready in ${Date.now() - killedAt} ms (stale bound 3 s)`);
    const done = (await pageEvents(api, id)).filter((d) => d.state === "done");
    expect(done.map((d) => d.page).sort()).toEqual(["cover_front", "page_1"]);
    const pages = await api.pg.db
      .selectFrom("app.personalization_pages")
      .select(["page", "status", "attempt"])
      .where("personalization_id", "=", id)
      .execute();
    expect(pages.every((p) => p.status === "done")).toBe(true);
    // The killed page was taken again (more than once if a loaded machine let a heartbeat lapse too);
    // whatever the attempts, it was done once.
    expect(Math.max(...pages.map((p) => p.attempt))).toBeGreaterThanOrEqual(2);
  }, 90_000);
});

describe("SIGTERM", () => {
  it("drains: the running page finishes, no new job is taken, the runner exits 0", async () => {
    const { id } = await queuedPreview([1, 2]);
    const lock = await holdRowLock(id);
    const draining = await runner({ RUNNER_CONCURRENCY: "1", RUNNER_DRAIN_SECONDS: "20" });
    await waitUntil(async () => (await blockedRunnerSessions()) === 1);
    draining.child.kill("SIGTERM");
    await draining.waitForLog((line) => line.msg === "draining");
    await new Promise((r) => setTimeout(r, 500));
    await lock.release();
    expect(await draining.exited).toBe(0);

    const pages = await api.pg.db
      .selectFrom("app.personalization_pages")
      .select(["page", "status"])
      .where("personalization_id", "=", id)
      .execute();
    expect(pages.filter((p) => p.status === "done")).toHaveLength(1);
    expect(pages.filter((p) => p.status === "pending")).toHaveLength(2);
    const { rows } = await sql<{ locked_by: string | null; attempts: number }>`
      select key, locked_by, attempts, last_error from graphile_worker.jobs where split_part(key, ':', 2) = ${id}`.execute(
      api.pg.db,
    );
    expect(rows).toHaveLength(2);
    expect(rows.every((j) => j.locked_by === null && j.attempts === 0)).toBe(true);
  }, 60_000);
});

describe("cancel during the preview stage", () => {
  it("stops further pages: queued jobs removed, open pages canceled, nothing written after", async () => {
    const { id, token } = await queuedPreview([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]);
    const stream = await api.app.request(`/v1/personalizations/${id}/events`, { headers: bearer(token) });
    await runner({ RUNNER_CONCURRENCY: "1" });
    await readEvents(stream, (evs) => evs.some((e) => e.event === "page" && e.data.state === "done"));
    const res = await api.app.request(`/v1/personalizations/${id}/cancel`, { method: "POST", headers: bearer(token) });
    expect(res.status).toBe(202);
    expect((await body(res)).status).toBe("canceled");
    await new Promise((r) => setTimeout(r, 2000));

    const events = await api.pg.db
      .selectFrom("app.events")
      .select(["id", "type", "data"])
      .where("personalization_id", "=", id)
      .orderBy("id")
      .execute();
    const canceledAt = events.findIndex(
      (e) => e.type === "status" && (e.data as { status: string }).status === "canceled",
    );
    expect(canceledAt).toBeGreaterThan(0);
    expect(events.slice(canceledAt + 1)).toEqual([]);
    const pages = await api.pg.db
      .selectFrom("app.personalization_pages")
      .select(["status"])
      .where("personalization_id", "=", id)
      .execute();
    const done = pages.filter((p) => p.status === "done").length;
    expect(done).toBeGreaterThan(0);
    expect(done).toBeLessThan(17);
    expect(pages.filter((p) => p.status !== "done").every((p) => p.status === "canceled")).toBe(true);
    const { rows } = await sql<{
      n: number;
    }>`select count(*)::int as n from graphile_worker.jobs where split_part(key, ':', 2) = ${id} and locked_by is null and attempts < max_attempts`.execute(
      api.pg.db,
    );
    expect(rows[0]?.n).toBe(0);
  }, 60_000);
});
