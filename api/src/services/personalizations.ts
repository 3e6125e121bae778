// Personalisations: each route's state change and the jobs it needs commit in one transaction.
import { createHash, randomInt, randomUUID } from "node:crypto";
import {
  AppError,
  addJob,
  initialStatus,
  jobArguments,
  Manifest,
  movesFrom,
  movesTo,
  type NameForms,
  type PageId,
  type PersonalizationAction,
  pageArt,
  type ProgressEvent,
  removeJobsOf,
  stagePages,
  transition,
} from "@faceapp/core";
import type { ChildGender, Database, Personalization } from "@faceapp/sql";
import { type Kysely, sql, type Transaction } from "kysely";
import * as v from "valibot";
import type { Bucket } from "../deps.ts";
import { assertDrawable } from "../glyphs/drawable.ts";
import { sessionEnded } from "./accounts.ts";
import { resolveName } from "./name-forms.ts";

/** How many times a preview may be made again with a new seed. */
export const MAX_REGENERATIONS = 3;

type Tx = Transaction<Database>;

/** Events to publish once their transaction has committed. */
export interface Changed<T> {
  value: T;
  events: ProgressEvent[];
}

const compact = (events: (ProgressEvent | null)[]) => events.filter((e): e is ProgressEvent => e !== null);

/** A row of the caller's, locked for the transaction; 404 for anyone else's (or nobody's) id. */
async function lockOwned(tx: Tx, ownerId: string, id: string): Promise<Personalization> {
  const row = await tx
    .selectFrom("app.personalizations")
    .selectAll()
    .where("id", "=", id)
    .where("owner_id", "=", ownerId)
    .forUpdate()
    .executeTakeFirst();
  if (!row) throw new AppError("not_found", "Personalisation not found");
  return row;
}

/**
 * One state change of the caller's personalisation: in a transaction, with the row locked, allowed
 * only from the statuses the machine allows `action` from (409 invalid_state otherwise; `doing` names
 * the action in the message).
 */
async function change<T>(
  db: Kysely<Database>,
  ownerId: string,
  id: string,
  action: Exclude<PersonalizationAction, "create">,
  doing: string,
  apply: (tx: Tx, row: Personalization) => Promise<Changed<T>>,
): Promise<Changed<T>> {
  return db.transaction().execute(async (tx) => {
    const row = await lockOwned(tx, ownerId, id);
    if (!movesFrom(action).includes(row.status)) throw invalidState(row, doing);
    return apply(tx, row);
  });
}

function invalidState(row: Personalization, action: string): AppError {
  return new AppError(
    "invalid_state",
    `Cannot ${action} while the personalisation is ${row.status.replace(/_/g, " ")}`,
    {
      status: row.status,
    },
  );
}

async function readyPhoto(tx: Tx | Kysely<Database>, ownerId: string, uploadId: string): Promise<void> {
  const upload = await tx
    .selectFrom("app.uploads")
    .select("status")
    .where("id", "=", uploadId)
    .where("owner_id", "=", ownerId)
    .executeTakeFirst();
  if (!upload) throw new AppError("not_found", "Upload not found");
  if (upload.status !== "ready") {
    throw new AppError("invalid_state", "The photo has not been verified: complete the upload first", {
      status: upload.status,
    });
  }
}

/** Opens a new generation: jobs of older ones find their writes refused. */
async function nextGeneration(tx: Tx, id: string): Promise<number> {
  const { generation } = await tx
    .updateTable("app.personalizations")
    .set((eb) => ({ generation: eb("generation", "+", 1) }))
    .where("id", "=", id)
    .returning("generation")
    .executeTakeFirstOrThrow();
  return generation;
}

/** A 31-bit seed per page, derived from the personalisation's seed, its generation and the page. */
function pageSeed(seed: string, generation: number, page: PageId): number {
  const digest = createHash("sha256").update(`${seed}:${generation}:${page}`).digest();
  return digest.readUInt32BE(0) & 0x7fffffff;
}

/**
 * Fans a stage out in a new generation: one row per page (reset when it existed), and one job per
 * page — face pages to the gpu runner first, the others straight to the render runner.
 */
async function startStage(tx: Tx, row: Personalization, stage: "preview" | "full"): Promise<void> {
  const generation = await nextGeneration(tx, row.id);
  const book = await tx
    .selectFrom("app.books")
    .select("manifest")
    .where("id", "=", row.book_id)
    .executeTakeFirstOrThrow();
  const manifest = v.parse(Manifest, book.manifest);
  const pages = stagePages(manifest, stage);
  const rows = pages.map((page) => ({
    personalization_id: row.id,
    stage,
    page,
    generation,
    needs_face: pageArt(manifest, page).needs_face_swap,
    seed: pageSeed(row.seed, generation, page),
  }));
  await tx
    .insertInto("app.personalization_pages")
    .values(rows)
    .onConflict((oc) =>
      oc.columns(["personalization_id", "stage", "page"]).doUpdateSet((eb) => ({
        generation: eb.ref("excluded.generation"),
        seed: eb.ref("excluded.seed"),
        status: "pending",
        attempt: 0,
        background_key: null,
        print_key: null,
        web_key: null,
        comfy_prompt_id: null,
        failure_reason: null,
        // The likeness check is of the drawing, made anew (docs/likeness.md).
        likeness_distance: null,
        likeness_redrawn: false,
        likeness_flagged: false,
        updated_at: sql`now()`,
      })),
    )
    .execute();
  for (const page of rows) {
    const payload = { personalizationId: row.id, stage, page: page.page, generation };
    await addJob(tx, page.needs_face ? "personalize_page" : "render_page", payload);
  }
}

export interface CreateInput {
  bookSlug: string;
  photoUploadId: string;
}

/**
 * Starts a personalisation and queues its photo's analysis. With an idempotency key, the same key and
 * body give back the same personalisation; the same key with another body is a conflict.
 *
 * One statement, so one round trip and its own transaction: it checks the user's session (requireAuth's
 * foldedSession), reads the book and the photo, and only when all three are right inserts the row,
 * adds the `analyze_photo` job (its payload validated first; the id is made here so the payload is
 * whole before the statement) and the status event. It was seven round trips (begin, four statements,
 * the event, commit) plus the session's read: most of the route's time under load (bench:api). The
 * statement is the function app.create_personalization (sql/migrations), so that its plans are kept.
 * `sessionChecked` says whether the statement ran and found the session live.
 */
export async function createPersonalization(
  db: Kysely<Database>,
  user: { id: string; sessionId: string },
  input: CreateInput,
  idempotencyKey?: string,
): Promise<
  Changed<Personalization> & { created: boolean; book?: { slug: string; title: string }; sessionChecked: boolean }
> {
  const ownerId = user.id;
  const requestHash = idempotencyKey
    ? createHash("sha256")
        .update(JSON.stringify([input.bookSlug, input.photoUploadId]))
        .digest("hex")
    : null;
  const replay = async (sessionChecked: boolean) => {
    if (!idempotencyKey) return null;
    const existing = await db
      .selectFrom("app.personalizations")
      .selectAll()
      .where("owner_id", "=", ownerId)
      .where("idempotency_key", "=", idempotencyKey)
      .executeTakeFirst();
    if (!existing) return null;
    if (existing.request_hash !== requestHash) {
      throw new AppError("conflict", "This Idempotency-Key was already used with a different request");
    }
    return { value: existing, events: [], created: false, sessionChecked };
  };
  const earlier = await replay(false);
  if (earlier) return earlier;

  const id = randomUUID();
  const status = { status: initialStatus };
  const job = jobArguments("analyze_photo", { personalizationId: id, photoUploadId: input.photoUploadId });
  // As a function, the statement and the foreign-key checks under it keep their plans (index plans)
  // instead of being planned on every request. `created` is null when nothing was inserted.
  const { rows } = await sql<
    Partial<Personalization> & {
      live: boolean;
      book_slug: string | null;
      book_title: string | null;
      photo_status: string | null;
      jobs: number;
      event_id: string | null;
    }
  >`
    select r.live, r.book_slug, r.book_title, r.photo_status, r.jobs, r.event_id, (r.created).*
    from app.create_personalization(
      ${user.sessionId}::uuid, ${ownerId}::uuid, ${new Date()}::timestamptz,
      ${input.bookSlug}::text, ${input.photoUploadId}::uuid,
      ${id}::uuid, ${status.status}::text, ${randomInt(2 ** 47)}::bigint, ${idempotencyKey ?? null}::text,
      ${requestHash}::text,
      ${job.identifier}::text, ${job.payload}::json, ${job.maxAttempts}::int, ${job.key}::text
    ) as r`.execute(db);
  const row = rows[0]!;
  if (!row.live) throw sessionEnded();
  if (row.book_slug === null || row.book_title === null) throw new AppError("not_found", "Book not found");
  if (row.photo_status === null) throw new AppError("not_found", "Upload not found");
  if (row.photo_status !== "ready") {
    throw new AppError("invalid_state", "The photo has not been verified: complete the upload first", {
      status: row.photo_status,
    });
  }
  if (row.id === null || row.id === undefined) {
    // a concurrent request with the same key won
    return (await replay(true)) ?? Promise.reject(new AppError("conflict", "Concurrent request"));
  }
  const { live: _, book_slug, book_title, photo_status: __, jobs, event_id, ...created } = row;
  if (jobs !== 1 || event_id === null) throw new Error("the analysis job or the status event was not added");
  return {
    value: created as Personalization,
    events: [{ id: String(event_id), type: "status", data: status }],
    created: true,
    book: { slug: book_slug, title: book_title },
    sessionChecked: true,
  };
}

export interface GenerateInput {
  childName: string;
  childAge?: number | undefined;
  childGender?: ChildGender | undefined;
  /** The parent's corrections of the name's forms. */
  childNameForms?: NameForms | undefined;
}

/**
 * The child's name (and age, gender) given: the preview stage starts. First, without a lock, the name
 * is resolved into the forms the book's language needs and every character of them checked against
 * the book's fonts: a name the book cannot print is refused before any page work.
 */
export async function generatePreview(
  db: Kysely<Database>,
  bucket: Bucket,
  ownerId: string,
  id: string,
  input: GenerateInput,
): Promise<Changed<Personalization>> {
  const book = await db
    .selectFrom("app.personalizations as p")
    .innerJoin("app.books as b", "b.id", "p.book_id")
    .select("b.manifest")
    .where("p.id", "=", id)
    .where("p.owner_id", "=", ownerId)
    .executeTakeFirst();
  if (!book) throw new AppError("not_found", "Personalisation not found");
  const manifest = v.parse(Manifest, book.manifest);
  const name = await resolveName(manifest, input);
  await assertDrawable(bucket, manifest, [input.childName, ...Object.values(name.forms)]);
  return change(db, ownerId, id, "generate", "generate the preview", async (tx) => {
    const updated = await tx
      .updateTable("app.personalizations")
      .set({
        child_name: input.childName,
        child_age: input.childAge ?? null,
        child_gender: name.gender,
        child_name_forms: name.forms,
        child_name_overrides: name.overrides,
      })
      .where("id", "=", id)
      .returningAll()
      .executeTakeFirstOrThrow();
    const event = await transition(tx, id, "generate");
    await startStage(tx, updated, "preview");
    return { value: { ...updated, status: movesTo("generate") }, events: compact([event]) };
  });
}

/** The preview again, with new seeds: at most MAX_REGENERATIONS times. */
export async function regeneratePreview(
  db: Kysely<Database>,
  ownerId: string,
  id: string,
): Promise<Changed<Personalization>> {
  return change(db, ownerId, id, "regenerate", "regenerate", async (tx, row) => {
    if (row.regenerate_count >= MAX_REGENERATIONS) {
      throw new AppError("invalid_state", `The preview can be regenerated at most ${MAX_REGENERATIONS} times`, {
        status: row.status,
        regenerationsLeft: 0,
      });
    }
    await removeJobsOf(tx, id);
    const updated = await tx
      .updateTable("app.personalizations")
      .set({ regenerate_count: row.regenerate_count + 1, seed: randomInt(2 ** 47) })
      .where("id", "=", id)
      .returningAll()
      .executeTakeFirstOrThrow();
    const event = await transition(tx, id, "regenerate", {
      data: { regenerationsLeft: MAX_REGENERATIONS - updated.regenerate_count },
    });
    await startStage(tx, updated, "preview");
    return { value: { ...updated, status: movesTo("regenerate") }, events: compact([event]) };
  });
}

/** Another photo: analysis runs again; the preview is made anew after it. */
export async function replacePhoto(
  db: Kysely<Database>,
  ownerId: string,
  id: string,
  photoUploadId: string,
): Promise<Changed<Personalization>> {
  return change(db, ownerId, id, "replace_photo", "replace the photo", async (tx) => {
    await readyPhoto(tx, ownerId, photoUploadId);
    await removeJobsOf(tx, id);
    // The pages made from the old photo go; jobs still running for them write nothing any more.
    await nextGeneration(tx, id);
    await tx.deleteFrom("app.personalization_pages").where("personalization_id", "=", id).execute();
    // The old analysis goes in the same UPDATE as the move: `analyzed` and later statuses must hold one
    // (personalizations_analysis_present), so clearing it first broke the constraint.
    const event = await transition(tx, id, "replace_photo", { analysis: null });
    const updated = await tx
      .updateTable("app.personalizations")
      .set({ photo_upload_id: photoUploadId })
      .where("id", "=", id)
      .returningAll()
      .executeTakeFirstOrThrow();
    await addJob(tx, "analyze_photo", { personalizationId: id, photoUploadId });
    return { value: updated, events: compact([event]) };
  });
}

/** The parent confirms (a shop gates this on payment): every remaining page, then the print files. */
export async function confirmFull(
  db: Kysely<Database>,
  ownerId: string,
  id: string,
): Promise<Changed<Personalization>> {
  return change(db, ownerId, id, "confirm", "confirm", async (tx, row) => {
    const event = await transition(tx, id, "confirm");
    await startStage(tx, row, "full");
    return { value: { ...row, status: movesTo("confirm") }, events: compact([event]) };
  });
}

/**
 * Work stops: queued jobs are removed, open pages canceled, and the status event tells the runners
 * holding running jobs to abort them (ComfyUI prompts included).
 */
export async function cancelPersonalization(
  db: Kysely<Database>,
  ownerId: string,
  id: string,
): Promise<Changed<Personalization>> {
  return change(db, ownerId, id, "cancel", "cancel", async (tx, row) => {
    await removeJobsOf(tx, id);
    await tx
      .updateTable("app.personalization_pages")
      .set({ status: "canceled", updated_at: sql`now()` })
      .where("personalization_id", "=", id)
      .where("status", "in", ["pending", "personalizing", "rendering"])
      .execute();
    const event = await transition(tx, id, "cancel");
    return { value: { ...row, status: movesTo("cancel") }, events: compact([event]) };
  });
}
