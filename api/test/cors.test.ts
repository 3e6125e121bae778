// Our CORS middleware (api/src/http/cors.ts) answers exactly as hono's `cors` with the api's options:
// the same status, body and headers for preflights and for answers of every kind, from allowed,
// foreign and absent origins.
import { Hono } from "hono";
import { cors as honoCors } from "hono/cors";
import { describe, expect, it } from "vitest";
import { cors } from "../src/http/cors.ts";

const options = {
  origin: ["https://web.example", "http://localhost:5173"],
  allowMethods: ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
  allowHeaders: ["Content-Type", "Authorization", "X-Requested-With", "Last-Event-ID", "Idempotency-Key"],
  exposeHeaders: ["X-Request-Id", "Retry-After"],
  maxAge: 600,
};

function app(middleware: ReturnType<typeof cors>) {
  return new Hono()
    .use(async (c, next) => {
      c.header("X-Request-Id", "req-1"); // as requestContext, before the route
      await next();
      c.res.headers.set("X-Content-Type-Options", "nosniff"); // as securityHeaders, after it
    })
    .use(middleware)
    .get("/json", (c) => c.json({ ok: true }, 202, { "Retry-After": "3" }))
    .post("/json", (c) => c.json({ posted: true }))
    .get("/vary", (c) => c.json({ ok: true }, 200, { Vary: "Accept" }))
    .get("/stream", (c) =>
      c.newResponse(new Blob(["data: 1\n\n"]).stream(), 200, { "Content-Type": "text/event-stream" }),
    )
    .get("/empty", (c) => c.body(null, 204))
    .get("/error", () => {
      throw new Error("boom");
    })
    .onError((_err, c) => c.json({ error: "internal" }, 500));
}

const ours = app(cors(options));
const theirs = app(honoCors({ ...options, credentials: true }));

const origins = [undefined, "https://web.example", "http://localhost:5173", "https://evil.example", ""];
const requests: [string, string, Record<string, string>][] = [];
for (const origin of origins) {
  const from: Record<string, string> = origin === undefined ? {} : { origin };
  for (const path of ["/json", "/vary", "/stream", "/empty", "/error", "/missing"]) requests.push(["GET", path, from]);
  requests.push(["POST", "/json", { ...from, "content-type": "application/json" }]);
  requests.push(["OPTIONS", "/json", { ...from, "access-control-request-method": "POST" }]);
  requests.push([
    "OPTIONS",
    "/anything",
    { ...from, "access-control-request-method": "GET", "access-control-request-headers": "authorization" },
  ]);
}

async function answer(on: typeof ours, [method, path, headers]: (typeof requests)[number]) {
  const res = await on.request(path, { method, headers, ...(method === "POST" ? { body: "{}" } : {}) });
  return { status: res.status, headers: [...res.headers.entries()].sort(), body: await res.text() };
}

describe("cors", () => {
  it.each(requests)("answers %s %s %j as hono's cors does", async (...request) => {
    expect(await answer(ours, request)).toEqual(await answer(theirs, request));
  });
});
