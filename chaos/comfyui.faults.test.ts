// ComfyUI down, down for good, hanging and restarted mid-prompt, through the whole pipeline: the api,
// a real gpu runner process driving the ComfyUI double (FACE_ENGINE=comfyui) and a render runner.
// Whatever happens, no page may be the book's illustration passed off as personalised.
import { once } from "node:events";
import { HeadObjectCommand } from "@aws-sdk/client-s3";
import { createS3Client, getObjectBytes, jobs, keys, type PageId } from "@faceapp/core";
import { redisUrl, serviceEnv, type Spawned, spawnRunner, long, record } from "@faceapp/testkit";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  bearer,
  body,
  signUp,
  useApi,
  book,
  createPersonalization,
  readEvents,
  readyPhoto,
  waitForStatus,
  doneCounts,
  generate,
  jobsFailed,
  pagesOf,
} from "@faceapp/testkit/api";
import { faceWorkflowParams } from "../runners/src/gpu/index.ts";
import { ComfyDouble, type ComfyDoubleOptions } from "../testkit/src/doubles/comfyui.ts";

const api = useApi();
const SLUG = "comfy-faults";
const FACE_PAGES = [1, 2];
/** COMFY_PROMPT_TIMEOUT_SECONDS of the gpu runner: its lowest allowed value. */
const PROMPT_TIMEOUT_S = 5;
/** The colour the double "draws" the child's face with, inside the page's mask. */
const FACE = { r: 255, g: 0, b: 255 };

/** The double's drawing: the illustration with the mask's region painted over, so a real result is told apart from the art. */
const drawFace: NonNullable<ComfyDoubleOptions["render"]> = async (graph, input) => {
  const art = input(String(graph[faceWorkflowParams.illustration.node]?.inputs.image));
  const mask = input(String(graph[faceWorkflowParams.mask.node]?.inputs.image));
  if (!art || !mask) throw new Error("the double lacks the page's art or mask");
  const { width, height } = await sharp(art).metadata();
  const alpha = await sharp(mask).resize(width, height).greyscale().raw().toBuffer();
  const face = await sharp({ create: { width, height, channels: 3, background: FACE } })
    .joinChannel(alpha, { raw: { width, height, channels: 1 } })
    .png()
    .toBuffer();
  return sharp(art)
    .composite([{ input: face }])
    .png()
    .toBuffer();
};

const comfy = new ComfyDouble({ render: drawFace, progressSteps: 2 });
const runners: Spawned[] = [];

beforeAll(async () => {
  await comfy.listen();
  const env = {
    ...serviceEnv(api.pg.url, api.s3Config, redisUrl),
    FACE_ENGINE: "comfyui",
    COMFY_BASE_URL: comfy.url,
    COMFY_PROMPT_TIMEOUT_SECONDS: String(PROMPT_TIMEOUT_S),
  };
  runners.push(...(await Promise.all([spawnRunner("gpu", env), spawnRunner("render", env)])));
  await book(api, { slug: SLUG, facePages: FACE_PAGES, previewPages: FACE_PAGES });
}, 180_000);

afterAll(async () => {
  await Promise.all(runners.map((r) => r.stop("SIGKILL")));
  await comfy.close();
});

/** A personalisation analysed by the gpu runner (ComfyUI plays no part in analysis). */
async function analysed() {
  const user = await signUp(api.app);
  const photo = await readyPhoto(api.app, user.token);
  const { id } = await body(await createPersonalization(api.app, user.token, SLUG, photo));
  const done = await waitForStatus(api.app, user.token, id, ["analyzed", "analysis_failed"], 90_000);
  expect(done.status).toBe("analyzed");
  return { id: id as string, token: user.token };
}

/** Mean absolute difference per channel inside the page's face mask, between an image and the book's art. */
async function differenceInMask(image: Buffer, page: number): Promise<number> {
  const s3 = api.bucket.client;
  const file = (name: string) => getObjectBytes(s3, api.s3Config.bucket, keys.bookFile(SLUG, `pages/${name}`));
  const [art, mask] = await Promise.all([file(`page_${page}.png`), file(`page_${page}_mask.png`)]);
  const { width, height } = await sharp(art).metadata();
  const raw = (b: Buffer, channels: 1 | 3) =>
    sharp(b)
      .resize(width, height, { fit: "fill" })
      .removeAlpha()
      .toColourspace(channels === 1 ? "b-w" : "srgb")
      .raw()
      .toBuffer();
  const [a, b, m] = await Promise.all([raw(art, 3), raw(image, 3), raw(mask, 1)]);
  let sum = 0;
  let n = 0;
  for (let px = 0; px < m.length; px++) {
    if (m[px]! < 128) continue;
    for (let c = 0; c < 3; c++) sum += Math.abs(a[px * 3 + c]! - b[px * 3 + c]!);
    n += 3;
  }
  return sum / n;
}

/**
 * The face pages' final state is honest: a done page's stored background and web image carry the
 * engine's drawing inside the mask (not the unchanged illustration); a page that is not done has no
 * background, no image, and no object under its background key.
 */
async function assertNoFakeBackgrounds(id: string): Promise<void> {
  const s3 = createS3Client(api.s3Config);
  for (const row of (await pagesOf(api, id)).filter((p) => p.needs_face)) {
    const n = Number(row.page.slice("page_".length));
    if (row.status === "done") {
      expect(row.background_key).not.toBeNull();
      const background = await getObjectBytes(s3, api.s3Config.bucket, row.background_key!);
      const web = await getObjectBytes(s3, api.s3Config.bucket, row.web_key!);
      expect(await differenceInMask(background, n), `${row.page} background vs the art`).toBeGreaterThan(60);
      expect(await differenceInMask(web, n), `${row.page} web image vs the art`).toBeGreaterThan(60);
    } else {
      expect(row.background_key, row.page).toBeNull();
      expect(row.web_key, row.page).toBeNull();
      const key = keys.page(id, row.stage, row.generation, row.page as PageId, "background.png");
      const head = await s3.send(new HeadObjectCommand({ Bucket: api.s3Config.bucket, Key: key })).then(
        () => "stored",
        (e: { name?: string }) => e.name,
      );
      expect(head, `${row.page} background object`).toBe("NotFound");
    }
  }
}

/** Every page of the preview done exactly once, the face pages after `minFaceTries` tries or more. */
async function assertPreviewDoneOnce(id: string, minFaceTries: number): Promise<number> {
  const pages = await pagesOf(api, id);
  expect(pages.map((p) => p.status)).toEqual(pages.map(() => "done"));
  expect(Object.values(await doneCounts(api, id))).toEqual(pages.map(() => 1));
  // A face page is claimed once per gpu try plus once to render.
  const faceTries = Math.min(...pages.filter((p) => p.needs_face).map((p) => p.attempt - 1));
  expect(faceTries).toBeGreaterThanOrEqual(minFaceTries);
  await assertNoFakeBackgrounds(id);
  return faceTries;
}

const faceJobs = FACE_PAGES.length;

describe("ComfyUI down when the pages start", () => {
  it("then back: the face pages retry with backoff and complete, each once", async () => {
    const p = await analysed();
    await comfy.stop();
    try {
      await generate(api, p);
      // Long mode: down across two failed tries of every face page (backoff e^1 + e^2 s).
      await jobsFailed(api, p.id, "personalize_page", faceJobs, long ? 2 : 1, /ComfyUI is not reachable/);
    } finally {
      await comfy.start();
    }
    const backAt = Date.now();
    const ready = await waitForStatus(api.app, p.token, p.id, ["preview_ready", "generation_failed"], 90_000);
    expect(ready.status, ready.failureReason).toBe("preview_ready");
    const tries = await assertPreviewDoneOnce(p.id, long ? 3 : 2);
    record("comfyui down then back", { facePages: faceJobs, minFaceTries: tries, recoveryMs: Date.now() - backAt });
  }, 150_000);

  it("for good: the pages fail after their attempts, with the reason on the page, the api and the event stream", async () => {
    const p = await analysed();
    await comfy.stop();
    const startedAt = Date.now();
    try {
      await generate(api, p);
      const failed = await waitForStatus(api.app, p.token, p.id, ["generation_failed", "preview_ready"], 120_000);
      const failedAfterMs = Date.now() - startedAt;
      expect(failed.status).toBe("generation_failed");
      expect(failed.failureReason).toMatch(/^page page_[12]: ComfyUI is not reachable \(ECONNREFUSED\)$/);
      const facePages = (failed.pages as Array<{ page: string; status: string; failureReason: string | null }>).filter(
        (page) => FACE_PAGES.map((n) => `page_${n}`).includes(page.page),
      );
      const failedPages = facePages.filter((page) => page.status === "failed");
      expect(failedPages.length).toBeGreaterThanOrEqual(1);
      for (const page of failedPages) expect(page.failureReason).toMatch(/ComfyUI is not reachable/);
      expect(facePages.every((page) => page.status === "failed" || page.status === "canceled")).toBe(true);
      // The page failed only after every attempt of its job.
      const rows = await pagesOf(api, p.id);
      const failedRow = rows.find((r) => r.status === "failed")!;
      expect(failedRow.attempt).toBe(jobs.personalize_page.maxAttempts);

      const stream = await api.app.request(`/v1/personalizations/${p.id}/events`, { headers: bearer(p.token) });
      const { events } = await readEvents(stream, (evs) =>
        evs.some((e) => e.event === "status" && e.data.status === "generation_failed"),
      );
      const pageFailed = events.find((e) => e.event === "page" && e.data.state === "failed");
      expect(pageFailed?.data).toMatchObject({ page: failedRow.page, reason: failedRow.failure_reason });
      expect(String(pageFailed?.data.reason)).toMatch(/ComfyUI is not reachable/);
      // A reason parents read: nothing of the server's internal address.
      for (const reason of [failed.failureReason, pageFailed?.data.reason]) {
        expect(reason).not.toContain(new URL(comfy.url).host);
      }
      await assertNoFakeBackgrounds(p.id);
      record("comfyui down for good", {
        attempts: failedRow.attempt,
        failedAfterMs,
        failedPages: failedPages.length,
      });
    } finally {
      await comfy.start();
    }
  }, 150_000);
});

describe("ComfyUI hanging (accepts the prompt, never finishes)", () => {
  it("has each prompt cut by the per-prompt timeout and cancelled in ComfyUI; the retry completes once it answers again", async () => {
    const p = await analysed();
    const before = new Set(comfy.records.keys());
    comfy.hang();
    try {
      await generate(api, p);
      await jobsFailed(api, p.id, "personalize_page", faceJobs, 1, /did not finish the page within 5 s/);
    } finally {
      comfy.hang(false);
    }
    const answersAt = Date.now();
    const ready = await waitForStatus(api.app, p.token, p.id, ["preview_ready", "generation_failed"], 90_000);
    expect(ready.status, ready.failureReason).toBe("preview_ready");
    const tries = await assertPreviewDoneOnce(p.id, 2);
    // The timed-out prompts were taken out of ComfyUI (deleted or interrupted), not left to run on.
    const prompts = [...comfy.records.values()].filter((r) => !before.has(r.promptId));
    const cut = prompts.filter((r) => r.outcome === "interrupted" || r.outcome === "deleted");
    expect(cut.length).toBeGreaterThanOrEqual(faceJobs);
    expect(prompts.filter((r) => r.outcome === "success")).toHaveLength(faceJobs);
    expect(comfy.queueRemaining).toBe(0);
    record("comfyui hanging, then answering", {
      cutPrompts: cut.length,
      minFaceTries: tries,
      recoveryMs: Date.now() - answersAt,
    });
  }, 150_000);

  it.runIf(long)(
    "for good: the pages fail with the timeout as their reason",
    async () => {
      const p = await analysed();
      comfy.hang();
      const startedAt = Date.now();
      try {
        await generate(api, p);
        const failed = await waitForStatus(api.app, p.token, p.id, ["generation_failed", "preview_ready"], 180_000);
        expect(failed.status).toBe("generation_failed");
        expect(failed.failureReason).toMatch(/did not finish the page within 5 s; the prompt was cancelled/);
        const failedRow = (await pagesOf(api, p.id)).find((r) => r.status === "failed")!;
        expect(failedRow.attempt).toBe(jobs.personalize_page.maxAttempts);
        await assertNoFakeBackgrounds(p.id);
        record("comfyui hanging for good", { attempts: failedRow.attempt, failedAfterMs: Date.now() - startedAt });
      } finally {
        comfy.hang(false);
      }
      expect(comfy.queueRemaining).toBe(0);
    },
    240_000,
  );
});

describe("ComfyUI restarted mid-prompt (its queue lost)", () => {
  it("has the lost prompts submitted again, and the pages complete once", async () => {
    const p = await analysed();
    const before = new Set(comfy.records.keys());
    comfy.slow(1_000);
    try {
      const started = once(comfy, "started");
      await generate(api, p);
      await started;
      await comfy.restart(long ? 3_000 : 500);
      const restartedAt = Date.now();
      const ready = await waitForStatus(api.app, p.token, p.id, ["preview_ready", "generation_failed"], 90_000);
      expect(ready.status, ready.failureReason).toBe("preview_ready");
      await assertPreviewDoneOnce(p.id, 1);
      const prompts = [...comfy.records.values()].filter((r) => !before.has(r.promptId));
      const lost = prompts.filter((r) => r.outcome === "lost");
      expect(lost.length).toBeGreaterThanOrEqual(1);
      expect(prompts.filter((r) => r.outcome === "success")).toHaveLength(faceJobs);
      record("comfyui restarted mid-prompt", { lostPrompts: lost.length, recoveryMs: Date.now() - restartedAt });
    } finally {
      comfy.slow(0);
    }
  }, 150_000);
});
