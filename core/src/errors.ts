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
