import { sql } from "kysely";
import { describe, expect, it } from "vitest";
import { bearer, body, jsonInit, signUp, useApi, book, createPersonalization, readyPhoto } from "@faceapp/testkit/api";

const api = useApi();

async function started() {
  const user = await signUp(api.app);
  const photo = await readyPhoto(api.app, user.token);
  const res = await createPersonalization(api.app, user.token, "error-book", photo);
  expect(res.status).toBe(202);
  return { user, id: (await body(res)).id as string, photo };
}

/** Puts a personalisation in a state directly (with an analysis, as every state past it has one). */
const setStatus = (id: string, status: string, extra = sql``) =>
  sql`update app.personalizations set status = ${status}, analysis = '{"ok":true}' ${extra} where id = ${id}`.execute(
    api.pg.db,
  );

describe("personalisations refuse", () => {
  it("an unknown book, an unverified photo, a missing photo", async () => {
    await book(api, { slug: "error-book" });
    const user = await signUp(api.app);
    const photo = await readyPhoto(api.app, user.token);
    expect((await body(await createPersonalization(api.app, user.token, "no-such-book", photo))).error.code).toBe(
      "not_found",
    );
    const pending = await body(
      await api.app.request(
        "/v1/uploads",
        jsonInit("POST", { contentType: "image/png", byteSize: 100 }, bearer(user.token)),
      ),
    );
    const res = await createPersonalization(api.app, user.token, "error-book", pending.id);
    expect(res.status).toBe(409);
    expect((await body(res)).error.code).toBe("invalid_state");
    expect((await createPersonalization(api.app, user.token, "error-book", crypto.randomUUID())).status).toBe(404);
  });

  it("invalid bodies, with the envelope and without echoing the input", async () => {
    const { user, id } = await started();
    const cases: [string, string, unknown][] = [
      ["POST", "/v1/personalizations", { bookSlug: "error-book" }],
      ["POST", "/v1/personalizations", { bookSlug: "error-book", photoUploadId: "x", extra: "<script>" }],
      ["POST", `/v1/personalizations/${id}/generate`, { childName: "" }],
      ["POST", `/v1/personalizations/${id}/generate`, { childName: "Ada<script>" }],
      ["POST", `/v1/personalizations/${id}/generate`, { childName: "A".repeat(41) }],
      ["POST", `/v1/personalizations/${id}/generate`, { childName: "Ada", childAge: 40 }],
      ["POST", `/v1/personalizations/${id}/generate`, { childName: "Ada", childGender: "robot" }],
      ["PUT", `/v1/personalizations/${id}/photo`, { photoUploadId: 12 }],
      ["POST", `/v1/personalizations/${id}/regenerate`, { please: true }],
      ["POST", `/v1/personalizations/${id}/generate`, "{not json"],
    ];
    for (const [method, path, payload] of cases) {
      const res = await api.app.request(path, jsonInit(method, payload, bearer(user.token)));
      expect(res.status, `${method} ${path} ${JSON.stringify(payload)}`).toBe(400);
      const text = await res.text();
      expect(JSON.parse(text).error.code).toBe("invalid_input");
      expect(text).not.toContain("<script>");
    }
  });

  it("state changes that the state machine does not allow, with 409 invalid_state", async () => {
    const { user, id } = await started();
    const post = (action: string, payload: unknown = {}) =>
      api.app.request(`/v1/personalizations/${id}/${action}`, jsonInit("POST", payload, bearer(user.token)));
    // analyzing: nothing but cancel
    for (const action of ["regenerate", "confirm"]) expect((await post(action)).status).toBe(409);
    expect((await post("generate", { childName: "Ada" })).status).toBe(409);
    await setStatus(id, "analysis_failed");
    expect((await post("generate", { childName: "Ada" })).status).toBe(409);
    await setStatus(id, "completed");
    const res = await post("cancel");
    expect(res.status).toBe(409);
    expect((await body(res)).error).toMatchObject({ code: "invalid_state", details: { status: "completed" } });
    expect(
      (await api.app.request(`/v1/personalizations/${id}/files/block.pdf`, { headers: bearer(user.token) })).status,
    ).toBe(409);
  });

  it("a fourth regeneration", async () => {
    const { user, id } = await started();
    await setStatus(id, "preview_ready", sql`, regenerate_count = 3`);
    const res = await api.app.request(`/v1/personalizations/${id}/regenerate`, {
      method: "POST",
      headers: bearer(user.token),
    });
    expect(res.status).toBe(409);
    expect((await body(res)).error.details).toMatchObject({ regenerationsLeft: 0 });
  });

  it("an Idempotency-Key reused with another body, and gives back the same resource for the same body", async () => {
    const user = await signUp(api.app);
    const photo = await readyPhoto(api.app, user.token);
    const other = await readyPhoto(api.app, user.token);
    const key = { "idempotency-key": "order-42" };
    const first = await createPersonalization(api.app, user.token, "error-book", photo, key);
    const again = await createPersonalization(api.app, user.token, "error-book", photo, key);
    expect(first.status).toBe(202);
    expect(again.status).toBe(202);
    const replayed = (await body(again)).id;
    const conflict = await createPersonalization(api.app, user.token, "error-book", other, key);
    expect(conflict.status).toBe(409);
    expect((await body(conflict)).error.code).toBe("conflict");
    const { count } = await api.pg.db
      .selectFrom("app.personalizations")
      .select((eb) => eb.fn.countAll<number>().as("count"))
      .where("idempotency_key", "=", "order-42")
      .executeTakeFirstOrThrow();
    expect(Number(count)).toBe(1);
    const id = (await body(first)).id as string;
    expect(replayed).toBe(id);
    const key42 = `analyze_photo:${id}`;
    const jobs = await sql<{
      n: number;
    }>`select count(*)::int as n from graphile_worker.jobs where key = ${key42}`.execute(api.pg.db);
    expect(jobs.rows[0]?.n).toBe(1);
    expect(
      (await createPersonalization(api.app, user.token, "error-book", photo, { "idempotency-key": "" })).status,
    ).toBe(400);
    expect(
      (await createPersonalization(api.app, user.token, "error-book", photo, { "idempotency-key": "é" })).status,
    ).toBe(400);
  });
});

describe("concurrent creates with one Idempotency-Key", () => {
  it("make one personalisation, one analysis job and one status event, and give it to every request", async () => {
    const user = await signUp(api.app);
    const photo = await readyPhoto(api.app, user.token);
    const key = { "idempotency-key": "order-race" };
    const all = await Promise.all(
      Array.from({ length: 8 }, () => createPersonalization(api.app, user.token, "error-book", photo, key)),
    );
    expect(all.map((r) => r.status)).toEqual(Array(8).fill(202));
    const ids = new Set(await Promise.all(all.map(async (r) => (await body(r)).id as string)));
    expect(ids.size).toBe(1);
    const [id] = [...ids];
    const counts = await sql<{ rows: number; jobs: number; events: number }>`
      select (select count(*)::int from app.personalizations where owner_id = ${user.user.id}) as rows,
             (select count(*)::int from graphile_worker.jobs where key = ${`analyze_photo:${id}`}) as jobs,
             (select count(*)::int from app.events where personalization_id = ${id}) as events`.execute(api.pg.db);
    expect(counts.rows[0]).toEqual({ rows: 1, jobs: 1, events: 1 });
  });
});

describe("names", () => {
  it("are normalised: NFC, trimmed, inner spaces collapsed; any script, apostrophes and hyphens", async () => {
    const { user, id } = await started();
    await setStatus(id, "analyzed");
    const decomposed = "  Zoe\u0301   O’Brien-Ковальчук ";
    const res = await api.app.request(
      `/v1/personalizations/${id}/generate`,
      jsonInit("POST", { childName: decomposed, childAge: 5 }, bearer(user.token)),
    );
    expect(res.status).toBe(202);
    const view = await body(res);
    expect(view.childName).toBe("Zoé O’Brien-Ковальчук");
    expect(view.childName.normalize("NFC")).toBe(view.childName);
    expect(view.status).toBe("preview_generating");
  });
});

describe("the list", () => {
  it("pages newest first without skipping rows created in the same instant, and refuses a forged cursor", async () => {
    await book(api, { slug: "list-book" });
    const user = await signUp(api.app);
    const photo = await readyPhoto(api.app, user.token);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++)
      ids.push((await body(await createPersonalization(api.app, user.token, "list-book", photo))).id);
    // Two rows in the same millisecond but different microseconds, the case a JS Date cursor loses.
    await sql`update app.personalizations set created_at = '2026-01-01 00:00:00.000100+00' where id = ${ids[1]}`.execute(
      api.pg.db,
    );
    await sql`update app.personalizations set created_at = '2026-01-01 00:00:00.000900+00' where id = ${ids[2]}`.execute(
      api.pg.db,
    );
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor ? `?limit=2&cursor=${cursor}` : "?limit=2";
      const res = await api.app.request(`/v1/personalizations${query}`, { headers: bearer(user.token) });
      expect(res.status).toBe(200);
      const page = await body(res);
      seen.push(...page.items.map((p: { id: string }) => p.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toHaveLength(5);
    expect(new Set(seen)).toEqual(new Set(ids));
    expect(seen.slice(-2)).toEqual([ids[2], ids[1]]);
    const forged = [
      Buffer.from(JSON.stringify(["2026-01-01 00:00:00+00", "-".repeat(36)])).toString("base64url"),
      Buffer.from(JSON.stringify(["+275760-09-13", crypto.randomUUID()])).toString("base64url"),
      Buffer.from("not json").toString("base64url"),
    ];
    for (const bad of forged) {
      const res = await api.app.request(`/v1/personalizations?cursor=${bad}`, { headers: bearer(user.token) });
      expect(res.status).toBe(400);
      expect((await body(res)).error.code).toBe("invalid_input");
    }
  });
});
