/** The closed set of error codes every part of faceapp speaks. */
export const errorStatus = {
  invalid_input: 400,
  unauthorized: 401,
  invalid_credentials: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  email_taken: 409,
  invalid_state: 409,
  request_timeout: 408,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  headers_too_large: 431,
  internal: 500,
  unavailable: 503,
} as const;

export type ErrorCode = keyof typeof errorStatus;

/** An expected failure: carries a code from the taxonomy, a message safe to show, optional details. */
export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = "AppError";
  }

  get status(): (typeof errorStatus)[ErrorCode] {
    return errorStatus[this.code];
  }
}

/**
 * A failure the same input meets again on every attempt (a payload that fails its schema, text that
 * cannot fit its box): a job that throws one fails at once with its reason instead of being retried.
 * Subclass it; the runners' task adapter and the typesetter's own retry loop both test `isFinal`.
 */
export class FinalError extends Error {
  readonly retryable = false as const;
}

/** Whether retrying cannot help: a `FinalError`, or any error that says `retryable: false` (FaceEngineError). */
export function isFinal(error: unknown): boolean {
  return (
    error instanceof FinalError ||
    (typeof error === "object" && error !== null && (error as { retryable?: unknown }).retryable === false)
  );
}

// Connection failures of Postgres (postgres.js codes, server shutdown and connection classes 08/57P),
// S3 and Redis: what may succeed in a moment (the api answers 503, not 500; a runner carries on).
const UNREACHABLE_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
  "CONNECT_TIMEOUT",
  "57P01",
  "57P02",
  "57P03",
]);

/** Whether `err`, or an error it was caused by, is one of those. */
export function isUnreachable(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const code = String((e as { code?: unknown }).code ?? "");
    if (UNREACHABLE_CODES.has(code) || code.startsWith("08")) return true;
    if (e instanceof AggregateError && e.errors.some(isUnreachable)) return true;
  }
  return false;
}
