import { AppError, type ErrorCode, errorStatus } from "@faceapp/core";
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { HTTPException } from "hono/http-exception";
import type { AppEnv } from "./types.ts";

/** The one error envelope every failure is rendered in. */
export interface ErrorBody {
  error: { code: ErrorCode; message: string; requestId: string; details?: Record<string, unknown> };
}

/** Renders an AppError (or anything else, as a 500 that hides its message) in the error envelope. */
export function renderError(err: unknown, c: Context<AppEnv>): Response {
  const requestId = c.get("requestId") ?? "unknown";
  let appError: AppError;
  if (err instanceof AppError) appError = err;
  else if (err instanceof HTTPException && err.status < 500) appError = fromHttpException(err);
  else {
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
