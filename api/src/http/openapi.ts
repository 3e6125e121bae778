// OpenAPI 3.1 generated from the routes themselves: the same valibot schemas that validate requests.
import { createHash } from "node:crypto";
import { toJsonSchema } from "@valibot/to-json-schema";
import type { Hono, MiddlewareHandler } from "hono";
import type * as v from "valibot";
import { ErrorEnvelope } from "./errors.ts";
import type { AppEnv } from "./types.ts";
import { type InputMeta, OPENAPI_INPUT } from "./validate.ts";

const OPENAPI_DOC = Symbol.for("faceapp.openapi.doc");

export interface RouteDoc {
  summary: string;
  tags?: string[];
  /** "user": bearer token or session cookie. */
  auth?: "user";
  /** Status → response body schema (or null for an empty body). */
  responses: Record<number, v.GenericSchema | null>;
}

/** Documents a route; place it first in the route's handler list. */
export function doc(meta: RouteDoc): MiddlewareHandler<AppEnv> {
  const mw: MiddlewareHandler<AppEnv> = async (_c, next) => {
    await next();
  };
  return Object.assign(mw, { [OPENAPI_DOC]: meta });
}

type Json = Record<string, unknown>;

function schemaOf(schema: v.GenericSchema): Json {
  const { $schema: _drop, ...rest } = toJsonSchema(schema, { errorMode: "ignore", target: "draft-2020-12" }) as Json;
  return rest;
}

const errorResponse = {
  description: "Error envelope",
  content: { "application/json": { schema: schemaOf(ErrorEnvelope) } },
};

/** A documented route's response schemas, found by the request's method and path. */
export interface ResponseContract {
  /** The route's pattern (`/v1/personalizations/:id`). */
  route: string;
  responses: RouteDoc["responses"];
}

/**
 * The documented response of each route of an app, by method and concrete path: what the api's tests
 * check every response against (api/test/helpers.ts). Undefined for a path no documented route has.
 */
export function responseContracts(app: Hono<AppEnv>): (method: string, path: string) => ResponseContract | undefined {
  const routes = app.routes.flatMap((route) => {
    const meta = (route.handler as unknown as Record<symbol, RouteDoc | undefined>)[OPENAPI_DOC];
    if (!meta) return [];
    const pattern = route.path
      .split("/")
      .map((part) => (part.startsWith(":") ? "[^/]+" : part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")));
    return [{ method: route.method, route: route.path, regex: new RegExp(`^${pattern.join("/")}/?$`), meta }];
  });
  return (method, path) => {
    const found = routes.find((r) => r.method === method.toUpperCase() && r.regex.test(path));
    return found && { route: found.route, responses: found.meta.responses };
  };
}

/** Builds the OpenAPI document of every documented route of an app. */
export function buildOpenApi(app: Hono<AppEnv>, info: { title: string; version: string }): Json {
  const paths: Record<string, Record<string, Json>> = {};
  for (const route of app.routes) {
    const handler = route.handler as unknown as Record<symbol, unknown>;
    const meta = handler[OPENAPI_DOC] as RouteDoc | undefined;
    const input = handler[OPENAPI_INPUT] as InputMeta | undefined;
    if (!meta && !input) continue;
    const path = route.path.replace(/:(\w+)/g, "{$1}");
    const method = route.method.toLowerCase();
    paths[path] ??= {};
    const byMethod = paths[path];
    byMethod[method] ??= { responses: {}, parameters: [] };
    const op = byMethod[method] as Json & { responses: Json; parameters: Json[] };
    if (meta) {
      op.summary = meta.summary;
      if (meta.tags) op.tags = meta.tags;
      if (meta.auth) op.security = [{ bearer: [] }, { cookie: [] }];
      for (const [status, schema] of Object.entries(meta.responses))
        op.responses[status] = schema
          ? { description: "OK", content: { "application/json": { schema: schemaOf(schema) } } }
          : { description: "No content" };
      op.responses.default = errorResponse;
    }
    if (input?.schema && input.target === "json") {
      op.requestBody = { required: true, content: { "application/json": { schema: schemaOf(input.schema) } } };
    } else if (input?.schema && (input.target === "query" || input.target === "param")) {
      const json = schemaOf(input.schema) as { properties?: Record<string, Json>; required?: string[] };
      for (const [name, schema] of Object.entries(json.properties ?? {}))
        op.parameters.push({
          name,
          in: input.target === "param" ? "path" : "query",
          required: input.target === "param" || (json.required ?? []).includes(name),
          schema,
        });
    }
  }
  return {
    openapi: "3.1.0",
    info,
    components: {
      securitySchemes: {
        bearer: { type: "http", scheme: "bearer", bearerFormat: "JWT" },
        cookie: { type: "apiKey", in: "cookie", name: "faceapp_session" },
      },
    },
    paths,
  };
}

const DOCS_STYLE = `body{font:15px/1.5 system-ui,sans-serif;max-width:960px;margin:2rem auto;padding:0 1rem}
.op{margin:1rem 0;padding:.5rem 1rem;border:1px solid #ddd;border-radius:6px}
.m{font-weight:700;text-transform:uppercase;margin-right:.5rem}pre{background:#f6f6f6;padding:.5rem;overflow:auto;font-size:12px}`;

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

/**
 * The docs page, rendered here from the OpenAPI document: no script at all, and its one style block
 * allowed by its hash, so the page runs under a policy that allows nothing else.
 */
export function docsPage(doc: ReturnType<typeof buildOpenApi>): { html: string; csp: string } {
  const paths = doc.paths as Record<string, Record<string, Record<string, unknown>>>;
  const ops = Object.entries(paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => {
      const { security, parameters, requestBody, responses } = op;
      const detail = JSON.stringify({ security, parameters, requestBody, responses }, null, 2);
      const summary = typeof op.summary === "string" ? op.summary : "";
      return `<div class="op"><div><span class="m">${escapeHtml(method)}</span>${escapeHtml(`${path} — ${summary}`)}</div><pre>${escapeHtml(detail)}</pre></div>`;
    }),
  );
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>faceapp API</title><style>${DOCS_STYLE}</style></head>
<body><h1>faceapp API</h1><p>Machine-readable: <a href="openapi.json">openapi.json</a></p>${ops.join("\n")}</body></html>`;
  const hash = createHash("sha256").update(DOCS_STYLE).digest("base64");
  const csp = `default-src 'none'; style-src 'sha256-${hash}'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'`;
  return { html, csp };
}
