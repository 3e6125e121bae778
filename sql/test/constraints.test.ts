import { describe, expect, it } from "vitest";
import { useTestDatabase } from "@faceapp/testkit";

const t = useTestDatabase();
const hash = "$scrypt$n=16384,r=8,p=1$c2FsdA$aGFzaA";

async function user(email: string) {
  return t.db.insertInto("app.users").values({ email, password_hash: hash }).returning("id").executeTakeFirstOrThrow();
}

async function upload(ownerId: string) {
  return t.db
    .insertInto("app.uploads")
    .values({
      owner_id: ownerId,
      object_key: `uploads/${ownerId}/${crypto.randomUUID()}`,
      content_type: "image/png",
      declared_bytes: 1000,
    })
    .returning("id")
    .executeTakeFirstOrThrow();
}

async function book(slug: string) {
  return t.db
    .insertInto("app.books")
    .values({
      slug,
      title: "T",
      category: "adventure",
      age_min: 2,
      age_max: 6,
      manifest_key: "m",
      manifest: {},
      cover_key: "c",
      page_count: 24,
    })
    .returning("id")
    .executeTakeFirstOrThrow();
}

describe("users", () => {
  it("refuses the same email in another case", async () => {
    await user("ada@example.com");
    await expect(
      t.sql`insert into app.users (email, password_hash) values ('ADA@example.com', ${hash})`,
    ).rejects.toThrow(/check constraint|users_email_key/);
    await expect(user("ada@example.com")).rejects.toThrow(/users_email_key/);
  });

  it("refuses an email that is not normalised and a fast password hash", async () => {
    await expect(user(" Bob@Example.com")).rejects.toThrow(/users_email_check/);
    await expect(
      t.db
        .insertInto("app.users")
        .values({ email: "md5@example.com", password_hash: "5f4dcc3b5aa765d61d8327deb882cf99" })
        .execute(),
    ).rejects.toThrow(/password_hash_check/);
  });
});

describe("uploads", () => {
  it("refuses an unknown status, a disallowed type and a size over 15 MiB", async () => {
    const { id } = await user("up@example.com");
    const { id: uploadId } = await upload(id);
    await expect(
      t.db
        .updateTable("app.uploads")
        .set({ status: "lost" as never })
        .where("id", "=", uploadId)
        .execute(),
    ).rejects.toThrow(/uploads_status_check/);
    await expect(
      t.db
        .insertInto("app.uploads")
        .values({ owner_id: id, object_key: "k1", content_type: "text/html" as never, declared_bytes: 10 })
        .execute(),
    ).rejects.toThrow(/content_type_check/);
    await expect(
      t.db
        .insertInto("app.uploads")
        .values({ owner_id: id, object_key: "k2", content_type: "image/png", declared_bytes: 15 * 1024 * 1024 + 1 })
        .execute(),
    ).rejects.toThrow(/declared_bytes_check/);
  });

  it("refuses 'ready' without the measured facts", async () => {
    const { id } = await user("ready@example.com");
    const { id: uploadId } = await upload(id);
    await expect(
      t.db.updateTable("app.uploads").set({ status: "ready" }).where("id", "=", uploadId).execute(),
    ).rejects.toThrow(/check/);
  });

  it("refuses a dangling owner", async () => {
    await expect(upload(crypto.randomUUID())).rejects.toThrow(/foreign key/);
  });
});

describe("personalizations", () => {
  it("refuses another user's photo, an unknown status and more than 3 regenerations", async () => {
    const a = await user("a@example.com");
    const b = await user("b@example.com");
    const photoOfB = await upload(b.id);
    const { id: bookId } = await book("a-book");
    await expect(
      t.db
        .insertInto("app.personalizations")
        .values({ owner_id: a.id, book_id: bookId, photo_upload_id: photoOfB.id, seed: 1 })
        .execute(),
    ).rejects.toThrow(/foreign key/);

    const photoOfA = await upload(a.id);
    const p = await t.db
      .insertInto("app.personalizations")
      .values({ owner_id: a.id, book_id: bookId, photo_upload_id: photoOfA.id, seed: 1 })
      .returning(["id", "status"])
      .executeTakeFirstOrThrow();
    expect(p.status).toBe("analyzing");
    await expect(
      t.db
        .updateTable("app.personalizations")
        .set({ status: "done" as never, analysis: { ok: true } })
        .where("id", "=", p.id)
        .execute(),
    ).rejects.toThrow(/status_check/);
    // Nothing ever set `uploaded` (migration 0004): the database no longer has it.
    await expect(
      t.db
        .updateTable("app.personalizations")
        .set({ status: "uploaded" as never, analysis: { ok: true } })
        .where("id", "=", p.id)
        .execute(),
    ).rejects.toThrow(/status_check/);
    await expect(
      t.db.updateTable("app.personalizations").set({ regenerate_count: 4 }).where("id", "=", p.id).execute(),
    ).rejects.toThrow(/regenerate_count_check/);
  });

  it("refuses a dangling book and a reused idempotency key of one owner", async () => {
    const a = await user("c@example.com");
    const photo = await upload(a.id);
    await expect(
      t.db
        .insertInto("app.personalizations")
        .values({ owner_id: a.id, book_id: crypto.randomUUID(), photo_upload_id: photo.id, seed: 1 })
        .execute(),
    ).rejects.toThrow(/foreign key/);
    const { id: bookId } = await book("b-book");
    const row = {
      owner_id: a.id,
      book_id: bookId,
      photo_upload_id: photo.id,
      seed: 2,
      idempotency_key: "k",
      request_hash: "h",
    };
    await t.db.insertInto("app.personalizations").values(row).execute();
    await expect(t.db.insertInto("app.personalizations").values(row).execute()).rejects.toThrow(/idempotency_key/);
  });
});

describe("pages, events, heartbeats", () => {
  it("refuse bad pages, unknown event types and unknown runner kinds", async () => {
    const a = await user("p@example.com");
    const photo = await upload(a.id);
    const { id: bookId } = await book("c-book");
    const { id } = await t.db
      .insertInto("app.personalizations")
      .values({ owner_id: a.id, book_id: bookId, photo_upload_id: photo.id, seed: 3 })
      .returning("id")
      .executeTakeFirstOrThrow();
    const page = { personalization_id: id, stage: "preview" as const, needs_face: true, seed: 3 };
    await t.db
      .insertInto("app.personalization_pages")
      .values({ ...page, page: "page_23" })
      .execute();
    await expect(
      t.db
        .insertInto("app.personalization_pages")
        .values({ ...page, page: "page_24" })
        .execute(),
    ).rejects.toThrow(/page_check/);
    await expect(
      t.db
        .insertInto("app.personalization_pages")
        .values({ ...page, page: "page_1", status: "done" })
        .execute(),
    ).rejects.toThrow(/check/);
    await expect(
      t.db
        .insertInto("app.events")
        .values({ personalization_id: id, type: "gossip" as never, data: {} })
        .execute(),
    ).rejects.toThrow(/type_check/);
    await expect(
      t.db
        .insertInto("app.events")
        .values({ personalization_id: crypto.randomUUID(), type: "status", data: {} })
        .execute(),
    ).rejects.toThrow(/foreign key/);
    await expect(
      t.db
        .insertInto("app.runner_heartbeats")
        .values({ worker_id: "w", kind: "cpu" as never, host: "h", pid: 1 })
        .execute(),
    ).rejects.toThrow(/kind_check/);
  });
});
