import { createHash } from "node:crypto";
import { AppError } from "@faceapp/core";
import { Hono } from "hono";
import type { ApiContext } from "../context.ts";
import { clearSessionCookie, setSessionCookie } from "../http/auth.ts";
import { clientIp, enforceRateLimits } from "../http/client.ts";
import { doc } from "../http/openapi.ts";
import type { AppEnv } from "../http/types.ts";
import { emptyBody, json, NoQuery, query } from "../http/validate.ts";
import { AuthResult, Credentials, Session } from "../schemas.ts";
import { getUser, login, logout, normalizeEmail, type SessionGrant, signup } from "../services/accounts.ts";
import { signToken } from "../services/tokens.ts";

/** /v1/auth: signup, login, logout. */
export function authRoutes(ctx: ApiContext) {
  const { env } = ctx;
  const options = (userAgent: string | undefined) => ({
    scryptLogN: env.PASSWORD_SCRYPT_LOG_N,
    sessionMinutes: env.JWT_ACCESS_TOKEN_EXPIRE_MINUTES,
    userAgent,
  });

  const limit = async (action: string, ip: string, email: string) => {
    const emailKey = createHash("sha256").update(normalizeEmail(email)).digest("hex").slice(0, 32);
    await enforceRateLimits(
      ctx.limiter,
      [
        { key: `${action}:ip:${ip}`, limit: env.AUTH_RATE_LIMIT_PER_IP },
        { key: `${action}:email:${emailKey}`, limit: env.AUTH_RATE_LIMIT_PER_EMAIL },
      ],
      env.AUTH_RATE_LIMIT_WINDOW_SECONDS,
    );
  };

  const grant = async (grant: SessionGrant) => ({
    token: await signToken(ctx.tokens, { userId: grant.user.id, sessionId: grant.sessionId }, grant.expiresAt),
    user: grant.user,
  });

  return new Hono<AppEnv>()
    .post(
      "/signup",
      doc({ summary: "Create an account", tags: ["auth"], responses: { 201: AuthResult } }),
      json(Credentials),
      async (c) => {
        const input = c.req.valid("json");
        await limit("signup", clientIp(c, env.TRUST_PROXY), input.email);
        const session = await signup(ctx.db, input, options(c.req.header("user-agent")));
        const body = await grant(session);
        setSessionCookie(c, body.token, session.expiresAt);
        return c.json(body, 201);
      },
    )
    .post(
      "/login",
      doc({ summary: "Sign in", tags: ["auth"], responses: { 200: AuthResult } }),
      json(Credentials),
      async (c) => {
        const input = c.req.valid("json");
        await limit("login", clientIp(c, env.TRUST_PROXY), input.email);
        const session = await login(ctx.db, input, options(c.req.header("user-agent")));
        const body = await grant(session);
        setSessionCookie(c, body.token, session.expiresAt);
        return c.json(body, 200);
      },
    )
    .get(
      "/session",
      doc({
        summary: "Who is signed in: the user, or null without a live session (never 401)",
        tags: ["auth"],
        responses: { 200: Session },
      }),
      query(NoQuery),
      async (c) => {
        // The same check as every signed-in route; only its "not signed in" becomes an answer.
        let userId: string | null = null;
        try {
          await ctx.auth(c, async () => {
            userId = c.get("user").id;
          });
        } catch (error) {
          if (!(error instanceof AppError && error.code === "unauthorized")) throw error;
        }
        return c.json({ user: userId ? await getUser(ctx.db, userId) : null }, 200);
      },
    )
    .post(
      "/logout",
      doc({ summary: "Sign out: the token stops working", tags: ["auth"], auth: "user", responses: { 204: null } }),
      emptyBody(),
      ctx.auth,
      async (c) => {
        await logout(ctx.db, c.get("user").sessionId);
        clearSessionCookie(c);
        return c.body(null, 204);
      },
    );
}
