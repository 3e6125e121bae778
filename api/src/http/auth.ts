// Authentication: a bearer token (mobile) or the httpOnly session cookie (browsers; EventSource
// cannot send headers). Cookie requests that change state must also pass the CSRF check.
import { AppError } from "@faceapp/core";
import type { Database } from "@faceapp/sql";
import type { Context, MiddlewareHandler } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import type { Kysely } from "kysely";
import { activeSessionUser, sessionEnded } from "../services/accounts.ts";
import { type TokenConfig, verifyToken } from "../services/tokens.ts";
import { renderError } from "./errors.ts";
import type { AppEnv } from "./types.ts";

export const SESSION_COOKIE = "faceapp_session";
/** The header a same-origin script may send instead of relying on Origin. */
export const CSRF_HEADER = "x-requested-with";

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

export interface AuthConfig {
  db: Kysely<Database>;
  tokens: TokenConfig;
  /** Origins trusted to send cookie-authenticated requests that change state. */
  allowedOrigins: string[];
}

/** Parses WEB_ORIGIN's comma-separated list. */
export function parseOrigins(value: string): string[] {
  return value
    .split(",")
    .map((origin) => origin.trim().replace(/\/$/, ""))
    .filter(Boolean);
}

/**
 * Cookie requests that change state need an allowed Origin (or, when a client sends no Origin, the
 * X-Requested-With header, which a cross-site form cannot add); a foreign Origin is always refused.
 */
export function checkCsrf(c: Context, allowedOrigins: string[]): void {
  if (SAFE_METHODS.has(c.req.method)) return;
  const origin = c.req.header("origin");
  const ownOrigin = new URL(c.req.url).origin;
  if (origin) {
    if (origin === ownOrigin || allowedOrigins.includes(origin)) return;
    throw new AppError("forbidden", "Cross-site request refused");
  }
  if (c.req.header(CSRF_HEADER)) return;
  throw new AppError("forbidden", "Cross-site request refused: send Origin or X-Requested-With");
}

/** Marks the middleware of `requireAuth` with `foldedSession`, so a test finds the routes using it. */
export const FOLDED_SESSION = Symbol("foldedSession");

/**
 * Requires a signed-in user: sets `user` or throws `unauthorized`.
 *
 * With `foldedSession`, the session row is not read here: the route's own statement checks it
 * (the condition of `activeSessionUser`, in the same statement as the write, so nothing is written for
 * an ended session: app.create_personalization) and
 * then calls `sessionChecked(c)`, which saves a round trip to Postgres per request (bench:api). Any
 * answer the route gives without that call (an error before its statement ran, a read-only reply) is
 * held back until the session is read here, and becomes a 401 if it has ended, so what a client sees
 * is the same as with the check in front. A route may change state under `foldedSession` only in
 * statements that check the session: api/test/auth.security.test.ts finds every route that uses it
 * (`FOLDED_SESSION`) and fails unless it lists a request of that route that writes with a live
 * session and is proven to write nothing with an ended one. Only POST /v1/personalizations uses it,
 * where it measured more than 15 % of the route's rate (bench/README.md).
 */
export function requireAuth(config: AuthConfig, options: { foldedSession?: boolean } = {}): MiddlewareHandler<AppEnv> {
  const middleware: MiddlewareHandler<AppEnv> = async (c, next) => {
    const header = c.req.header("authorization");
    let token: string | undefined;
    let via: "bearer" | "cookie";
    if (header !== undefined) {
      const match = /^Bearer ([A-Za-z0-9._~+/=-]+)$/.exec(header.trim());
      if (!match) throw new AppError("unauthorized", "Use Authorization: Bearer <token>");
      token = match[1];
      via = "bearer";
    } else {
      token = getCookie(c, SESSION_COOKIE);
      via = "cookie";
    }
    if (!token) throw new AppError("unauthorized", "Sign in first");
    const claims = await verifyToken(config.tokens, token);
    const live = async () => (await activeSessionUser(config.db, claims.userId, claims.sessionId)) !== null;
    if (!options.foldedSession) {
      if (!(await live())) throw sessionEnded();
      if (via === "cookie") checkCsrf(c, config.allowedOrigins);
    } else if (via === "cookie") {
      try {
        checkCsrf(c, config.allowedOrigins);
      } catch (error) {
        if (!(await live())) throw sessionEnded();
        throw error;
      }
    }
    c.set("user", { id: claims.userId, sessionId: claims.sessionId, via, expiresAtMs: claims.expiresAtMs });
    c.set("sessionChecked", !options.foldedSession);
    await next();
    if (!c.get("sessionChecked") && !(await live())) c.res = renderError(sessionEnded(), c);
  };
  return options.foldedSession ? Object.assign(middleware, { [FOLDED_SESSION]: true }) : middleware;
}

/** Tells `requireAuth` (foldedSession) that this request's statement found its session live. */
export function sessionChecked(c: Context<AppEnv>): void {
  c.set("sessionChecked", true);
}

function isLocalhost(c: Context): boolean {
  const host = new URL(c.req.url).hostname;
  return host === "localhost" || host === "127.0.0.1" || host === "[::1]" || host.endsWith(".localhost");
}

/** Sets the session cookie: httpOnly, SameSite=Lax, Secure everywhere but localhost. */
export function setSessionCookie(c: Context, token: string, expiresAt: Date): void {
  setCookie(c, SESSION_COOKIE, token, {
    httpOnly: true,
    sameSite: "Lax",
    secure: !isLocalhost(c),
    path: "/",
    expires: expiresAt,
  });
}

/** Clears the session cookie. */
export function clearSessionCookie(c: Context): void {
  deleteCookie(c, SESSION_COOKIE, { path: "/", secure: !isLocalhost(c), httpOnly: true, sameSite: "Lax" });
}
