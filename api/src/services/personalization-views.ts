// What clients see of a personalisation: its state, its pages with short-lived image URLs, its files.
import { AppError, keys, type Manifest, type PageId, type PrintFile, pageText } from "@faceapp/core";
import type { Database, Personalization } from "@faceapp/sql";
import { type Kysely, sql } from "kysely";
import * as v from "valibot";
import type { Bucket } from "../deps.ts";
import { type PersonalizationView, PrintFileName } from "../personalization-schemas.ts";
import { downloadName } from "./download-name.ts";
import { MAX_REGENERATIONS } from "./personalizations.ts";
import type { QueuePlace, QueueWatch } from "./queue-watch.ts";
import { presignGet } from "./storage.ts";

/** Page images are shown right away; a client asks again for fresh URLs. */
export const PAGE_URL_SECONDS = 15 * 60;
/** Downloads of the print files. */
export const FILE_URL_SECONDS = 5 * 60;
export const printFiles: readonly PrintFile[] = PrintFileName.options;

/** Internal object keys never leave the api. */
function publicAnalysis(analysis: unknown): Record<string, unknown> | null {
  if (!analysis || typeof analysis !== "object") return null;
  const { faceCropKey: _key, ...rest } = analysis as Record<string, unknown>;
  return rest;
}

type Row = Personalization & {
  book_slug: string;
  book_title: string;
  book_language: string | null;
  created_at_text: string;
  last_event_id: string | null;
};

function baseQuery(db: Kysely<Database>, ownerId: string) {
  return db
    .selectFrom("app.personalizations as p")
    .innerJoin("app.books as b", "b.id", "p.book_id")
    .selectAll("p")
    .select([
      "b.slug as book_slug",
      "b.title as book_title",
      "b.language as book_language",
      sql<string>`p.created_at::text`.as("created_at_text"),
      // Read in the same statement as the row: every event up to it is already in the row.
      sql<string | null>`(select max(e.id)::text from app.events e where e.personalization_id = p.id)`.as(
        "last_event_id",
      ),
    ])
    .where("p.owner_id", "=", ownerId);
}

async function pagesOf(db: Kysely<Database>, rows: Row[]) {
  if (rows.length === 0) return [];
  // Starting a stage resets its rows and a new photo removes them: the rows are the book as it is now.
  return db
    .selectFrom("app.personalization_pages")
    .select([
      "personalization_id",
      "page",
      "stage",
      "generation",
      "status",
      "web_key",
      "failure_reason",
      "likeness_distance",
      "likeness_flagged",
    ])
    .where(
      "personalization_id",
      "in",
      rows.map((r) => r.id),
    )
    .execute();
}

const pageOrder = (page: string) => (page === "cover_front" ? -1 : page === "cover_back" ? 99 : Number(page.slice(5)));

async function toView(
  bucket: Bucket,
  row: Row,
  pages: Awaited<ReturnType<typeof pagesOf>>,
  places: Map<string, QueuePlace>,
  manifest?: Manifest,
): Promise<PersonalizationView> {
  const variables = { child_name: row.child_name ?? "", child_age: row.child_age ?? undefined };
  const own = pages
    .filter((p) => p.personalization_id === row.id)
    .sort((a, b) => pageOrder(a.page) - pageOrder(b.page));
  const pageViews = await Promise.all(
    own.map(async (p) => ({
      page: p.page,
      stage: p.stage,
      generation: p.generation,
      status: p.status,
      webUrl: p.status === "done" && p.web_key ? (await presignGet(bucket, p.web_key, PAGE_URL_SECONDS)).url : null,
      failureReason: p.failure_reason,
      likeness: { distance: p.likeness_distance, flagged: p.likeness_flagged },
      text: manifest ? wordsOf(manifest, p.page as PageId, variables) : null,
    })),
  );
  const ready = row.status === "completed";
  return {
    id: row.id,
    status: row.status,
    book: { slug: row.book_slug, title: row.book_title, language: row.book_language },
    photoUploadId: row.photo_upload_id,
    childName: row.child_name,
    childAge: row.child_age,
    childGender: row.child_gender,
    childNameForms: row.child_name_forms,
    analysis: publicAnalysis(row.analysis),
    failureReason: row.failure_reason,
    regenerationsLeft: MAX_REGENERATIONS - row.regenerate_count,
    pages: pageViews,
    files: ready
      ? printFiles
          .filter((name) => row.files[name])
          .map((name) => ({
            name,
            url: `/v1/personalizations/${row.id}/files/${name}`,
            fileName: downloadName(row.book_title, row.child_name, name).name,
          }))
      : [],
    queue: places.get(row.id) ?? null,
    thumbnailUrl: pageViews.find((p) => p.webUrl)?.webUrl ?? null,
    photoUrl: (await presignGet(bucket, keys.photo(row.owner_id, row.photo_upload_id), PAGE_URL_SECONDS)).url,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    lastEventId: row.last_event_id,
  };
}

/** A page's words; null for a page the book no longer has (a book imported again since). */
function wordsOf(manifest: Manifest, page: PageId, variables: Parameters<typeof pageText>[2]): string | null {
  try {
    return pageText(manifest, page, variables);
  } catch {
    return null;
  }
}

const GENERATING: readonly string[] = ["preview_generating", "full_generating"];

/** The places of the books among `rows` that may wait for the gpu (the others cost nothing). */
function placesOf(queue: QueueWatch, rows: Row[]) {
  const waiting = rows.filter((r) => GENERATING.includes(r.status));
  const changedAt = new Date(Math.max(...waiting.map((r) => r.updated_at.getTime())));
  return queue.placesOf(
    waiting.map((r) => r.id),
    changedAt,
  );
}

/** One personalisation of the caller's; 404 for anyone else's. */
export async function getPersonalization(
  db: Kysely<Database>,
  bucket: Bucket,
  queue: QueueWatch,
  ownerId: string,
  id: string,
) {
  const row = await baseQuery(db, ownerId)
    .select("b.manifest as book_manifest")
    .where("p.id", "=", id)
    .executeTakeFirst();
  if (!row) throw new AppError("not_found", "Personalisation not found");
  const [pages, places] = await Promise.all([pagesOf(db, [row]), placesOf(queue, [row])]);
  // The manifest was validated on import: its pages give each page's words.
  return toView(bucket, row, pages, places, row.book_manifest as Manifest);
}

/**
 * The view of a personalisation this request has just created, from the row its INSERT returned and
 * the book its transaction read: it has no pages yet, so reading both back would be two round trips
 * for nothing (bench:api, POST /v1/personalizations against its pgbench ceiling).
 */
export function createdView(
  bucket: Bucket,
  row: Personalization,
  book: { slug: string; title: string },
): Promise<PersonalizationView> {
  return toView(
    bucket,
    {
      ...row,
      book_slug: book.slug,
      book_title: book.title,
      book_language: null,
      created_at_text: "",
      last_event_id: null,
    },
    [],
    new Map(),
  );
}

/** Whether a personalisation of the caller's exists (the event stream's check). */
export async function assertOwned(db: Kysely<Database>, ownerId: string, id: string): Promise<void> {
  const row = await db
    .selectFrom("app.personalizations")
    .select("id")
    .where("id", "=", id)
    .where("owner_id", "=", ownerId)
    .executeTakeFirst();
  if (!row) throw new AppError("not_found", "Personalisation not found");
}

// A cursor holds the last row's created_at as Postgres prints it (microseconds kept; a JS Date
// would round them off and skip rows) and its id.
const timestamp = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(\.\d{1,6})?[+-](\d{2})(?::(\d{2}))?$/;

/** A time PostgreSQL takes as timestamptz: a real calendar day and clock time (it refuses 2026-02-30 as a 500). */
function realInstant(text: string): boolean {
  const m = timestamp.exec(text);
  if (!m) return false;
  const [year, month, day, hour, minute, second, offsetHours, offsetMinutes] = [1, 2, 3, 4, 5, 6, 8, 9].map((i) =>
    Number(m[i] ?? 0),
  ) as [number, number, number, number, number, number, number, number];
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  const sameDay = date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
  return year >= 1 && sameDay && hour < 24 && minute < 60 && second < 60 && offsetHours <= 14 && offsetMinutes < 60;
}

const Cursor = v.tuple([v.pipe(v.string(), v.check(realInstant)), v.pipe(v.string(), v.uuid())]);

const encodeCursor = (row: { created_at_text: string; id: string }) =>
  Buffer.from(JSON.stringify([row.created_at_text, row.id])).toString("base64url");

function decodeCursor(cursor: string): v.InferOutput<typeof Cursor> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    parsed = undefined;
  }
  const result = v.safeParse(Cursor, parsed);
  if (!result.success) throw new AppError("invalid_input", "Invalid cursor");
  return result.output;
}

/** The caller's personalisations, newest first, a page at a time. */
export async function listPersonalizations(
  db: Kysely<Database>,
  bucket: Bucket,
  queue: QueueWatch,
  ownerId: string,
  options: { cursor?: string | undefined; limit: number },
): Promise<{ items: PersonalizationView[]; nextCursor: string | null }> {
  let query = baseQuery(db, ownerId);
  if (options.cursor) {
    const [at, id] = decodeCursor(options.cursor);
    // Bound as text: postgres.js would pass a timestamptz parameter through a JS Date, dropping microseconds.
    query = query.where(sql<boolean>`(p.created_at, p.id) < (${at}::text::timestamptz, ${id}::uuid)`);
  }
  const rows = await query
    .orderBy("p.created_at", "desc")
    .orderBy("p.id", "desc")
    .limit(options.limit + 1)
    .execute();
  const page = rows.slice(0, options.limit);
  const [pages, places] = await Promise.all([pagesOf(db, page), placesOf(queue, page)]);
  const items = await Promise.all(page.map((row) => toView(bucket, row, pages, places)));
  const last = page.at(-1);
  return { items, nextCursor: rows.length > options.limit && last ? encodeCursor(last) : null };
}

/** A presigned download of one print file, saved under a readable name: 409 until the book is complete. */
export async function fileDownload(db: Kysely<Database>, bucket: Bucket, ownerId: string, id: string, name: PrintFile) {
  const row = await db
    .selectFrom("app.personalizations as p")
    .innerJoin("app.books as b", "b.id", "p.book_id")
    .select(["p.status", "p.files", "p.child_name", "b.title"])
    .where("p.id", "=", id)
    .where("p.owner_id", "=", ownerId)
    .executeTakeFirst();
  if (!row) throw new AppError("not_found", "Personalisation not found");
  const key = row.files[name];
  if (row.status !== "completed" || !key) {
    throw new AppError("invalid_state", "The print files are not ready yet", { status: row.status });
  }
  const { disposition } = downloadName(row.title, row.child_name, name);
  return presignGet(bucket, key, FILE_URL_SECONDS, { contentDisposition: disposition });
}
