import { insertEvent } from "@faceapp/core";
import { body, book, createPersonalization, readyPhoto, signUp, useApi } from "@faceapp/testkit/api";
import { describe, expect, it } from "vitest";
import { lostEvents } from "../src/services/lost-events.ts";

const api = useApi();

describe("the check for lost publishes", () => {
  it("tells, in one query for every stream, those whose book has events stored after the last one they sent", async () => {
    await book(api, { slug: "lost-book" });
    const user = await signUp(api.app);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const photo = await readyPhoto(api.app, user.token);
      ids.push((await body(await createPersonalization(api.app, user.token, "lost-book", photo))).id);
    }
    const [a, b, c] = ids as [string, string, string];
    const lastOf = async (id: string) =>
      BigInt(
        (
          await api.pg.db
            .selectFrom("app.events")
            .select((e) => e.fn.max("id").as("last"))
            .where("personalization_id", "=", id)
            .executeTakeFirstOrThrow()
        ).last as string,
      );
    const sent = { a: await lastOf(a), b: await lastOf(b), c: await lastOf(c) };
    const check = lostEvents(api.pg.db, 60_000, (err) => {
      throw err;
    });
    const found: string[] = [];
    const forget = [
      check.watch(
        a,
        () => sent.a,
        () => found.push("a"),
      ),
      check.watch(
        b,
        () => sent.b,
        () => found.push("b"),
      ),
      check.watch(
        c,
        () => sent.c,
        () => found.push("c"),
      ),
    ];
    await check.check();
    expect(found).toEqual([]);

    // Stored, never published (Redis down, a runner killed after its commit).
    const lost = await insertEvent(api.pg.db, a, "analysis", { ok: false, code: "x", reason: "lost on the way" });
    await insertEvent(api.pg.db, c, "analysis", { ok: false, code: "x", reason: "lost on the way" });
    await check.check();
    expect(found.sort()).toEqual(["a", "c"]);

    // Once a stream has sent it, it is no longer behind; a forgotten stream is never told.
    sent.a = BigInt(lost.id!);
    forget[2]!();
    found.length = 0;
    await check.check();
    expect(found).toEqual([]);
    for (const f of forget) f();
  });
});
