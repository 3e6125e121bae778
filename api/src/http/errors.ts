import { randomUUID } from "node:crypto";
import { STATUS_CODES } from "node:http";
import { AppError, type ErrorCode, errorStatus, isUnreachable } from "@faceapp/core";
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { HTTPException } from "hono/http-exception";
import * as v from "valibot";
import type { AppEnv } from "./types.ts";

/** The one error envelope every failure is rendered in (OpenAPI's default response of every route). */
export const ErrorEnvelope = v.strictObject({
  error: v.strictObject({
    code: v.picklist(Object.keys(errorStatus) as ErrorCode[]),
    message: v.string(),
    requestId: v.string(),
    details: v.optional(v.record(v.string(), v.unknown())),
  }),
});
export type ErrorBody = v.InferOutput<typeof ErrorEnvelope>;

/** Renders an AppError (or anything else, as a 500 that hides its message) in the error envelope. */
export function renderError(err: unknown, c: Context<AppEnv>): Response {
  const requestId = c.get("requestId") ?? "unknown";
  let appError: AppError;
  if (err instanceof AppError) appError = err;
  else if (err instanceof HTTPException && err.status < 500) appError = fromHttpException(err);
  else if (isUnreachable(err)) {
    (c.get("log") ?? console).warn({ err }, "a store is unreachable");
    c.header("Retry-After", "5");
    appError = new AppError("unavailable", "The service is briefly unavailable; please try again in a moment");
  } else {
    (c.get("log") ?? console).error({ err }, "unhandled error");
    appError = new AppError("internal", "Something went wrong on our side");
  }
  const body: ErrorBody = {
    error: {
      code: appError.code,
      message: appError.message,
      requestId,
      ...(appError.details ? { details: appError.details } : {}),
    },
  };
  if (appError.code === "rate_limited" && typeof appError.details?.retryAfter === "number")
    c.header("Retry-After", String(appError.details.retryAfter));
  return c.json(body, appError.status as ContentfulStatusCode);
}

// Hono's own exceptions (malformed requests caught inside Hono) keep their status; messages are ours.
function fromHttpException(err: HTTPException): AppError {
  const code = (Object.entries(errorStatus).find(([, status]) => status === err.status)?.[0] ??
    "invalid_input") as ErrorCode;
  if (code === "payload_too_large") return new AppError(code, "Request body is too large");
  if (/json/i.test(err.message)) return new AppError(code, "Request body is not valid JSON");
  return new AppError(code, "Malformed request");
}

/**
 * The raw HTTP answer to a request Node's parser refused before the app saw it (headers too large,
 * malformed, too slow to arrive), in the same envelope; null when the client is gone.
 */
export function clientErrorResponse(err: NodeJS.ErrnoException): string | null {
  if (err.code === "ECONNRESET" || err.code === "EPIPE") return null;
  const appError =
    err.code === "HPE_HEADER_OVERFLOW"
      ? new AppError("headers_too_large", "The request line or headers are too large")
      : err.code === "ERR_HTTP_REQUEST_TIMEOUT"
        ? new AppError("request_timeout", "The request took too long to arrive")
        : new AppError("invalid_input", "Malformed request");
  const requestId = randomUUID();
  const body = JSON.stringify({
    error: { code: appError.code, message: appError.message, requestId },
  } satisfies ErrorBody);
  return [
    `HTTP/1.1 ${appError.status} ${STATUS_CODES[appError.status]}`,
    "Content-Type: application/json",
    `Content-Length: ${Buffer.byteLength(body)}`,
    `X-Request-Id: ${requestId}`,
    "Connection: close",
    "",
    body,
  ].join("\r\n");
}
