import { jobKey } from "@faceapp/core";
import type { Db } from "@faceapp/sql";
import { removeJob } from "./queue.ts";

/**
 * Skips a personalisation's photo analysis, for tests about what comes after it (no gpu runner):
 * its `analyze_photo` job dropped, the personalisation marked analysed.
 */
export async function skipAnalysis(db: Db, id: string): Promise<void> {
  await removeJob(db, jobKey("analyze_photo", { personalizationId: id, photoUploadId: "" }));
  await db.sql`update app.personalizations set status = 'analyzed', analysis = '{"ok":true}' where id = ${id}`;
}
