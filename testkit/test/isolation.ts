import { expect } from "vitest";
import type { TestPg } from "@faceapp/testkit";

/**
 * Both isolation files insert the same email, which is unique: if they shared a database, the
 * second insert would fail whichever order the files run in.
 */
export async function claimSharedEmail(t: TestPg): Promise<void> {
  const [db] = await t.sql`select current_database() as name`;
  expect(db?.name).toBe(t.name);
  expect(t.name).toMatch(/^faceapp_t_/);
  const users = await t.db.selectFrom("app.users").select("email").execute();
  expect(users).toEqual([]);
  await t.db.insertInto("app.users").values({ email: "shared@example.com", password_hash: "$scrypt$x" }).execute();
}
