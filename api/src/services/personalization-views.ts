// What clients see of a personalisation: its state, its pages with short-lived image URLs, its files.
import { AppError, type PrintFile } from "@faceapp/core";
import type { Database, Personalization } from "@faceapp/sql";
import type { Kysely } from "kysely";
import type { Bucket } from "../deps.ts";
import { MAX_REGENERATIONS } from "./personalizations.ts";
import { presignGet } from "./storage.ts";

/** Page images are shown right away; a client asks again for fresh URLs. */
export const PAGE_URL_SECONDS = 15 * 60;
/** Downloads of the print files. */
export const FILE_URL_SECONDS = 5 * 60;
export const printFiles: readonly PrintFile[] = ["block.pdf", "cover.pdf", "pages.zip"];

export interface PageView {
  page: string;
  stage: "preview" | "full";
  status: string;
  webUrl: string | null;
  failureReason: string | null;
}

export interface PersonalizationView {
  id: string;
  status: Personalization["status"];
  book: { slug: string; title: string };
  photoUploadId: string;
  childName: string | null;
  childAge: number | null;
  childGender: Personalization["child_gender"];
  analysis: Record<string, unknown> | null;
  failureReason: string | null;
  regenerationsLeft: number;
  pages: PageView[];
  files: { name: PrintFile; url: string }[];
  thumbnailUrl: string | null;
  createdAt: string;
  updatedAt: string;
}

/** Internal object keys never leave the api. */
function publicAnalysis(analysis: unknown): Record<string, unknown> | null {
  if (!analysis || typeof analysis !== "object") return null;
  const { faceCropKey: _key, ...rest } = analysis as Record<string, unknown>;
  return rest;
}

type Row = Personalization & { book_slug: string; book_title: string };

function baseQuery(db: Kysely<Database>, ownerId: string) {
  return db
    .selectFrom("app.personalizations as p")
    .innerJoin("app.books as b", "b.id", "p.book_id")
    .selectAll("p")
    .select(["b.slug as book_slug", "b.title as book_title"])
    .where("p.owner_id", "=", ownerId);
}

async function pagesOf(db: Kysely<Database>, rows: Row[]) {
  if (rows.length === 0) return [];
  // The current preview generation and the full stage: what the book is made of now.
  return db
    .selectFrom("app.personalization_pages as pg")
    .innerJoin("app.personalizations as p", "p.id", "pg.personalization_id")
    .select(["pg.personalization_id", "pg.page", "pg.stage", "pg.status", "pg.web_key", "pg.failure_reason"])
    .where(
      "pg.personalization_id",
      "in",
      rows.map((r) => r.id),
    )
    .where((eb) => eb.or([eb("pg.stage", "=", "full"), eb("pg.generation", "=", eb.ref("p.regenerate_count"))]))
    .execute();
}

const pageOrder = (page: string) => (page === "cover_front" ? -1 : page === "cover_back" ? 99 : Number(page.slice(5)));

async function toView(
  bucket: Bucket,
  row: Row,
  pages: Awaited<ReturnType<typeof pagesOf>>,
): Promise<PersonalizationView> {
  const own = pages
    .filter((p) => p.personalization_id === row.id)
    .sort((a, b) => pageOrder(a.page) - pageOrder(b.page));
  const pageViews = await Promise.all(
    own.map(async (p) => ({
      page: p.page,
      stage: p.stage,
      status: p.status,
      webUrl: p.status === "done" && p.web_key ? (await presignGet(bucket, p.web_key, PAGE_URL_SECONDS)).url : null,
      failureReason: p.failure_reason,
    })),
  );
  const ready = row.status === "completed";
  return {
    id: row.id,
    status: row.status,
    book: { slug: row.book_slug, title: row.book_title },
    photoUploadId: row.photo_upload_id,
    childName: row.child_name,
    childAge: row.child_age,
    childGender: row.child_gender,
    analysis: publicAnalysis(row.analysis),
    failureReason: row.failure_reason,
    regenerationsLeft: MAX_REGENERATIONS - row.regenerate_count,
    pages: pageViews,
    files: ready
      ? printFiles
          .filter((name) => row.files[name])
          .map((name) => ({ name, url: `/v1/personalizations/${row.id}/files/${name}` }))
      : [],
    thumbnailUrl: pageViews.find((p) => p.webUrl)?.webUrl ?? null,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

/** One personalisation of the caller's; 404 for anyone else's. */
export async function getPersonalization(db: Kysely<Database>, bucket: Bucket, ownerId: string, id: string) {
  const row = await baseQuery(db, ownerId).where("p.id", "=", id).executeTakeFirst();
  if (!row) throw new AppError("not_found", "Personalisation not found");
  return toView(bucket, row, await pagesOf(db, [row]));
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

function encodeCursor(row: { created_at: Date; id: string }): string {
  return Buffer.from(JSON.stringify([row.created_at.toISOString(), row.id])).toString("base64url");
}

function decodeCursor(cursor: string): [Date, string] {
  try {
    const [at, id] = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
    const date = new Date(at);
    if (Number.isNaN(date.getTime()) || typeof id !== "string" || !/^[0-9a-f-]{36}$/.test(id)) throw new Error();
    return [date, id];
  } catch {
    throw new AppError("invalid_input", "Invalid cursor");
  }
}

/** The caller's personalisations, newest first, a page at a time. */
export async function listPersonalizations(
  db: Kysely<Database>,
  bucket: Bucket,
  ownerId: string,
  options: { cursor?: string | undefined; limit: number },
): Promise<{ items: PersonalizationView[]; nextCursor: string | null }> {
  let query = baseQuery(db, ownerId);
  if (options.cursor) {
    const [at, id] = decodeCursor(options.cursor);
    query = query.where((eb) =>
      eb.or([eb("p.created_at", "<", at), eb.and([eb("p.created_at", "=", at), eb("p.id", "<", id)])]),
    );
  }
  const rows = await query
    .orderBy("p.created_at", "desc")
    .orderBy("p.id", "desc")
    .limit(options.limit + 1)
    .execute();
  const page = rows.slice(0, options.limit);
  const pages = await pagesOf(db, page);
  const items = await Promise.all(page.map((row) => toView(bucket, row, pages)));
  const last = page.at(-1);
  return { items, nextCursor: rows.length > options.limit && last ? encodeCursor(last) : null };
}

/** A presigned download of one print file: 409 until the book is complete. */
export async function fileDownload(db: Kysely<Database>, bucket: Bucket, ownerId: string, id: string, name: PrintFile) {
  const row = await db
    .selectFrom("app.personalizations")
    .select(["status", "files"])
    .where("id", "=", id)
    .where("owner_id", "=", ownerId)
    .executeTakeFirst();
  if (!row) throw new AppError("not_found", "Personalisation not found");
  const key = row.files[name];
  if (row.status !== "completed" || !key) {
    throw new AppError("invalid_state", "The print files are not ready yet", { status: row.status });
  }
  return presignGet(bucket, key, FILE_URL_SECONDS);
}
