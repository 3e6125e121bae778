// The catalog cache: Redis entries under a version number that an import bumps, so one INCR
// invalidates every cached page of the catalog at once.
import type { Redis } from "ioredis";

export interface CatalogCache {
  get<T>(key: string): Promise<T | undefined>;
  set(key: string, value: unknown): Promise<void>;
  invalidate(): Promise<void>;
}

/** No cache: the catalog is read from Postgres every time. */
export const noCatalogCache: CatalogCache = {
  get: async () => undefined,
  set: async () => {},
  invalidate: async () => {},
};

/** A Redis-backed cache; a Redis failure degrades to a miss, never to an error. */
export function redisCatalogCache(redis: Redis, prefix: string, ttlSeconds: number): CatalogCache {
  const versionKey = `${prefix}catalog:version`;
  const entryKey = async (key: string) => `${prefix}catalog:${(await redis.get(versionKey)) ?? "0"}:${key}`;
  return {
    async get<T>(key: string) {
      try {
        const raw = await redis.get(await entryKey(key));
        return raw === null ? undefined : (JSON.parse(raw) as T);
      } catch {
        return undefined;
      }
    },
    async set(key, value) {
      if (ttlSeconds <= 0) return;
      try {
        await redis.set(await entryKey(key), JSON.stringify(value), "EX", ttlSeconds);
      } catch {
        // a cache that cannot be written is only a slower catalog
      }
    },
    async invalidate() {
      await redis.incr(versionKey);
    },
  };
}
