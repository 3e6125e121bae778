// Fixed-window counters and backoff holds: Redis when configured (shared by every api replica), memory
// otherwise.
import type { Redis } from "ioredis";

export interface RateLimitResult {
  allowed: boolean;
  /** Seconds until the window resets. */
  retryAfter: number;
}

export interface RateLimiter {
  /** Counts one hit on `key`; refused once more than `limit` hits fall in one window. */
  hit(key: string, limit: number, windowSeconds: number): Promise<RateLimitResult>;
  /** Counts one on `key` in a window opened by its first count; returns the count so far. */
  count(key: string, windowSeconds: number): Promise<number>;
  /** Holds `key` for `seconds` (a backoff); `heldFor` says how long is left. */
  hold(key: string, seconds: number): Promise<void>;
  /** Seconds left of a `hold`, 0 when none. */
  heldFor(key: string): Promise<number>;
  /** Forgets a count or a hold. */
  clear(key: string): Promise<void>;
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
    async count(key, windowSeconds) {
      const k = `${prefix}rl:${key}`;
      const result = await redis.multi().incr(k).expire(k, windowSeconds, "NX").exec();
      return Number(result?.[0]?.[1] ?? 0);
    },
    async hold(key, seconds) {
      await redis.set(`${prefix}rl:${key}`, "1", "EX", seconds);
    },
    async heldFor(key) {
      const ttl = await redis.pttl(`${prefix}rl:${key}`);
      return ttl > 0 ? Math.ceil(ttl / 1000) : 0;
    },
    async clear(key) {
      await redis.del(`${prefix}rl:${key}`);
    },
  };
}

/** Counters in this process: right for one instance, and for development without Redis. */
export function memoryRateLimiter(): RateLimiter {
  const windows = new Map<string, { count: number; resetAt: number }>();
  const live = (key: string, now: number) => {
    const window = windows.get(key);
    return window && window.resetAt > now ? window : undefined;
  };
  const counted = (key: string, windowSeconds: number, now: number) => {
    if (windows.size > 100_000) for (const [k, w] of windows) if (w.resetAt <= now) windows.delete(k);
    let window = live(key, now);
    if (!window) {
      window = { count: 0, resetAt: now + windowSeconds * 1000 };
      windows.set(key, window);
    }
    window.count += 1;
    return window;
  };
  return {
    async hit(key, limit, windowSeconds) {
      const now = Date.now();
      const window = counted(key, windowSeconds, now);
      return { allowed: window.count <= limit, retryAfter: Math.max(1, Math.ceil((window.resetAt - now) / 1000)) };
    },
    async count(key, windowSeconds) {
      return counted(key, windowSeconds, Date.now()).count;
    },
    async hold(key, seconds) {
      windows.set(key, { count: 1, resetAt: Date.now() + seconds * 1000 });
    },
    async heldFor(key) {
      const now = Date.now();
      const window = live(key, now);
      return window ? Math.ceil((window.resetAt - now) / 1000) : 0;
    },
    async clear(key) {
      windows.delete(key);
    },
  };
}

/** Redis first; while Redis fails, counting goes on in memory rather than refusing every login. */
export function withFallback(
  primary: RateLimiter,
  fallback: RateLimiter,
  onError: (err: unknown) => void,
): RateLimiter {
  const either =
    <A extends unknown[], R>(call: (limiter: RateLimiter, ...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      try {
        return await call(primary, ...args);
      } catch (err) {
        onError(err);
        return call(fallback, ...args);
      }
    };
  return {
    hit: either((l, key: string, limit: number, windowSeconds: number) => l.hit(key, limit, windowSeconds)),
    count: either((l, key: string, windowSeconds: number) => l.count(key, windowSeconds)),
    hold: either((l, key: string, seconds: number) => l.hold(key, seconds)),
    heldFor: either((l, key: string) => l.heldFor(key)),
    clear: either((l, key: string) => l.clear(key)),
  };
}
