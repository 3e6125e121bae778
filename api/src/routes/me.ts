import { Hono } from "hono";
import type { ApiContext } from "../context.ts";
import { doc } from "../http/openapi.ts";
import type { AppEnv } from "../http/types.ts";
import { NoQuery, query } from "../http/validate.ts";
import { Me } from "../schemas.ts";
import { getUser } from "../services/accounts.ts";

/** /v1/me: the signed-in user. */
export function meRoutes(ctx: ApiContext) {
  return new Hono<AppEnv>().get(
    "/",
    doc({ summary: "The signed-in user", tags: ["auth"], auth: "user", responses: { 200: Me } }),
    query(NoQuery),
    ctx.auth,
    async (c) => c.json({ user: await getUser(ctx.db, c.get("user").id) }),
  );
}
