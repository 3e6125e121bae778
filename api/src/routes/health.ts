import { createHash, timingSafeEqual } from "node:crypto";
import { AppError } from "@faceapp/core";
import { Hono } from "hono";
import { sql } from "kysely";
import type { Registry } from "prom-client";
import type { ApiContext } from "../context.ts";
import type { AppEnv } from "../http/types.ts";
import { pingBucket } from "../services/storage.ts";

const CHECK_TIMEOUT_MS = 2000;

function withTimeout<T>(promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error("timed out")), CHECK_TIMEOUT_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

const digest = (text: string) => createHash("sha256").update(text).digest();

/**
 * /metrics names every route with its counts: only a scraper holding METRICS_TOKEN reads it (compared
 * in constant time); without the variable it is off (404), as if it did not exist.
 */
function requireMetricsToken(token: string | undefined, header: string | undefined): void {
  if (token === undefined) throw new AppError("not_found", "Not found");
  const sent = /^Bearer (\S+)$/.exec(header ?? "")?.[1];
  if (!sent || !timingSafeEqual(digest(sent), digest(token)))
    throw new AppError("unauthorized", "Metrics need Authorization: Bearer <METRICS_TOKEN>");
}

/** /healthz, /readyz, /metrics. */
export function healthRoutes(ctx: ApiContext, registry: Registry) {
  const checks: Record<string, () => Promise<unknown>> = {
    postgres: () => sql`select 1`.execute(ctx.db),
    s3: () => pingBucket(ctx.bucket),
    ...(ctx.redis ? { redis: () => ctx.redis!.ping() } : {}),
  };
  return new Hono<AppEnv>()
    .get("/healthz", (c) => c.json({ status: "ok" }))
    .get("/readyz", async (c) => {
      const results = await Promise.all(
        Object.entries(checks).map(async ([name, check]) => {
          try {
            await withTimeout(check());
            return [name, "ok"] as const;
          } catch (err) {
            c.get("log").warn({ err, check: name }, "readiness check failed");
            return [name, "failed"] as const;
          }
        }),
      );
      const status = Object.fromEntries(results);
      const failed = results.filter(([, s]) => s === "failed").map(([name]) => name);
      if (failed.length === 0) return c.json({ status: "ready", checks: status });
      const requestId = c.get("requestId");
      return c.json(
        {
          error: {
            code: "unavailable",
            message: `Not ready: ${failed.join(", ")}`,
            requestId,
            details: { checks: status },
          },
        },
        503,
      );
    })
    .get("/metrics", async (c) => {
      requireMetricsToken(ctx.env.METRICS_TOKEN, c.req.header("authorization"));
      c.header("Content-Type", registry.contentType);
      return c.body(await registry.metrics());
    });
}
