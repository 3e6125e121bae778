import * as v from "valibot";
import { Manifest, type PageId, keys, maskUri, pageArt } from "@faceapp/core";
import type { Pg, Personalization } from "@faceapp/sql";

export interface Subject {
  personalization: Personalization;
  book: { id: string; slug: string; manifest: Manifest };
}

// Manifests were validated at import; parsing again applies defaults. Cached per book version, and
// read from the database only when this version is not cached yet: a manifest is several KB of JSON
// that every page of every personalisation of the book would otherwise fetch and decode again.
const manifests = new Map<string, Manifest>();
const MANIFEST_CACHE_LIMIT = 64;

/** A personalisation with its book's manifest. */
export async function loadSubject(pg: Pg, personalizationId: string): Promise<Subject | null> {
  const row = await pg.db
    .selectFrom("app.personalizations as p")
    .innerJoin("app.books as b", "b.id", "p.book_id")
    .selectAll("p")
    .select(["b.slug as book_slug", "b.updated_at as book_updated_at"])
    .where("p.id", "=", personalizationId)
    .executeTakeFirst();
  if (!row) return null;
  const { book_slug, book_updated_at, ...personalization } = row;
  const cacheKey = `${personalization.book_id}@${book_updated_at.toISOString()}`;
  let manifest = manifests.get(cacheKey);
  if (!manifest) {
    // The version read with the manifest is the one it is cached under (the book may have been
    // imported again in between).
    const book = await pg.db
      .selectFrom("app.books")
      .select(["manifest", "updated_at"])
      .where("id", "=", personalization.book_id)
      .executeTakeFirst();
    if (!book) return null;
    manifest = v.parse(Manifest, book.manifest);
    if (manifests.size >= MANIFEST_CACHE_LIMIT) manifests.delete(manifests.keys().next().value!);
    manifests.set(`${personalization.book_id}@${book.updated_at.toISOString()}`, manifest);
  }
  return { personalization, book: { id: personalization.book_id, slug: book_slug, manifest } };
}

/** Object keys of a page's art in the book's folder. */
export function artKeys(subject: Subject, page: PageId): { illustration: string; mask: string | null } {
  const art = pageArt(subject.book.manifest, page);
  const { slug } = subject.book;
  const mask = art.needs_face_swap ? maskUri(art) : null;
  return { illustration: keys.bookFile(slug, art.base_uri), mask: mask ? keys.bookFile(slug, mask) : null };
}
