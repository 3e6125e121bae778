import { AppError } from "@faceapp/core";
import { describe, expect, it } from "vitest";
import { importBook } from "../src/services/book-import.ts";
import { noCatalogCache } from "../src/services/catalog-cache.ts";
import { body, bookFolder, useApi } from "@faceapp/testkit/api";

const api = useApi();

describe("book import refuses paths that leave the book folder", () => {
  // outside-path: traversals the import must refuse
  it.each(["../../etc/passwd", "/etc/passwd", "pages/../../secret.png"])("base_uri %s", async (uri) => {
    const dir = await bookFolder("escape-book", (m) => {
      (m.pages as { base_uri: string }[])[0]!.base_uri = uri;
    });
    const error = await importBook(api.pg.db, api.bucket, noCatalogCache, dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).message).toContain("pages.0.base_uri");
  });
});

describe("catalog search", () => {
  it("treats search text as words, never as SQL or query syntax", async () => {
    await importBook(api.pg.db, api.bucket, noCatalogCache, await bookFolder("safe-book"));
    for (const q of ["'; drop table app.books; --", "a & | ! ( ) : *", "\\", '"unterminated', "<script>"]) {
      const res = await api.app.request(`/v1/books?q=${encodeURIComponent(q)}`);
      expect(res.status).toBe(200);
    }
    expect((await body(await api.app.request("/v1/books"))).items).toHaveLength(1);
  });

  it("does not expose object keys or the raw manifest", async () => {
    const book = await body(await api.app.request("/v1/books/safe-book"));
    const text = JSON.stringify(book);
    expect(text).not.toContain("manifest");
    expect(book).not.toHaveProperty("coverKey");
    expect(book).not.toHaveProperty("typography");
  });
});
