import { sql } from "kysely";
import {
  addJob,
  insertEvent,
  type JobPayload,
  movesTo,
  type ProgressBus,
  type ProgressEvent,
  removeJobsOf,
  transition,
} from "@faceapp/core";
import type { Pg, PersonalizationPage } from "@faceapp/sql";

// Page state for the tasks: every write is conditional on the page's generation and open status, so
// a retried, duplicated or outdated job (after regenerate or cancel) changes nothing.

export type PageKey = JobPayload<"render_page">;

const OPEN = ["pending", "personalizing", "rendering"] as const;
/** The status a stage's pages are made in (where the move that starts it leads), and the move a page that failed for good makes. */
const GENERATING = { preview: movesTo("generate"), full: movesTo("confirm") };
const FAILED = { preview: "preview_failed", full: "full_failed" } as const;

function pageWhere(key: PageKey) {
  return sql`personalization_id = ${key.personalizationId} and stage = ${key.stage} and page = ${key.page} and generation = ${key.generation}`;
}

/**
 * Takes a page for this attempt, or returns null when there is nothing to do: the page belongs to
 * another generation, is finished, is not at this step (a face page renders only once the face
 * engine stored its background), or its personalisation is no longer generating that stage.
 */
export async function claimPage(
  pg: Pg,
  key: PageKey,
  status: "personalizing" | "rendering",
): Promise<PersonalizationPage | null> {
  const step =
    status === "personalizing"
      ? sql`needs_face and status in ('pending', 'personalizing')`
      : sql`(status = 'rendering' or (not needs_face and status = 'pending'))`;
  const { rows } = await sql<PersonalizationPage>`
    update app.personalization_pages set status = ${status}, attempt = attempt + 1, updated_at = now()
    where ${pageWhere(key)} and ${step}
      and exists (select 1 from app.personalizations p where p.id = ${key.personalizationId}
                  and p.status = ${GENERATING[key.stage]})
    returning *`.execute(pg.db);
  return rows[0] ?? null;
}

/** Publishes events after their transaction committed. */
async function publish(bus: ProgressBus, personalizationId: string, events: (ProgressEvent | null)[]) {
  await bus.publish(
    personalizationId,
    events.filter((e): e is ProgressEvent => e !== null),
  );
}

/**
 * A page's step started, or a progress tick: published only, never stored. `step` says which work it
 * is (the face engine drawing, or the text being set), and every page event carries its generation,
 * so a client can keep a page's progress from going backwards and still see a redraw start over.
 */
export async function publishProgress(
  bus: ProgressBus,
  key: PageKey,
  percent: number,
  step: "drawing" | "words",
): Promise<void> {
  const state =
    percent <= 0 ? { state: "started" } : { state: "progress", percent: Math.min(100, Math.round(percent)) };
  await bus.publish(key.personalizationId, [
    { type: "page", data: { stage: key.stage, page: key.page, generation: key.generation, step, ...state } },
  ]);
}

/**
 * The face engine's result is stored with its likeness check (docs/likeness.md): the page moves on to
 * its render job, in the same transaction.
 */
export async function storeBackground(
  pg: Pg,
  key: PageKey,
  backgroundKey: string,
  likeness: { distance: number | null; redrawn: boolean; flagged: boolean },
): Promise<boolean> {
  return pg.db.transaction().execute(async (tx) => {
    const { rows } = await sql`
      update app.personalization_pages set background_key = ${backgroundKey}, status = 'rendering',
        likeness_distance = ${likeness.distance}, likeness_redrawn = ${likeness.redrawn},
        likeness_flagged = ${likeness.flagged}, updated_at = now()
      where ${pageWhere(key)} and status = 'personalizing' returning page`.execute(tx);
    if (rows.length === 0) return false;
    await addJob(tx, "render_page", key);
    return true;
  });
}

/**
 * A page is done. When it was the last open page of its stage, one conditional update moves the stage
 * on: the preview becomes ready; the full stage queues the print files.
 */
export async function completePage(
  pg: Pg,
  bus: ProgressBus,
  key: PageKey,
  result: { printKey: string; webKey: string },
): Promise<boolean> {
  const events = await pg.db.transaction().execute(async (tx) => {
    // One statement takes the personalisation's row lock (serialising the pages of one personalisation
    // finishing at once, so exactly one sees "last page"), marks the page done and appends its event.
    // The lock is taken before the page row is read for the update; the page row itself is re-checked
    // by the UPDATE against its latest committed version (a cancel that got there first wins).
    const data = {
      stage: key.stage,
      page: key.page,
      generation: key.generation,
      state: "done",
      webKey: result.webKey,
    };
    // The event says whether the page was flagged by the likeness check (docs/likeness.md).
    const { rows } = await sql<{ id: string; data: Record<string, unknown> }>`
      with locked as (
        select id from app.personalizations where id = ${key.personalizationId} for update
      ), done as (
        update app.personalization_pages
        set status = 'done', print_key = ${result.printKey}, web_key = ${result.webKey}, updated_at = now()
        where ${pageWhere(key)} and status = 'rendering' and exists (select 1 from locked)
        returning page, likeness_flagged
      )
      insert into app.events (personalization_id, type, data)
      select ${key.personalizationId}, 'page', ${data}::jsonb || jsonb_build_object('likenessFlagged', likeness_flagged)
      from done
      returning id, data`.execute(tx);
    if (rows.length === 0) return null;
    const done: ProgressEvent = { id: String(rows[0]?.id), type: "page", data: rows[0]!.data };
    // A statement of its own: its snapshot is taken after the lock above was granted, so it sees every
    // page that an earlier holder of the lock marked done.
    const { rows: open } = await sql`
      select 1 from app.personalization_pages
      where personalization_id = ${key.personalizationId} and stage = ${key.stage} and status <> 'done' limit 1`.execute(
      tx,
    );
    if (open.length > 0) return [done];
    if (key.stage === "preview") {
      return [done, await transition(tx, key.personalizationId, "preview_finished")];
    }
    await addJob(tx, "assemble_print", { personalizationId: key.personalizationId });
    return [done];
  });
  if (!events) return false;
  await publish(bus, key.personalizationId, events);
  return true;
}

/** A page failed for good: the stage fails with the reason, and its other queued work is removed. */
export async function failPage(pg: Pg, bus: ProgressBus, key: PageKey, reason: string): Promise<void> {
  const events = await pg.db.transaction().execute(async (tx) => {
    await sql`select 1 from app.personalizations where id = ${key.personalizationId} for update`.execute(tx);
    const { rows } = await sql`
      update app.personalization_pages set status = 'failed', failure_reason = ${reason}, updated_at = now()
      where ${pageWhere(key)} and status = any(${[...OPEN]}::text[]) returning page`.execute(tx);
    if (rows.length === 0) return [];
    const failed = await insertEvent(tx, key.personalizationId, "page", {
      stage: key.stage,
      page: key.page,
      generation: key.generation,
      state: "failed",
      reason,
    });
    const status = await transition(tx, key.personalizationId, FAILED[key.stage], {
      failureReason: `page ${key.page}: ${reason}`,
    });
    if (!status) return [failed];
    await removeJobsOf(tx, key.personalizationId);
    // The stage's other pages stop too: nothing more is written for a failed stage.
    await sql`
      update app.personalization_pages set status = 'canceled', updated_at = now()
      where personalization_id = ${key.personalizationId} and stage = ${key.stage}
        and status = any(${[...OPEN]}::text[])`.execute(tx);
    const error = await insertEvent(tx, key.personalizationId, "error", {
      message: `page ${key.page} could not be made: ${reason}`,
    });
    return [failed, status, error];
  });
  await publish(bus, key.personalizationId, events);
}
