import { getObjectBytes, keys, pageArt, type PageId, putObjectBytes } from "@faceapp/core";
import type { PersonalizationPage } from "@faceapp/sql";
import { drawLikeChild } from "../pipeline/likeness.ts";
import { artKeys, loadSubject } from "../pipeline/load.ts";
import { claimPage, failPage, type PageKey, publishProgress, storeBackground } from "../pipeline/pages.ts";
import { recordPageTime } from "../pipeline/page-times.ts";
import { defineTask, type TaskContext } from "../runtime/task.ts";
import type { GpuDeps } from "./deps.ts";

/** Face pages this process is drawing now: a page's measured time is shared among them. */
let inFlight = 0;

/**
 * Draws the child into one face page with the face engine, checks the drawing's likeness to the photo
 * (one redraw when unlike, docs/likeness.md) and stores the background with the check's outcome.
 */
export default defineTask<"personalize_page", GpuDeps>({
  name: "personalize_page",
  async run(key, ctx) {
    const { deps, signal, log } = ctx;
    const pageRow = await claimPage(deps.pg, key, "personalizing");
    if (!pageRow) {
      log.info("page no longer wanted");
      return;
    }
    inFlight += 1;
    const sharedBy = inFlight;
    const started = performance.now();
    let stored: boolean;
    try {
      const { image: background, ...likeness } = await drawPage(key, pageRow, ctx);
      signal.throwIfAborted();
      const backgroundKey = keys.page(
        key.personalizationId,
        key.stage,
        key.generation,
        key.page as PageId,
        "background.png",
      );
      await putObjectBytes(deps.s3, deps.s3Config.bucket, backgroundKey, background, "image/png");
      stored = await storeBackground(deps.pg, key, backgroundKey, likeness);
    } finally {
      inFlight -= 1;
    }
    if (!stored) return;
    // The queue's ETA rests on it; a page is not failed for a figure that could not be written.
    await recordPageTime(deps.pg, deps.faceEngine.name, (performance.now() - started) / sharedBy).catch((err) =>
      log.warn({ err }, "the page time was not recorded"),
    );
  },
  async onFinalFailure(key, reason, { deps }) {
    await failPage(deps.pg, deps.bus, key, reason);
  },
});

/** The page's illustration with the child's face drawn in, as PNG, and its likeness to the photo. */
async function drawPage(key: PageKey, pageRow: PersonalizationPage, { deps, signal, log }: TaskContext<GpuDeps>) {
  const { pg: db, s3, s3Config, bus } = deps;
  const page = key.page as PageId;
  await publishProgress(bus, key, 0, "drawing");
  const subject = await loadSubject(db, key.personalizationId);
  const analysis = subject?.personalization.analysis as { faceCropKey?: string; prompt?: string } | null;
  if (!subject || !analysis?.faceCropKey) throw new Error("the personalisation has no analysed photo");
  const art = pageArt(subject.book.manifest, page);
  const { illustration, mask } = artKeys(subject, page);
  if (!mask) throw new Error(`${page} has no face region`);
  const upload = await db.db
    .selectFrom("app.uploads")
    .select("object_key")
    .where("id", "=", subject.personalization.photo_upload_id)
    .executeTakeFirstOrThrow();
  const get = (k: string) => getObjectBytes(s3, s3Config.bucket, k);
  const [photo, faceCrop, illustrationBytes, maskBytes] = await Promise.all([
    get(upload.object_key),
    get(analysis.faceCropKey),
    get(illustration),
    get(mask),
  ]);
  let lastTick = 0;
  const draw = (seed: number) =>
    deps.faceEngine.personalize({
      photo,
      faceCrop,
      analysis: subject.personalization.analysis as Record<string, unknown>,
      illustration: illustrationBytes,
      mask: maskBytes,
      faceColours: art.face_colours,
      prompt: [analysis.prompt, art.prompt].filter(Boolean).join(", "),
      negativePrompt: art.negative_prompt ?? "",
      seed,
      signal,
      onProgress: (percent) => {
        // Ticks are published only; a few per second is plenty for a progress bar.
        const now = Date.now();
        if (now - lastTick < 250 && percent < 100) return;
        lastTick = now;
        publishProgress(bus, key, percent, "drawing").catch(() => {});
      },
    });
  return drawLikeChild({
    seed: Number(pageRow.seed),
    photo: subject.personalization.photo_descriptor,
    mask: maskBytes,
    meter: deps.likeness,
    draw,
    signal,
    log,
  });
}
