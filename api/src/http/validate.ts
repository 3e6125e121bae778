// Request validation with valibot: every failure becomes the error envelope and never echoes input.
import { AppError } from "@faceapp/core";
import type { MiddlewareHandler } from "hono";
import { validator } from "hono/validator";
import * as v from "valibot";
import type { AppEnv } from "./types.ts";

/** Where a middleware's schema sits in a request; read by the OpenAPI generator. */
export const OPENAPI_INPUT = Symbol.for("faceapp.openapi.input");
export interface InputMeta {
  target: "json" | "query" | "param" | "empty";
  schema?: v.GenericSchema;
}

type Where = "body" | "query" | "path";

/** One issue, described by the schema's expectation and the field's path: never by the value sent. */
function describeIssue(issue: v.BaseIssue<unknown>): { path: string; problem: string } {
  const keys = (issue.path ?? []).map((item) => String(item.key));
  if (issue.type === "strict_object" && keys.length > 0) {
    // The last key is the unknown field's name, which the client chose: leave it out.
    return { path: keys.slice(0, -1).join(".") || "(root)", problem: "unknown field" };
  }
  const path = keys.join(".") || "(root)";
  if (issue.kind === "schema") return { path, problem: `expected ${issue.expected ?? issue.type}` };
  return { path, problem: `failed ${issue.type}${issue.expected ? ` (${issue.expected})` : ""}` };
}

/** Parses a value with a schema or throws `invalid_input` listing what was wrong where. */
export function parseInput<S extends v.GenericSchema>(schema: S, value: unknown, where: Where): v.InferOutput<S> {
  const result = v.safeParse(schema, value, { abortEarly: false });
  if (result.success) return result.output;
  const issues = result.issues.slice(0, 20).map(describeIssue);
  throw new AppError("invalid_input", `Invalid request ${where}`, { issues });
}

const jsonType = /^application\/([\w.-]+\+)?json$/i;

/** Validates a JSON body (Content-Type must say JSON). */
export function json<S extends v.GenericSchema>(schema: S) {
  const mw = validator("json", (value, c): v.InferOutput<S> => {
    const type = (c.req.header("content-type") ?? "").split(";")[0]!.trim();
    if (!jsonType.test(type)) throw new AppError("unsupported_media_type", "Send a JSON body (application/json)");
    return parseInput(schema, value, "body");
  });
  return Object.assign(mw, { [OPENAPI_INPUT]: { target: "json", schema } satisfies InputMeta });
}

/** Validates the query string; use a strictObject so unknown parameters are refused. */
export function query<S extends v.GenericSchema>(schema: S) {
  const mw = validator("query", (value): v.InferOutput<S> => parseInput(schema, value, "query"));
  return Object.assign(mw, { [OPENAPI_INPUT]: { target: "query", schema } satisfies InputMeta });
}

/** Validates path parameters; a malformed id names no resource, so it is a 404 like any unknown id. */
export function params<S extends v.GenericSchema>(schema: S) {
  const mw = validator("param", (value): v.InferOutput<S> => {
    const result = v.safeParse(schema, value);
    if (!result.success) throw new AppError("not_found", "Not found");
    return result.output;
  });
  return Object.assign(mw, { [OPENAPI_INPUT]: { target: "param", schema } satisfies InputMeta });
}

/** For routes that take no body: nothing, or an empty JSON object. */
export function emptyBody(): MiddlewareHandler<AppEnv> {
  const mw: MiddlewareHandler<AppEnv> = async (c, next) => {
    const text = await c.req.text();
    if (text.trim() !== "") {
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        throw new AppError("invalid_input", "This endpoint takes no body");
      }
      const empty = typeof parsed === "object" && parsed !== null && !Array.isArray(parsed);
      if (!empty || Object.keys(parsed as object).length > 0)
        throw new AppError("invalid_input", "This endpoint takes no body", {
          issues: [{ path: "(root)", problem: "unknown field" }],
        });
    }
    await next();
  };
  return Object.assign(mw, { [OPENAPI_INPUT]: { target: "empty" } satisfies InputMeta });
}

/** Common field schemas. */
export const Uuid = v.pipe(v.string(), v.uuid());

/**
 * Free text that reaches SQL: PostgreSQL refuses a NUL character in text, and a lone surrogate has
 * no UTF-8 form (the driver would send U+FFFD for it); both are refused here, before any query.
 */
export const SqlText = (min: number, max: number) =>
  v.pipe(
    v.string(),
    v.regex(/^[^\0\uD800-\uDFFF]*$/u, "must not hold NUL or lone surrogates"),
    v.minLength(min),
    v.maxLength(max),
  );
export const NoQuery = v.strictObject({});
