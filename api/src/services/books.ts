// The catalog: published books from Postgres (manifests were validated when imported), cached in Redis.
import { createHash } from "node:crypto";
import { AppError, keys, type Manifest, stagePages } from "@faceapp/core";
import type { Database } from "@faceapp/sql";
import { type Kysely, sql } from "kysely";
import type * as Schema from "../schemas.ts";
import type { CatalogCache } from "./catalog-cache.ts";

/** A book of the catalog as the api shows it, with its cover's object key where the api shows a URL. */
export type BookSummary = Omit<Schema.BookSummary, "coverUrl"> & { coverKey: string };
export type BookDetail = Omit<Schema.BookDetail, "coverUrl"> & { coverKey: string };

export interface BookFilters {
  category?: string | undefined;
  ageMin?: number | undefined;
  ageMax?: number | undefined;
  q?: string | undefined;
  cursor?: string | undefined;
  limit: number;
}

export interface BookPage {
  items: BookSummary[];
  nextCursor: string | null;
}

const summaryColumns = [
  "slug",
  "title",
  "description",
  "category",
  "language",
  "age_min",
  "age_max",
  "page_count",
  "cover_key",
] as const;

type SummaryRow = {
  slug: string;
  title: string;
  description: string;
  category: string;
  language: string;
  age_min: number;
  age_max: number;
  page_count: number;
  cover_key: string;
};

function summary(row: SummaryRow): BookSummary {
  return {
    slug: row.slug,
    title: row.title,
    description: row.description,
    category: row.category,
    language: row.language,
    ageMin: row.age_min,
    ageMax: row.age_max,
    pageCount: row.page_count,
    coverKey: row.cover_key,
  };
}

const encodeCursor = (slug: string) => Buffer.from(slug, "utf8").toString("base64url");
function decodeCursor(cursor: string): string {
  const slug = Buffer.from(cursor, "base64url").toString("utf8");
  if (!/^[a-z0-9]+(-[a-z0-9]+)*$/.test(slug)) throw new AppError("invalid_input", "Invalid cursor");
  return slug;
}

/** Published books matching the filters, by slug, one page at a time. */
export async function listBooks(db: Kysely<Database>, cache: CatalogCache, filters: BookFilters): Promise<BookPage> {
  const after = filters.cursor ? decodeCursor(filters.cursor) : undefined;
  const cacheKey = `list:${createHash("sha256").update(JSON.stringify(filters)).digest("hex").slice(0, 32)}`;
  const cached = await cache.get<BookPage>(cacheKey);
  if (cached) return cached;
  let query = db
    .selectFrom("app.books")
    .select(summaryColumns)
    .where("published", "=", true)
    .orderBy("slug")
    .limit(filters.limit + 1);
  if (filters.category) query = query.where("category", "=", filters.category);
  if (filters.ageMin !== undefined) query = query.where("age_max", ">=", filters.ageMin);
  if (filters.ageMax !== undefined) query = query.where("age_min", "<=", filters.ageMax);
  if (filters.q) {
    // Each word matches as a prefix ("dino" finds "dinosaur"); only letters and digits reach to_tsquery.
    const words = (
      filters.q
        .normalize("NFC")
        .toLowerCase()
        .match(/[\p{L}\p{N}]+/gu) ?? []
    ).slice(0, 10);
    if (words.length === 0) return { items: [], nextCursor: null };
    const tsquery = words.map((w) => `${w}:*`).join(" & ");
    query = query.where(sql<boolean>`search @@ to_tsquery('simple', ${tsquery})`);
  }
  if (after) query = query.where("slug", ">", after);
  const rows = await query.execute();
  const items = rows.slice(0, filters.limit).map(summary);
  const page = { items, nextCursor: rows.length > filters.limit ? encodeCursor(items.at(-1)!.slug) : null };
  await cache.set(cacheKey, page);
  return page;
}

/** One published book with what a client needs to show it. */
export async function getBook(db: Kysely<Database>, cache: CatalogCache, slug: string): Promise<BookDetail> {
  const cacheKey = `book:${slug}`;
  const cached = await cache.get<BookDetail>(cacheKey);
  if (cached) return cached;
  const row = await db
    .selectFrom("app.books")
    .select([...summaryColumns, "manifest", "preview_pages"])
    .where("slug", "=", slug)
    .where("published", "=", true)
    .executeTakeFirst();
  if (!row) throw new AppError("not_found", "Book not found");
  const manifest = row.manifest as Manifest;
  const detail: BookDetail = {
    ...summary(row),
    previewPages: row.preview_pages,
    pages: manifest.pages.map((p) => ({
      page: `page_${p.page_num}`,
      availability: p.availability,
      needsFace: p.needs_face_swap,
    })),
  };
  await cache.set(cacheKey, detail);
  return detail;
}

/** Inserts or replaces a book from a manifest already validated and stored; published at once. */
export async function upsertBook(db: Kysely<Database>, manifest: Manifest): Promise<void> {
  const row = {
    slug: manifest.slug,
    title: manifest.title,
    description: manifest.description,
    language: manifest.language,
    category: manifest.category,
    age_min: manifest.age_min,
    age_max: manifest.age_max,
    manifest_key: keys.bookManifest(manifest.slug),
    manifest,
    cover_key: keys.bookFile(manifest.slug, manifest.covers.front.base_uri),
    page_count: manifest.pages.length,
    preview_pages: stagePages(manifest, "preview"),
    published: true,
  };
  await db
    .insertInto("app.books")
    .values(row)
    .onConflict((oc) => oc.column("slug").doUpdateSet({ ...row, updated_at: new Date() }))
    .execute();
}
