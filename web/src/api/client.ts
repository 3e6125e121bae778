// The typed api client: every call names an operation of the generated OpenAPI types, so a path,
// method, body or response that drifts from the api fails `tsc` (and web/test/api-contract.test.ts).
import type { OperationKey, Operations } from "./schema.gen.ts";

export type { Operations } from "./schema.gen.ts";
export type Response<K extends OperationKey> = Operations[K]["response"];
export type Book = Response<"GET /v1/books">["items"][number];
export type BookDetail = Response<"GET /v1/books/{slug}">;
export type Personalization = Response<"GET /v1/personalizations/{id}">;
export type PersonalizationPage = Personalization["pages"][number];
export type UploadTicket = Response<"POST /v1/uploads">;
export type Upload = Response<"POST /v1/uploads/{id}/complete">;
export type User = Response<"GET /v1/me">["user"];
/** A partner's back-end registers these (docs/webhooks.md); the web app itself does not. */
export type Webhook = Response<"GET /v1/webhooks/{id}">;
export type WebhookDelivery = Response<"GET /v1/webhooks/{id}/deliveries">["items"][number];

/** The api's error envelope, thrown by every failed call. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly retryAfter: number | null = null,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = "ApiError";
  }
}

type Empty = Record<string, never>;
type Opt<T, K extends string> = T extends Empty | undefined ? { [P in K]?: T } : { [P in K]: T };
export type CallOptions<K extends OperationKey> = Opt<Operations[K]["params"], "params"> &
  Opt<Operations[K]["query"], "query"> &
  Opt<Operations[K]["body"], "body"> & { headers?: Record<string, string>; signal?: AbortSignal };

export interface ApiClientOptions {
  /** "" (same origin as the api), "/api" (behind nginx), or an absolute URL. */
  baseUrl: string;
  fetch?: typeof fetch;
  /** Extra headers on every call (tests: a bearer token). */
  headers?: () => Record<string, string>;
}

/** Fills `{name}` segments of an OpenAPI path. */
export function fillPath(template: string, params: Record<string, string> = {}): string {
  return template.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = params[name];
    if (value === undefined) throw new Error(`missing path parameter ${name}`);
    return encodeURIComponent(value);
  });
}

export function createApiClient(options: ApiClientOptions) {
  const base = options.baseUrl.replace(/\/$/, "");
  const doFetch = options.fetch ?? ((input, init) => fetch(input, init));

  /** The URL of an operation (for links and EventSource, which cannot go through fetch). */
  function url<K extends OperationKey>(key: K, params: Record<string, string> = {}, query?: Record<string, string>) {
    const path = key.slice(key.indexOf(" ") + 1);
    const search = query
      ? new URLSearchParams(Object.entries(query).filter(([, v]) => v !== undefined)).toString()
      : "";
    return `${base}${fillPath(path, params)}${search ? `?${search}` : ""}`;
  }

  async function call<K extends OperationKey>(
    key: K,
    ...[opts]: Partial<CallOptions<K>> extends CallOptions<K> ? [CallOptions<K>?] : [CallOptions<K>]
  ): Promise<Response<K>> {
    const o = (opts ?? {}) as {
      params?: Record<string, string>;
      query?: Record<string, string>;
      body?: unknown;
      headers?: Record<string, string>;
      signal?: AbortSignal;
    };
    const method = key.slice(0, key.indexOf(" "));
    const headers: Record<string, string> = { accept: "application/json", ...options.headers?.(), ...o.headers };
    // Cookie sessions: state-changing calls carry the header a cross-site form cannot send (CSRF).
    if (method !== "GET") headers["x-requested-with"] = "faceapp-web";
    if (o.body !== undefined) headers["content-type"] = "application/json";
    const res = await doFetch(url(key, o.params, o.query), {
      method,
      headers,
      credentials: "include",
      body: o.body === undefined ? undefined : JSON.stringify(o.body),
      signal: o.signal,
    });
    if (!res.ok) {
      let code = "http_error";
      let message = res.statusText || `HTTP ${res.status}`;
      let details: Record<string, unknown> = {};
      try {
        const body = (await res.json()) as {
          error?: { code?: string; message?: string; details?: Record<string, unknown> };
        };
        code = body.error?.code ?? code;
        message = body.error?.message ?? message;
        details = body.error?.details ?? {};
      } catch {
        // Not our envelope (a proxy's page): keep the status text.
      }
      const retry = Number(res.headers.get("retry-after"));
      throw new ApiError(res.status, code, message, Number.isFinite(retry) && retry > 0 ? retry : null, details);
    }
    if (res.status === 204 || (res.status === 202 && res.headers.get("content-length") === "0"))
      return null as Response<K>;
    return (await res.json()) as Response<K>;
  }

  return { call, url, baseUrl: base };
}

export type ApiClient = ReturnType<typeof createApiClient>;
