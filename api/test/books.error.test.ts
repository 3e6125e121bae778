import fs from "node:fs";
import path from "node:path";
import { AppError } from "@faceapp/core";
import { describe, expect, it } from "vitest";
import { importBook } from "../src/services/book-import.ts";
import { noCatalogCache } from "../src/services/catalog-cache.ts";
import { headObject } from "../src/services/storage.ts";
import { body, bookFolder, useApi } from "@faceapp/testkit/api";

const api = useApi();

async function importError(dir: string): Promise<AppError> {
  const error = await importBook(api.pg.db, api.bucket, noCatalogCache, dir).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
}

async function nothingStored(slug: string) {
  const row = await api.pg.db.selectFrom("app.books").select("id").where("slug", "=", slug).executeTakeFirst();
  expect(row).toBeUndefined();
  expect(await headObject(api.bucket, `books/${slug}/manifest.json`)).toBeNull();
}

describe("importing a malformed book is refused with readable errors, and nothing is stored", () => {
  it("a manifest that breaks the schema names every problem by path", async () => {
    const dir = await bookFolder("broken-book", (m) => {
      m.age_min = 9;
      m.age_max = 3;
      (m.pages as unknown[]).pop();
      m.unexpected = true;
    });
    const error = await importError(dir);
    expect(error.message).toContain("The manifest is not valid");
    expect(error.message).toContain("a book has exactly 24 block pages");
    expect(error.message).toMatch(/unexpected/);
    await nothingStored("broken-book");
  });

  it("a cross-field rule (age_min above age_max)", async () => {
    const dir = await bookFolder("ages-book", (m) => {
      m.age_min = 9;
      m.age_max = 3;
    });
    const error = await importError(dir);
    expect(error.message).toContain("age_min must not exceed age_max");
    await nothingStored("ages-book");
  });

  it("a face colour that is not an opaque #rrggbb, named by its path", async () => {
    const dir = await bookFolder("pale-book", (m) => {
      (m.pages as Record<string, unknown>[])[5]!.face_colours = { skin: "peach", shadow: "#a0704f80" };
    });
    const error = await importError(dir);
    expect(error.message).toContain("pages.5.face_colours.skin: must be an opaque #rrggbb colour");
    expect(error.message).toContain("pages.5.face_colours.shadow: must be an opaque #rrggbb colour");
    await nothingStored("pale-book");
  });

  it("a referenced file that is missing (a face page's default mask) is listed", async () => {
    const dir = await bookFolder("missing-art");
    fs.rmSync(path.join(dir, "pages/page_5_mask.png"));
    fs.rmSync(path.join(dir, "covers/back.png"));
    const error = await importError(dir);
    expect(error.message).toContain("pages/page_5_mask.png");
    expect(error.message).toContain("covers/back.png");
    await nothingStored("missing-art");
  });

  it("a folder without manifest.json, or with invalid JSON", async () => {
    const dir = await bookFolder("no-json");
    fs.writeFileSync(path.join(dir, "manifest.json"), "{ not json");
    expect((await importError(dir)).message).toContain("Cannot read");
    fs.rmSync(path.join(dir, "manifest.json"));
    expect((await importError(dir)).message).toContain("Cannot read");
  });
});

describe("GET /v1/books input", () => {
  it.each([
    "limit=abc",
    "limit=0",
    "limit=101",
    "ageMin=-1",
    "ageMax=99",
    "ageMin=1.5",
    "category=",
    "cursor=%24%24%24",
    "unknown=1",
    "limit=1&limit=2",
  ])("refuses ?%s with 400 invalid_input", async (query) => {
    const res = await api.app.request(`/v1/books?${query}`);
    expect(res.status).toBe(400);
    expect((await body(res)).error.code).toBe("invalid_input");
  });

  it("refuses a cursor that decodes to no slug", async () => {
    const cursor = Buffer.from("../../etc").toString("base64url"); // outside-path: a traversal the api must refuse
    const res = await api.app.request(`/v1/books?cursor=${cursor}`);
    expect(res.status).toBe(400);
  });

  it("answers 404 for an unknown or malformed slug, and 400 for unknown query parameters", async () => {
    expect((await api.app.request("/v1/books/no-such-book")).status).toBe(404);
    expect((await api.app.request("/v1/books/NOT_A_SLUG")).status).toBe(404);
    expect((await api.app.request("/v1/books/no-such-book?x=1")).status).toBe(400);
  });

  it("refuses writes to the catalog", async () => {
    const res = await api.app.request("/v1/books", {
      method: "POST",
      body: "{}",
      headers: { "content-type": "application/json" },
    });
    expect(res.status).toBe(404);
  });
});
