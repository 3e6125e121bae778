import { Hono } from "hono";
import type { ApiContext } from "../context.ts";
import { doc } from "../http/openapi.ts";
import type { AppEnv } from "../http/types.ts";
import { NoQuery, params, query } from "../http/validate.ts";
import { BookDetail, BookList, BookQuery, BookSlug, NameFormsPreview, NameFormsQuery } from "../schemas.ts";
import { type BookSummary, getBook, listBooks } from "../services/books.ts";
import { previewName } from "../services/name-preview.ts";
import { cachedPresignGet } from "../services/storage.ts";

/** Covers are private objects shown through presigned GETs valid for an hour, each URL handed out
 * while it still has at least 15 minutes left. */
const COVER_URL_SECONDS = 3600;
const COVER_URL_MIN_LEFT_SECONDS = 900;

/** /v1/books: the public catalog. */
export function bookRoutes(ctx: ApiContext) {
  const coverUrl = cachedPresignGet(ctx.bucket, COVER_URL_SECONDS, COVER_URL_MIN_LEFT_SECONDS);
  const withCover = async <T extends BookSummary>({ coverKey, ...book }: T) => ({
    ...book,
    coverUrl: await coverUrl(coverKey),
  });

  return new Hono<AppEnv>()
    .get(
      "/",
      doc({ summary: "List published books", tags: ["catalog"], responses: { 200: BookList } }),
      query(BookQuery),
      async (c) => {
        const q = c.req.valid("query");
        const page = await listBooks(ctx.db, ctx.cache, q);
        return c.json({ items: await Promise.all(page.items.map(withCover)), nextCursor: page.nextCursor });
      },
    )
    .get(
      "/:slug",
      doc({ summary: "One book and its preview pages", tags: ["catalog"], responses: { 200: BookDetail } }),
      params(BookSlug),
      query(NoQuery),
      async (c) => c.json(await withCover(await getBook(ctx.db, ctx.cache, c.req.valid("param").slug))),
    )
    .get(
      "/:slug/name-forms",
      doc({
        summary:
          "The child's name as this book would print it: its forms, the gender they assume, characters it cannot draw",
        tags: ["catalog"],
        responses: { 200: NameFormsPreview },
      }),
      params(BookSlug),
      query(NameFormsQuery),
      async (c) => {
        const { name, gender } = c.req.valid("query");
        return c.json(await previewName(ctx.db, ctx.bucket, c.req.valid("param").slug, name, gender));
      },
    );
}
