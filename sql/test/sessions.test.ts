// Kysely's sessions when their connection is lost (sessions.ts): the caller gets an error it can
// classify, the process lives on, and the session serves again on a new connection.
import { sql } from "kysely";
import { describe, expect, it } from "vitest";
import { useTestDatabase } from "@faceapp/testkit";
import { createPg, type Pg } from "../src/index.ts";

const t = useTestDatabase();

const terminate = (pid: number) => sql`select pg_terminate_backend(${pid})`.execute(t.db);
const backendPid = async (db: Pg["db"]) =>
  (await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(db)).rows[0]!.pid;

/** The first query after a loss may still meet it (a 503 for the api); one of the next few succeeds. */
async function eventually<T>(query: () => Promise<T>): Promise<T> {
  let last: unknown;
  for (let i = 0; i < 5; i++) {
    try {
      return await query();
    } catch (error) {
      last = error;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw last;
}

describe("a session whose connection is lost", () => {
  it("fails its open transaction, running none of it on a new connection, and serves again", async () => {
    const own = createPg(t.url, { max: 1 });
    try {
      await sql`create table lost_tx (n int)`.execute(own.db);
      const failed = await own.db
        .transaction()
        .execute(async (tx) => {
          await sql`insert into lost_tx values (1)`.execute(tx);
          await terminate(await backendPid(tx));
          // A transaction that carries on after an error: none of it may reach the server on a
          // reconnected session (half a transaction committed), nor hang, nor crash the process
          // (postgres.js writing to the closed socket of a pinned connection).
          await sql`insert into lost_tx values (2)`.execute(tx).catch(() => {});
          await sql`insert into lost_tx values (3)`.execute(tx);
        })
        .then(
          () => null,
          (error: { code?: string }) => error,
        );
      expect(failed?.code).toMatch(/^(CONNECTION_CLOSED|ECONNRESET|57P01)$/);

      const rows = await eventually(() => sql<{ n: number }>`select n from lost_tx`.execute(own.db));
      expect(rows.rows).toEqual([]);
    } finally {
      await own.close();
    }
  });

  it("runs the next plain queries on a new connection", async () => {
    const own = createPg(t.url, { max: 1 });
    try {
      const before = await backendPid(own.db);
      await terminate(before);
      const after = await eventually(() => backendPid(own.db));
      expect(after).not.toBe(before);
      expect(await backendPid(own.db)).toBe(after);
    } finally {
      await own.close();
    }
  });
});

describe("a session's statements", () => {
  it("are prepared once per connection (one round trip each after the first, no parse and plan)", async () => {
    const own = createPg(t.url, { max: 1 });
    try {
      const query = (n: number) => sql<{ n: number }>`select ${n}::int + 1 as n`.execute(own.db);
      expect((await query(1)).rows).toEqual([{ n: 2 }]);
      expect((await query(41)).rows).toEqual([{ n: 42 }]);
      const prepared = await sql<{ statement: string }>`
        select statement from pg_prepared_statements where statement like 'select $1::int + 1%'`.execute(own.db);
      expect(prepared.rows).toHaveLength(1);
      // and forgotten with the connection: the next one prepares again
      await terminate(await backendPid(own.db));
      expect((await eventually(() => query(2))).rows).toEqual([{ n: 3 }]);
    } finally {
      await own.close();
    }
  });
});
