import { jobKey } from "@faceapp/core";
import type { Pg } from "@faceapp/sql";
import { removeJob } from "./queue.ts";

/**
 * Skips a personalisation's photo analysis, for tests about what comes after it (no gpu runner):
 * its `analyze_photo` job dropped, the personalisation marked analysed.
 */
export async function skipAnalysis(pg: Pg, id: string): Promise<void> {
  await removeJob(pg, jobKey("analyze_photo", { personalizationId: id, photoUploadId: "" }));
  await pg.sql`update app.personalizations set status = 'analyzed', analysis = '{"ok":true}' where id = ${id}`;
}
