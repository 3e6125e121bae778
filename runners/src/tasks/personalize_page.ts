import { getObjectBytes, keys, pageArt, type PageId, putObjectBytes } from "@faceapp/core";
import { artKeys, loadSubject } from "../pipeline/load.ts";
import { claimPage, failPage, publishProgress, storeBackground } from "../pipeline/pages.ts";
import { defineTask } from "../runtime/task.ts";
import type { GpuDeps } from "./deps.ts";

/** Draws the child into one face page with the face engine and stores the background. */
export default defineTask<"personalize_page", GpuDeps>({
  name: "personalize_page",
  async run(key, { deps, signal, log }) {
    const { db, s3, s3Config, bus } = deps;
    const page = key.page as PageId;
    const pageRow = await claimPage(db, key, "personalizing");
    if (!pageRow) {
      log.info("page no longer wanted");
      return;
    }
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
    const background = await deps.faceEngine.personalize({
      photo,
      faceCrop,
      analysis: subject.personalization.analysis as Record<string, unknown>,
      illustration: illustrationBytes,
      mask: maskBytes,
      faceColours: art.face_colours,
      prompt: [analysis.prompt, art.prompt].filter(Boolean).join(", "),
      negativePrompt: art.negative_prompt ?? "",
      seed: Number(pageRow.seed),
      signal,
      onProgress: (percent) => {
        // Ticks are published only; a few per second is plenty for a progress bar.
        const now = Date.now();
        if (now - lastTick < 250 && percent < 100) return;
        lastTick = now;
        publishProgress(bus, key, percent, "drawing").catch(() => {});
      },
    });
    signal.throwIfAborted();
    const backgroundKey = keys.page(key.personalizationId, key.stage, key.generation, page, "background.png");
    await putObjectBytes(s3, s3Config.bucket, backgroundKey, background, "image/png");
    await storeBackground(db, key, backgroundKey);
  },
  async onFinalFailure(key, reason, { deps }) {
    await failPage(deps.db, deps.bus, key, reason);
  },
});
