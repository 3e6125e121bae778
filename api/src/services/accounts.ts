// Accounts and sessions: signup, login, logout, and resolving a token's session.
import { AppError } from "@faceapp/core";
import type { Database } from "@faceapp/sql";
import { type Kysely, sql } from "kysely";
import type { User } from "../schemas.ts";
import { hashPassword, verifyPassword } from "./passwords.ts";

export interface SessionGrant {
  user: User;
  sessionId: string;
  expiresAt: Date;
}

export interface AccountOptions {
  scryptLogN: number;
  sessionMinutes: number;
  userAgent?: string | undefined;
}

/** Trimmed, NFC, lower-case: the form emails are stored and compared in. */
export function normalizeEmail(email: string): string {
  return email.normalize("NFC").trim().toLowerCase();
}

function toPublic(row: { id: string; email: string; created_at: Date }): User {
  return { id: row.id, email: row.email, createdAt: row.created_at.toISOString() };
}

async function openSession(
  db: Kysely<Database>,
  userId: string,
  options: AccountOptions,
): Promise<{ sessionId: string; expiresAt: Date }> {
  const expiresAt = new Date(Date.now() + options.sessionMinutes * 60_000);
  const session = await db
    .insertInto("app.sessions")
    .values({
      user_id: userId,
      expires_at: expiresAt,
      revoked_at: null,
      user_agent: options.userAgent?.slice(0, 300) ?? null,
    })
    .returning("id")
    .executeTakeFirstOrThrow();
  return { sessionId: session.id, expiresAt };
}

/** Creates a user and a first session; `email_taken` when the email exists in any case. */
export async function signup(
  db: Kysely<Database>,
  input: { email: string; password: string },
  options: AccountOptions,
): Promise<SessionGrant> {
  const email = normalizeEmail(input.email);
  const passwordHash = await hashPassword(input.password, options.scryptLogN);
  const user = await db
    .insertInto("app.users")
    .values({ email, password_hash: passwordHash })
    .onConflict((oc) => oc.expression(sql`lower(email)`).doNothing())
    .returning(["id", "email", "created_at"])
    .executeTakeFirst();
  if (!user) throw new AppError("email_taken", "An account with this email already exists");
  return { user: toPublic(user), ...(await openSession(db, user.id, options)) };
}

let dummyHash: Promise<string> | undefined;

/** Same answer, and the same scrypt work, for an unknown email and a wrong password. */
export async function login(
  db: Kysely<Database>,
  input: { email: string; password: string },
  options: AccountOptions,
): Promise<SessionGrant> {
  const email = normalizeEmail(input.email);
  const user = await db
    .selectFrom("app.users")
    .select(["id", "email", "password_hash", "created_at"])
    .where((eb) => eb(eb.fn("lower", ["email"]), "=", email))
    .executeTakeFirst();
  dummyHash ??= hashPassword("not a password of anyone", options.scryptLogN);
  const ok = await verifyPassword(input.password, user?.password_hash ?? (await dummyHash));
  if (!user || !ok) throw new AppError("invalid_credentials", "Email or password is wrong");
  return { user: toPublic(user), ...(await openSession(db, user.id, options)) };
}

/** Revokes a session: its tokens stop working at once. */
export async function logout(db: Kysely<Database>, sessionId: string): Promise<void> {
  await db
    .updateTable("app.sessions")
    .set({ revoked_at: new Date() })
    .where("id", "=", sessionId)
    .where("revoked_at", "is", null)
    .execute();
}

/**
 * The user of a live (unrevoked, unexpired) session, or null. POST /v1/personalizations checks the same
 * condition inside its own statement (app.create_personalization; requireAuth's foldedSession).
 */
export async function activeSessionUser(db: Kysely<Database>, userId: string, sessionId: string): Promise<User | null> {
  const row = await db
    .selectFrom("app.sessions as s")
    .innerJoin("app.users as u", "u.id", "s.user_id")
    .select(["u.id", "u.email", "u.created_at"])
    .where("s.id", "=", sessionId)
    .where("s.user_id", "=", userId)
    .where("s.revoked_at", "is", null)
    .where("s.expires_at", ">", new Date())
    .executeTakeFirst();
  return row ? toPublic(row) : null;
}

/** The error for a token whose session has been revoked or has expired. */
export const sessionEnded = () => new AppError("unauthorized", "The session has ended: sign in again");

/** A user by id. */
export async function getUser(db: Kysely<Database>, userId: string): Promise<User> {
  const row = await db
    .selectFrom("app.users")
    .select(["id", "email", "created_at"])
    .where("id", "=", userId)
    .executeTakeFirst();
  if (!row) throw new AppError("not_found", "Not found");
  return toPublic(row);
}
