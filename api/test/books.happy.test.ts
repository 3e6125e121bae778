import { spawnSync } from "node:child_process";
import { GetObjectCommand } from "@aws-sdk/client-s3";
import { repoRoot } from "@faceapp/core";
import { describeWithRedis } from "@faceapp/testkit";
import { beforeAll, describe, expect, it } from "vitest";
import { importBook } from "../src/services/book-import.ts";
import { noCatalogCache, redisCatalogCache } from "../src/services/catalog-cache.ts";
import { body, bookFolder, useApi } from "@faceapp/testkit/api";

const api = useApi();

/** The cache the apps of this file read, so imports here invalidate it as the command does. */
const appCache = () =>
  api.deps.redis ? redisCatalogCache(api.deps.redis, api.deps.redisPrefix!, 300) : noCatalogCache;

async function importFolder(dir: string) {
  return importBook(api.pg.db, api.bucket, appCache(), dir);
}

beforeAll(async () => {
  await importFolder(await bookFolder("moon-trip"));
  await importFolder(
    await bookFolder("dino-day", (m) => {
      m.title = "Dinosaur day";
      m.description = "Roaring fun with a friendly dinosaur.";
      m.category = "animals";
      m.age_min = 2;
      m.age_max = 4;
    }),
  );
  await importFolder(
    await bookFolder("sea-song", (m) => {
      m.title = "Song of the sea";
      m.category = "adventure";
      m.age_min = 6;
      m.age_max = 10;
    }),
  );
});

describe("GET /v1/books", () => {
  it("lists published books without signing in, each with a cover that downloads", async () => {
    const res = await api.app.request("/v1/books");
    expect(res.status).toBe(200);
    const page = await body(res);
    expect(page.items.map((b: { slug: string }) => b.slug)).toEqual(["dino-day", "moon-trip", "sea-song"]);
    expect(page.nextCursor).toBeNull();
    expect(page.items[1]).toMatchObject({
      title: "The moon-trip adventure",
      category: "adventure",
      ageMin: 3,
      ageMax: 7,
      pageCount: 24,
    });
    const cover = await fetch(page.items[1].coverUrl);
    expect(cover.status).toBe(200);
    expect(
      Buffer.from(await cover.arrayBuffer())
        .subarray(1, 4)
        .toString(),
    ).toBe("PNG");
  });

  it("filters by category, by age range and by words", async () => {
    const slugs = async (query: string) =>
      (await body(await api.app.request(`/v1/books?${query}`))).items.map((b: { slug: string }) => b.slug);
    expect(await slugs("category=animals")).toEqual(["dino-day"]);
    expect(await slugs("ageMin=8&ageMax=9")).toEqual(["sea-song"]);
    expect(await slugs("ageMin=4&ageMax=5")).toEqual(["dino-day", "moon-trip"]);
    expect(await slugs("q=dinosaur")).toEqual(["dino-day"]);
    expect(await slugs("q=DINO")).toEqual(["dino-day"]);
    expect(await slugs("q=friendly%20dino")).toEqual(["dino-day"]);
    expect(await slugs("q=%21%21%21")).toEqual([]);
    expect(await slugs("q=sea&category=adventure")).toEqual(["sea-song"]);
    expect(await slugs("q=nothing-matches-this")).toEqual([]);
  });

  it("pages with an opaque cursor", async () => {
    const first = await body(await api.app.request("/v1/books?limit=2"));
    expect(first.items.map((b: { slug: string }) => b.slug)).toEqual(["dino-day", "moon-trip"]);
    expect(first.nextCursor).toEqual(expect.any(String));
    const second = await body(await api.app.request(`/v1/books?limit=2&cursor=${first.nextCursor}`));
    expect(second.items.map((b: { slug: string }) => b.slug)).toEqual(["sea-song"]);
    expect(second.nextCursor).toBeNull();
  });

  it("leaves out unpublished books", async () => {
    await importFolder(await bookFolder("hidden-book"));
    await api.pg.db.updateTable("app.books").set({ published: false }).where("slug", "=", "hidden-book").execute();
    const page = await body(await api.app.request("/v1/books?limit=100"));
    expect(page.items.map((b: { slug: string }) => b.slug)).not.toContain("hidden-book");
    expect((await api.app.request("/v1/books/hidden-book")).status).toBe(404);
  });
});

describe("GET /v1/books/:slug", () => {
  it("returns the manifest summary a client needs", async () => {
    const res = await api.app.request("/v1/books/moon-trip");
    expect(res.status).toBe(200);
    const book = await body(res);
    expect(book).toMatchObject({
      slug: "moon-trip",
      title: "The moon-trip adventure",
      description: expect.any(String),
      pageCount: 24,
    });
    expect(book.previewPages).toEqual(["cover_front", "page_0", "page_1", "page_2", "page_3", "page_4"]);
    expect(book.pages).toHaveLength(24);
    expect(book.pages[1]).toEqual({ page: "page_1", availability: "prepay", needsFace: true });
    expect(book.pages[23]).toEqual({ page: "page_23", availability: "postpay", needsFace: false });
    expect((await fetch(book.coverUrl)).status).toBe(200);
    expect(book).not.toHaveProperty("coverKey");
  });
});

describe("the import", () => {
  it("stores the art and the manifest under the book's keys", async () => {
    const manifest = await api.bucket.client.send(
      new GetObjectCommand({ Bucket: api.s3Config.bucket, Key: "books/moon-trip/manifest.json" }),
    );
    expect(JSON.parse(await manifest.Body!.transformToString()).slug).toBe("moon-trip");
    for (const key of [
      "books/moon-trip/pages/page_1.png",
      "books/moon-trip/pages/page_1_mask.png",
      "books/moon-trip/fonts/body.ttf",
    ]) {
      const object = await api.bucket.client.send(new GetObjectCommand({ Bucket: api.s3Config.bucket, Key: key }));
      expect(object.ContentLength).toBeGreaterThan(0);
    }
  });

  it("replaces a book imported again (upsert), keeping it published", async () => {
    await importFolder(await bookFolder("moon-trip", (m) => (m.title = "Moon trip, second edition")));
    const book = await body(await api.app.request("/v1/books/moon-trip"));
    expect(book.title).toBe("Moon trip, second edition");
    const count = await api.pg.db
      .selectFrom("app.books")
      .select((eb) => eb.fn.countAll().as("n"))
      .where("slug", "=", "moon-trip")
      .executeTakeFirstOrThrow();
    expect(Number(count.n)).toBe(1);
  });

  it("runs as `npm run books:import -- <folder>`", async () => {
    const dir = await bookFolder("cli-book");
    const result = spawnSync(process.execPath, ["--import", "tsx", "api/src/cli/import-book.ts", dir], {
      cwd: repoRoot,
      encoding: "utf8",
      env: {
        PATH: process.env.PATH,
        DATABASE_URL: api.pg.url,
        AWS_ENDPOINT_URL: api.s3Config.endpoint,
        AWS_ACCESS_KEY_ID: api.s3Config.credentials!.accessKeyId,
        AWS_SECRET_ACCESS_KEY: api.s3Config.credentials!.secretAccessKey,
        S3_BUCKET_NAME: api.s3Config.bucket,
        JWT_SECRET_KEY: "x".repeat(40),
      },
    });
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect(result.stdout).toContain("imported cli-book");
    expect((await api.app.request("/v1/books/cli-book")).status).toBe(200);
  });
});

describeWithRedis("the catalog cache in Redis", () => {
  it("serves repeated reads from Redis and forgets them when a book is imported", async () => {
    const app = api.build({ redis: true });
    await app.request("/v1/books/sea-song");
    await app.request("/v1/books?category=adventure");
    // change the row behind the cache's back: cached answers do not see it
    await api.pg.db
      .updateTable("app.books")
      .set({ title: "Changed underneath" })
      .where("slug", "=", "sea-song")
      .execute();
    expect((await body(await app.request("/v1/books/sea-song"))).title).toBe("Song of the sea");
    const listed = await body(await app.request("/v1/books?category=adventure"));
    expect(listed.items.find((b: { slug: string }) => b.slug === "sea-song").title).toBe("Song of the sea");
    // an import invalidates every cached catalog answer
    await importFolder(await bookFolder("new-arrival"));
    expect((await body(await app.request("/v1/books/sea-song"))).title).toBe("Changed underneath");
    const relisted = await body(await app.request("/v1/books?category=adventure"));
    expect(relisted.items.map((b: { slug: string }) => b.slug)).toContain("new-arrival");
  });
});
