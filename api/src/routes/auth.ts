import { AppError } from "@faceapp/core";
import { type Context, Hono } from "hono";
import type { ApiContext } from "../context.ts";
import { clearSessionCookie, setSessionCookie } from "../http/auth.ts";
import { clientIp } from "../http/client.ts";
import { doc } from "../http/openapi.ts";
import type { AppEnv } from "../http/types.ts";
import { emptyBody, json, NoQuery, query } from "../http/validate.ts";
import { AuthResult, Credentials, Session } from "../schemas.ts";
import { getUser, login, logout, normalizeEmail, type SessionGrant, signup } from "../services/accounts.ts";
import { loginGuard } from "../services/login-guard.ts";
import { signToken } from "../services/tokens.ts";

/** /v1/auth: signup, login, logout. */
export function authRoutes(ctx: ApiContext) {
  const { env } = ctx;
  const options = (userAgent: string | undefined) => ({
    scryptLogN: env.PASSWORD_SCRYPT_LOG_N,
    sessionMinutes: env.JWT_ACCESS_TOKEN_EXPIRE_MINUTES,
    userAgent,
  });

  const guard = loginGuard(ctx.limiter, {
    perIp: env.AUTH_RATE_LIMIT_PER_IP,
    perIpAndEmail: env.AUTH_RATE_LIMIT_PER_IP_EMAIL,
    perEmail: env.AUTH_RATE_LIMIT_PER_EMAIL,
    windowSeconds: env.AUTH_RATE_LIMIT_WINDOW_SECONDS,
  });
  /** Runs a signup or login under the guard: admitted first, its refusal or success counted after. */
  const guarded = async <T>(action: "login" | "signup", c: Context, email: string, attempt: () => Promise<T>) => {
    const ip = clientIp(c, env.TRUST_PROXY);
    const account = normalizeEmail(email);
    await guard.admit(action, ip, account);
    try {
      const result = await attempt();
      await guard.succeeded(action, ip, account);
      return result;
    } catch (error) {
      if (error instanceof AppError && (error.code === "invalid_credentials" || error.code === "email_taken"))
        await guard.failed(action, ip, account);
      throw error;
    }
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
        const session = await guarded("signup", c, input.email, () =>
          signup(ctx.db, input, options(c.req.header("user-agent"))),
        );
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
        const session = await guarded("login", c, input.email, () =>
          login(ctx.db, input, options(c.req.header("user-agent"))),
        );
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
