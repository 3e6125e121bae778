import type { Db } from "@faceapp/sql";

/**
 * Skips a personalisation's photo analysis, for tests about what comes after it (no gpu runner):
 * its `analyze_photo` job dropped, the personalisation marked analysed.
 */
export async function skipAnalysis(db: Db, id: string): Promise<void> {
  await db.sql`delete from graphile_worker._private_jobs where key = ${`analyze_photo:${id}`}`;
  await db.sql`update app.personalizations set status = 'analyzed', analysis = '{"ok":true}' where id = ${id}`;
}
