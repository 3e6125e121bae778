import { getConnInfo } from "@hono/node-server/conninfo";
import { AppError } from "@faceapp/core";
import type { Context } from "hono";
import type { RateLimiter } from "../services/rate-limit.ts";

/**
 * The client's IP. Behind `trustedHops` proxies (TRUST_PROXY) each one appends the address it saw to
 * X-Forwarded-For, so the entry `trustedHops` from the right is the one the outermost trusted proxy
 * wrote; everything left of it the client may have written itself, and is never read. A request that
 * brings fewer entries did not pass every trusted proxy: the socket's address is used. 0 trusts none.
 */
export function clientIp(c: Context, trustedHops: number): string {
  if (trustedHops > 0) {
    const entries = (c.req.header("x-forwarded-for") ?? "").split(",").map((e) => e.trim());
    const entry = entries.length >= trustedHops ? entries[entries.length - trustedHops] : undefined;
    if (entry) return entry;
  }
  return socketIp(c);
}

function socketIp(c: Context): string {
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
