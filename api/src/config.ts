// The api's configuration schema, apart from env.ts so tests and tools can parse their own.
import * as v from "valibot";
import {
  BaseEnv,
  bool,
  defaultDataDir,
  int,
  localSecret,
  requiredInProduction,
  str,
  url,
  webhooksInProduction,
} from "@faceapp/core";

/** Shannon entropy of a string's own character frequencies, in bits per character. */
export function bitsPerChar(text: string): number {
  const counts = new Map<string, number>();
  for (const ch of text) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  const n = [...text].length;
  let bits = 0;
  for (const count of counts.values()) bits -= (count / n) * Math.log2(count / n);
  return bits;
}

/** Whether the text is one shorter string repeated (a prefix of it, as "abcabcab"). */
export function isPeriodic(text: string): boolean {
  for (let p = 1; p <= text.length / 2; p++) if (text.slice(p) === text.slice(0, text.length - p)) return true;
  return false;
}

/**
 * The floor a production JWT_SECRET_KEY must clear, besides its 32 characters: at least 3 bits of
 * entropy per character over its own character frequencies (so at least 8 distinct characters, none
 * dominating: 32 spaces, "abab…", a word repeated are refused; `openssl rand -hex 32` gives 3.4 at the
 * very least, ≈ 3.9 typically, base64 ≈ 5), and not one shorter string repeated. A floor against
 * placeholders and typed patterns, not a proof of randomness.
 */
export const MIN_SECRET_BITS_PER_CHAR = 3;

const strongEnough = (secret: string) => bitsPerChar(secret) >= MIN_SECRET_BITS_PER_CHAR && !isPeriodic(secret);

export const ApiEnv = v.pipe(
  v.object({
    ...BaseEnv,
    PORT: int(8000, 1, 65535),
    HOST: v.optional(str(), "0.0.0.0"),
    JWT_SECRET_KEY: v.optional(v.pipe(v.string(), v.minLength(32, "must be at least 32 characters"))),
    JWT_ALGORITHM: v.optional(v.picklist(["HS256", "HS384", "HS512"], "must be HS256, HS384 or HS512"), "HS256"),
    JWT_ACCESS_TOKEN_EXPIRE_MINUTES: int(10080, 1, 525_600),
    /** The web app's origin(s), comma-separated: CORS and the CSRF origin check. */
    WEB_ORIGIN: v.optional(str(), "http://localhost:8000,http://localhost:5173"),
    /** The S3 endpoint browsers reach, when it differs from AWS_ENDPOINT_URL (MinIO inside compose). */
    S3_PUBLIC_ENDPOINT_URL: v.optional(url()),
    /**
     * Proxies in front of the api that append to X-Forwarded-For (nginx: 1; a load balancer, then
     * nginx: 2): the client IP is the entry this many from the right. `true` is 1, `false` 0.
     */
    TRUST_PROXY: v.optional(
      v.pipe(
        v.string(),
        v.regex(/^(true|false|yes|no|\d{1,2})$/, "must be a number of proxies, or true (1) or false (0)"),
        v.transform((s) => (s === "true" || s === "yes" ? 1 : s === "false" || s === "no" ? 0 : Number(s))),
      ),
      "0",
    ),
    /** Signup/login attempts per client IP in one window, whatever the accounts. */
    AUTH_RATE_LIMIT_PER_IP: int(30, 1),
    /** Failed sign-ins to one account, from all addresses, in one window before every address that
     * fails on it waits (60 s, doubling): a slow-down, never a lockout (api/src/services/login-guard.ts). */
    AUTH_RATE_LIMIT_PER_EMAIL: int(10, 1),
    /** Failed sign-ins from one address to one account before that pair backs off (2 s, doubling). */
    AUTH_RATE_LIMIT_PER_IP_EMAIL: int(5, 1),
    AUTH_RATE_LIMIT_WINDOW_SECONDS: int(900, 1),
    /** scrypt cost as log2(N); 15 (32 MiB, ~100 ms) is the production floor. */
    PASSWORD_SCRYPT_LOG_N: int(15, 10, 20),
    /** Photo uploads (POST /v1/uploads) one user may start in one window. */
    UPLOAD_RATE_LIMIT_PER_USER: int(60, 1),
    UPLOAD_RATE_LIMIT_WINDOW_SECONDS: int(3600, 1),
    /** Apply pending migrations at start (idempotent, under an advisory lock). */
    MIGRATE_ON_START: bool(true),
    /** Seconds a catalog response stays in Redis. */
    CATALOG_CACHE_SECONDS: int(300, 0),
    /** Heartbeat comments on idle event streams; also how often lost publishes and sessions are checked. */
    SSE_HEARTBEAT_SECONDS: int(15, 1, 300),
    /** How often the books waiting for the gpu are placed (one query for all) and their streams told of changes. */
    QUEUE_POSITION_INTERVAL_MS: int(2000, 20, 60_000),
    /** Slow clients (slow-loris): the most a request's headers, and the whole request, may take to arrive. */
    HTTP_HEADERS_TIMEOUT_SECONDS: int(10, 1, 300),
    HTTP_REQUEST_TIMEOUT_SECONDS: int(30, 1, 3600),
    /** Bearer token a scraper sends to read /metrics; unset, /metrics answers 404 (off). */
    METRICS_TOKEN: v.optional(v.pipe(v.string(), v.minLength(16, "must be at least 16 characters"))),
    /** Webhook endpoints one user may register. */
    WEBHOOKS_PER_USER: int(10, 1, 1000),
    /** The built web app to serve (default web/dist when it exists); "off" serves none. */
    WEB_DIST_DIR: v.optional(str()),
  }),
  v.forward(
    v.partialCheck(
      [["NODE_ENV"], ["JWT_SECRET_KEY"]],
      (input) => input.NODE_ENV !== "production" || input.JWT_SECRET_KEY !== undefined,
      "is required in production",
    ),
    ["JWT_SECRET_KEY"],
  ),
  v.forward(
    v.partialCheck(
      [["NODE_ENV"], ["JWT_SECRET_KEY"]],
      (input) =>
        input.NODE_ENV !== "production" || input.JWT_SECRET_KEY === undefined || strongEnough(input.JWT_SECRET_KEY),
      `is too predictable for production (under ${MIN_SECRET_BITS_PER_CHAR} bits of entropy per character, or a pattern repeated): use \`openssl rand -hex 32\``,
    ),
    ["JWT_SECRET_KEY"],
  ),
  requiredInProduction("DATABASE_URL"),
  requiredInProduction("AWS_ENDPOINT_URL"),
  webhooksInProduction("WEBHOOK_ENCRYPTION_KEY"),
  webhooksInProduction("WEBHOOKS_ALLOW_LOCAL"),
  v.forward(
    v.partialCheck(
      [["HTTP_HEADERS_TIMEOUT_SECONDS"], ["HTTP_REQUEST_TIMEOUT_SECONDS"]],
      (input) => input.HTTP_HEADERS_TIMEOUT_SECONDS <= input.HTTP_REQUEST_TIMEOUT_SECONDS,
      "must not be less than HTTP_HEADERS_TIMEOUT_SECONDS",
    ),
    ["HTTP_REQUEST_TIMEOUT_SECONDS"],
  ),
  v.transform((input) => {
    const dataDir = input.DATA_DIR ?? defaultDataDir;
    return {
      ...input,
      DATA_DIR: dataDir,
      // Development only: a random secret generated once and kept in the local data folder.
      JWT_SECRET_KEY: input.JWT_SECRET_KEY ?? localSecret(dataDir, "jwt-secret"),
      WEBHOOK_ENCRYPTION_KEY: input.WEBHOOK_ENCRYPTION_KEY ?? localSecret(dataDir, "webhook-key"),
    };
  }),
);
export type ApiEnv = v.InferOutput<typeof ApiEnv>;
