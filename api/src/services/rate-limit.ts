// Fixed-window counters: Redis when configured (shared by every api replica), memory otherwise.
import type { Redis } from "ioredis";

export interface RateLimitResult {
  allowed: boolean;
  /** Seconds until the window resets. */
  retryAfter: number;
}

export interface RateLimiter {
  /** Counts one hit on `key`; refused once more than `limit` hits fall in one window. */
  hit(key: string, limit: number, windowSeconds: number): Promise<RateLimitResult>;
}

/** Counters in Redis: INCR plus an expiry set by the first hit of a window. */
export function redisRateLimiter(redis: Redis, prefix: string): RateLimiter {
  return {
    async hit(key, limit, windowSeconds) {
      const k = `${prefix}rl:${key}`;
      const result = await redis.multi().incr(k).expire(k, windowSeconds, "NX").pttl(k).exec();
      const count = Number(result?.[0]?.[1] ?? 0);
      const ttl = Number(result?.[2]?.[1] ?? windowSeconds * 1000);
      return { allowed: count <= limit, retryAfter: Math.max(1, Math.ceil(ttl / 1000)) };
    },
  };
}

/** Counters in this process: right for one instance, and for development without Redis. */
export function memoryRateLimiter(): RateLimiter {
  const windows = new Map<string, { count: number; resetAt: number }>();
  return {
    async hit(key, limit, windowSeconds) {
      const now = Date.now();
      if (windows.size > 100_000) for (const [k, w] of windows) if (w.resetAt <= now) windows.delete(k);
      let window = windows.get(key);
      if (!window || window.resetAt <= now) {
        window = { count: 0, resetAt: now + windowSeconds * 1000 };
        windows.set(key, window);
      }
      window.count += 1;
      return { allowed: window.count <= limit, retryAfter: Math.max(1, Math.ceil((window.resetAt - now) / 1000)) };
    },
  };
}

/** Redis first; while Redis fails, counting goes on in memory rather than refusing every login. */
export function withFallback(
  primary: RateLimiter,
  fallback: RateLimiter,
  onError: (err: unknown) => void,
): RateLimiter {
  return {
    async hit(key, limit, windowSeconds) {
      try {
        return await primary.hit(key, limit, windowSeconds);
      } catch (err) {
        onError(err);
        return fallback.hit(key, limit, windowSeconds);
      }
    },
  };
}
