import { getObjectBytes, insertEvent, keys, putObjectBytes, transition } from "@faceapp/core";
import { defineTask } from "../runtime/task.ts";
import type { GpuDeps } from "./deps.ts";

/** Checks the photo, finds the face, describes the child; refuses with a reason a parent can act on. */
export default defineTask<"analyze_photo", GpuDeps>({
  name: "analyze_photo",
  async run({ personalizationId, photoUploadId }, { deps, signal, log }) {
    const { pg: db, s3, s3Config, bus } = deps;
    const subject = await db.db
      .selectFrom("app.personalizations as p")
      .innerJoin("app.uploads as u", "u.id", "p.photo_upload_id")
      .select(["p.status", "p.photo_upload_id", "u.object_key"])
      .where("p.id", "=", personalizationId)
      .executeTakeFirst();
    // Replaced photo or canceled: this job is outdated.
    if (subject?.status !== "analyzing" || subject.photo_upload_id !== photoUploadId) {
      log.info("analysis no longer wanted");
      return;
    }
    const photo = await getObjectBytes(s3, s3Config.bucket, subject.object_key);
    const outcome = await deps.analyzer.analyze(photo, { signal });
    signal.throwIfAborted();

    let faceCropKey: string | null = null;
    let photoDescriptor: number[] | null = null;
    if (outcome.ok) {
      faceCropKey = keys.faceCrop(personalizationId, photoUploadId);
      await putObjectBytes(s3, s3Config.bucket, faceCropKey, outcome.faceCrop, "image/png");
      // What the drawn pages are measured against (docs/likeness.md): from the face crop, upright as the
      // engines get it. Without one (no face recognised, or the recogniser failed) pages go unmeasured.
      photoDescriptor = await deps.likeness.describe(outcome.faceCrop).catch((err) => {
        log.warn({ err }, "the photo's face descriptor could not be made; its pages go unmeasured");
        return null;
      });
      if (!photoDescriptor) log.warn("no face descriptor of the photo; its pages go unmeasured");
      signal.throwIfAborted();
    }
    const analysis = outcome.ok
      ? { ...outcome.analysis, ok: true, prompt: outcome.prompt, faceCropKey }
      : { ok: false, code: outcome.code, reason: outcome.message };
    const events = await db.db.transaction().execute(async (tx) => {
      // One conditional update: still analysing, and still this photo.
      const status = await transition(tx, personalizationId, outcome.ok ? "analysis_succeeded" : "analysis_failed", {
        photoUploadId,
        analysis,
        failureReason: outcome.ok ? null : outcome.message,
      });
      if (!status) return [];
      await tx
        .updateTable("app.personalizations")
        .set({ photo_descriptor: photoDescriptor })
        .where("id", "=", personalizationId)
        .execute();
      const { faceCropKey: _internal, ...visible } = analysis as Record<string, unknown>;
      return [await insertEvent(tx, personalizationId, "analysis", visible), status];
    });
    await bus.publish(personalizationId, events);
  },
  async onFinalFailure({ personalizationId, photoUploadId }, reason, { deps }) {
    const events = await deps.pg.db.transaction().execute(async (tx) => {
      const status = await transition(tx, personalizationId, "analysis_failed", {
        photoUploadId,
        failureReason: `the photo could not be analysed: ${reason}`,
      });
      if (!status) return [];
      return [
        await insertEvent(tx, personalizationId, "analysis", { ok: false, code: "analysis_error", reason }),
        status,
      ];
    });
    await deps.bus.publish(personalizationId, events);
  },
});
