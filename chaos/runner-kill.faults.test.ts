import { sql } from "kysely";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createS3Client, jobKey, keys, putObjectBytes } from "@faceapp/core";
import { long, record, redisUrl, removeJob, serviceEnv, type Spawned, spawnEntry, waitUntil } from "@faceapp/testkit";
import { type ComfyDouble, startComfyDouble } from "../testkit/src/doubles/comfyui.ts";
import {
  bearer,
  body,
  jsonInit,
  signUp,
  useApi,
  book,
  createPersonalization,
  readyPhoto,
  listKeys,
  median,
  pageEvents,
  pageFiles,
} from "@faceapp/testkit/api";
import { KillWatch } from "./kill-watch.ts";

// Issue #9, "runner killed": two render runners and one gpu runner (against the ComfyUI double) work
// through 200 preview pages (1,000 in long mode) while a chaos loop SIGKILLs a random runner 2–5 s
// after the last one it killed was replaced, and starts another of its kind. The final state must be as if nothing had happened: every
// page done once, written once, no job left behind.

const PAGES = long ? 1000 : 200;
/** Every block page is in the preview, plus the front cover: 25 pages a personalisation, 8 of them faces. */
const FACE_PAGES = [1, 4, 7, 10, 13, 16, 19, 22];
const PAGES_EACH = 25;
const COUNT = Math.ceil(PAGES / PAGES_EACH);
const SLUG = "runner-kill";

const api = useApi();
let comfy: ComfyDouble;
const all: Spawned[] = [];

type Kind = "gpu" | "render";
interface Live {
  kind: Kind;
  name: string;
  proc: Spawned;
  workerIds: string[];
}

const runnerEnv = (kind: Kind): Record<string, string> => ({
  ...serviceEnv(api.pg.url, api.s3Config, redisUrl),
  RUNNER_HEARTBEAT_SECONDS: "1",
  RUNNER_STALE_AFTER_SECONDS: "3",
  MALLOC_ARENA_MAX: "2",
  ...(kind === "gpu" ? { FACE_ENGINE: "comfyui", COMFY_BASE_URL: comfy.url } : {}),
});

let started = 0;
/** Spawn → taking jobs, of every runner, in ms. */
const startupMs: number[] = [];
/** A runner process, ready, with the graphile-worker ids it announced. */
async function startLive(kind: Kind): Promise<Live> {
  const name = `${kind}#${++started}`;
  const spawnedAt = Date.now();
  const proc = spawnEntry(`runners/src/${kind}-runner.ts`, runnerEnv(kind));
  all.push(proc);
  // A generous bound: starts share the machine with the runners at work and other test runs.
  const ready = (await proc
    // A gpu runner takes jobs only once its ComfyUI passes the workflow check: "runner ready" comes
    // first, without workers, and "ready: taking jobs" names them.
    .waitForLog(
      (l) =>
        (l.msg === "runner ready" || l.msg === "ready: taking jobs") && ((l.workers as unknown[]) ?? []).length > 0,
      120_000,
    )
    .catch(async (error) => {
      await proc.stop("SIGKILL");
      throw error;
    })) as { workers?: string[] };
  startupMs.push(Date.now() - spawnedAt);
  const workerIds = ready.workers ?? [];
  if (workerIds.length === 0) throw new Error(`${name} announced no worker ids`);
  return { kind, name, proc, workerIds };
}

beforeAll(async () => {
  comfy = await startComfyDouble({ promptMs: 150 });
});

afterAll(async () => {
  await Promise.all(all.map((p) => p.stop("SIGKILL")));
  await comfy?.close();
});

/** COUNT personalisations of one user, analysed (the analysis job dropped, a face crop stored). */
async function analysedPersonalizations(): Promise<{ token: string; ids: string[] }> {
  await book(api, {
    slug: SLUG,
    facePages: FACE_PAGES,
    previewPages: Array.from({ length: 24 }, (_, n) => n),
  });
  const user = await signUp(api.app);
  const photo = await readyPhoto(api.app, user.token);
  const s3 = createS3Client(api.s3Config);
  const face = await sharp({ create: { width: 96, height: 96, channels: 3, background: { r: 230, g: 180, b: 150 } } })
    .png()
    .toBuffer();
  const landmarks = [
    { x: 34, y: 40 },
    { x: 62, y: 40 },
    { x: 48, y: 54 },
    { x: 38, y: 68 },
    { x: 58, y: 68 },
  ];
  const ids: string[] = [];
  for (let i = 0; i < COUNT; i++) {
    const res = await createPersonalization(api.app, user.token, SLUG, photo);
    expect(res.status).toBe(202);
    const { id } = (await body(res)) as { id: string };
    const faceCropKey = keys.faceCrop(id, photo);
    await putObjectBytes(s3, api.s3Config.bucket, faceCropKey, face, "image/png");
    const analysis = { faceCropKey, prompt: "a smiling child", crop: { size: 96, landmarks } };
    await removeJob(api.pg, jobKey("analyze_photo", { personalizationId: id, photoUploadId: photo }));
    await api.pg.db
      .updateTable("app.personalizations")
      .set({ status: "analyzed", analysis })
      .where("id", "=", id)
      .execute();
    ids.push(id);
  }
  return { token: user.token, ids };
}

async function donePages(ids: string[]): Promise<number> {
  const { rows } = await sql<{ n: number }>`
    select count(*)::int as n from app.personalization_pages
    where personalization_id = any(${ids}::uuid[]) and status = 'done'`.execute(api.pg.db);
  return rows[0]?.n ?? 0;
}

async function statuses(ids: string[]): Promise<string[]> {
  const rows = await api.pg.db.selectFrom("app.personalizations").select("status").where("id", "in", ids).execute();
  return rows.map((r) => r.status);
}

describe("runner killed", () => {
  it(
    `every page of ${PAGES} is done exactly once while a runner is SIGKILLed 2–5 s after each replacement is up`,
    async () => {
      const { token, ids } = await analysedPersonalizations();
      const live: Live[] = await Promise.all([startLive("render"), startLive("render"), startLive("gpu")]);
      const watch = new KillWatch(api.pg.db);
      const t0 = Date.now();
      for (const id of ids) {
        const res = await api.app.request(
          `/v1/personalizations/${id}/generate`,
          jsonInit("POST", { childName: "Ada" }, bearer(token)),
        );
        expect(res.status).toBe(202);
      }

      // The chaos loop: 2–5 s after the fleet is whole, kill a random runner and start another of its
      // kind. The interval counts from the replacement's "ready": a start takes 2–3 s on an idle
      // machine and over 10 s on a loaded one, and counting from the kill would then measure how
      // many runners a loaded machine keeps down at once rather than how the product recovers.
      let chaos = true;
      const kills: Record<Kind, number> = { gpu: 0, render: 0 };
      const failedStarts: string[] = [];
      const restart = async (kind: Kind) => {
        for (let tries = 1; tries <= 3; tries++) {
          try {
            live.push(await startLive(kind));
            return;
          } catch (error) {
            failedStarts.push(`${kind}: ${(error as Error).message.slice(0, 500)}`);
          }
        }
      };
      const loop = (async () => {
        while (chaos) {
          await new Promise((r) => setTimeout(r, 2000 + Math.random() * 3000));
          if (!chaos || live.length === 0) continue;
          const victim = live.splice(Math.floor(Math.random() * live.length), 1)[0]!;
          await watch.kill(victim.workerIds, () => victim.proc.stop("SIGKILL"));
          kills[victim.kind]++;
          await restart(victim.kind);
        }
      })();
      const progress = setInterval(() => {
        donePages(ids).then(
          (done) =>
            console.log(
              `[runner-kill] ${Math.round((Date.now() - t0) / 1000)} s: ${done}/${ids.length * PAGES_EACH} pages, ` +
                `${live.length} runners ready, ${kills.gpu + kills.render} kills`,
            ),
          () => {},
        );
      }, 10_000);

      let finished = false;
      let runMs = 0;
      try {
        finished = await waitUntil(
          "every preview finished",
          async () => (await statuses(ids)).every((s) => s !== "preview_generating"),
          long ? 60 * 60_000 : 15 * 60_000,
          500,
        ).then(
          () => true,
          () => false,
        );
        runMs = Date.now() - t0;
      } finally {
        clearInterval(progress);
        chaos = false;
        await loop;
        // The last page's fan-in commits inside its task; its job row goes when the task returns.
        await waitUntil("no job left", async () => (await remainingJobs()).length === 0, 60_000, 250).catch(() => {});
        await watch.settle(finished ? 60_000 : 0);
      }
      if (failedStarts.length) console.error("[runner-kill] runners that did not start:", failedStarts);

      const final = await statuses(ids);
      if (!finished || final.some((s) => s !== "preview_ready")) console.error(await diagnose(ids));
      expect(final).toEqual(ids.map(() => "preview_ready"));
      expect(await remainingJobs()).toEqual([]);

      const s3 = createS3Client(api.s3Config);
      let pages = 0;
      let maxAttempt = 0;
      for (const id of ids) {
        const rows = await api.pg.db
          .selectFrom("app.personalization_pages")
          .select(["page", "stage", "status", "generation", "needs_face", "attempt", "failure_reason"])
          .where("personalization_id", "=", id)
          .orderBy("page")
          .execute();
        expect(rows).toHaveLength(PAGES_EACH);
        expect(rows.filter((r) => r.status !== "done")).toEqual([]);
        pages += rows.length;
        maxAttempt = Math.max(maxAttempt, ...rows.map((r) => r.attempt));

        const events = await pageEvents(api, id);
        const done = events.filter((d) => d.state === "done");
        expect(done.map((d) => d.page).sort()).toEqual(rows.map((r) => r.page).sort());
        expect(events.filter((d) => d.state === "failed")).toEqual([]);

        // One object per output of each page, under its generation's keys, and nothing else.
        const stored = await listKeys(s3, api.s3Config.bucket, `personalizations/${id}/preview/`);
        const expected = rows.flatMap((r) =>
          pageFiles(r.needs_face).map((file) => keys.page(id, "preview", r.generation, r.page as never, file)),
        );
        expect(stored.sort()).toEqual(expected.sort());
      }

      const times = watch.restartTimes();
      const figures = {
        pages,
        personalizations: ids.length,
        kills: kills.gpu + kills.render,
        gpuKills: kills.gpu,
        renderKills: kills.render,
        jobsInterrupted: times.length,
        worstKillToRestartMs: times.length ? Math.max(...times) : 0,
        medianKillToRestartMs: median(times),
        maxPageAttempt: maxAttempt,
        runnersStarted: startupMs.length,
        medianRunnerStartMs: median(startupMs),
        failedStarts: failedStarts.length,
        runSeconds: Math.round(runMs / 1000),
      };
      record("runner killed", figures);
      expect(pages).toBe(COUNT * PAGES_EACH);
      expect(figures.kills).toBeGreaterThan(0);
    },
    long ? 70 * 60_000 : 20 * 60_000,
  );
});

/** Jobs still in the queue: locked, waiting, or with their attempts spent. */
async function remainingJobs() {
  const { rows } = await sql<{
    task_identifier: string;
    key: string | null;
    locked_by: string | null;
    attempts: number;
    max_attempts: number;
    last_error: string | null;
  }>`select task_identifier, key, locked_by, attempts, max_attempts, last_error from graphile_worker.jobs`.execute(
    api.pg.db,
  );
  return rows;
}

/** Why a run went wrong: failed personalisations and pages, and the jobs' last errors. */
async function diagnose(ids: string[]): Promise<string> {
  const { rows: personalizations } = await sql`
    select id, status, failure_reason from app.personalizations where id = any(${ids}::uuid[])`.execute(api.pg.db);
  const { rows: pages } = await sql`
    select personalization_id, page, status, attempt, failure_reason from app.personalization_pages
    where status <> 'done' order by updated_at limit 20`.execute(api.pg.db);
  const warnings = all
    .flatMap((p) => p.logs)
    .filter((l) => Number(l.level) >= 40 && l.msg !== "unlocked the jobs of silent workers")
    .slice(-15)
    .map((l) => ({ msg: l.msg, task: l.task, err: (l.err as { message?: string } | undefined)?.message }));
  return JSON.stringify({ personalizations, pages, jobs: await remainingJobs(), warnings }, null, 1);
}
