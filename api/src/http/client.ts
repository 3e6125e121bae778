import { getConnInfo } from "@hono/node-server/conninfo";
import { AppError } from "@faceapp/core";
import type { Context } from "hono";
import type { RateLimiter } from "../services/rate-limit.ts";

/** The client's IP: X-Forwarded-For's first hop behind a trusted proxy, else the socket's address. */
export function clientIp(c: Context, trustProxy: boolean): string {
  if (trustProxy) {
    const forwarded = c.req.header("x-forwarded-for")?.split(",")[0]?.trim();
    if (forwarded) return forwarded;
  }
  try {
    return getConnInfo(c).remote.address ?? "unknown";
  } catch {
    return "unknown"; // app.request() in tests has no socket
  }
}

/** Counts one hit on each key and throws `rate_limited` (with Retry-After) when any is over. */
export async function enforceRateLimits(
  limiter: RateLimiter,
  rules: { key: string; limit: number }[],
  windowSeconds: number,
): Promise<void> {
  let retryAfter = 0;
  for (const rule of rules) {
    const result = await limiter.hit(rule.key, rule.limit, windowSeconds);
    if (!result.allowed) retryAfter = Math.max(retryAfter, result.retryAfter);
  }
  if (retryAfter > 0) throw new AppError("rate_limited", "Too many attempts: try again later", { retryAfter });
}
