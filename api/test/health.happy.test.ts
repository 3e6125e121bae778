import { Writable } from "node:stream";
import { toJsonSchema } from "@valibot/to-json-schema";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { createApp } from "../src/app.ts";
import { Credentials, CreateUpload } from "../src/schemas.ts";
import { bearer, body, jsonInit, METRICS_TOKEN, signUp, useApi } from "@faceapp/testkit/api";

const api = useApi();

describe("probes", () => {
  it("GET /healthz says the process is alive", async () => {
    const res = await api.app.request("/healthz");
    expect(res.status).toBe(200);
    expect(await body(res)).toEqual({ status: "ok" });
  });

  it("GET /readyz checks Postgres, S3 and (when configured) Redis", async () => {
    const res = await api.app.request("/readyz");
    expect(res.status).toBe(200);
    const ready = await body(res);
    expect(ready.checks.postgres).toBe("ok");
    expect(ready.checks.s3).toBe("ok");
    if (api.deps.redis) expect(ready.checks.redis).toBe("ok");
    else expect(ready.checks).not.toHaveProperty("redis");
  });
});

describe("GET /metrics", () => {
  it("counts requests by route pattern and status, never by raw path", async () => {
    const { token } = await signUp(api.app);
    await api.app.request(`/v1/uploads/${crypto.randomUUID()}`, { headers: bearer(token) });
    await api.app.request("/v1/books/some-book");
    await api.app.request("/no/such/route/123");
    const res = await api.app.request("/metrics", { headers: bearer(METRICS_TOKEN) });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/plain");
    const text = await res.text();
    expect(text).toMatch(/http_requests_total\{method="POST",route="\/v1\/auth\/signup",status="201"\} 1/);
    expect(text).toMatch(/http_requests_total\{method="GET",route="\/v1\/uploads\/:id",status="404"\} 1/);
    expect(text).toMatch(
      /http_request_duration_seconds_bucket\{le="0.005",method="GET",route="\/v1\/books\/:slug",status="404"\}/,
    );
    expect(text).toMatch(/http_requests_total\{method="GET",route="unmatched",status="404"\} 1/);
    expect(text).not.toContain("some-book");
    expect(text).not.toContain("/no/such/route");
  });
});

describe("OpenAPI", () => {
  it("GET /openapi.json documents every route from the schemas the routes validate with", async () => {
    const doc = await body(await api.app.request("/openapi.json"));
    expect(doc.openapi).toMatch(/^3\.1/);
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        "/v1/auth/login",
        "/v1/auth/logout",
        "/v1/auth/signup",
        "/v1/books",
        "/v1/books/{slug}",
        "/v1/me",
        "/v1/uploads",
        "/v1/uploads/{id}",
        "/v1/uploads/{id}/complete",
      ]),
    );
    const { $schema: _a, ...credentials } = toJsonSchema(Credentials, { errorMode: "ignore", target: "draft-2020-12" });
    expect(doc.paths["/v1/auth/signup"].post.requestBody.content["application/json"].schema).toEqual(credentials);
    const { $schema: _b, ...upload } = toJsonSchema(CreateUpload, { errorMode: "ignore", target: "draft-2020-12" });
    expect(doc.paths["/v1/uploads"].post.requestBody.content["application/json"].schema).toEqual(upload);
    expect(doc.paths["/v1/uploads"].post.security).toEqual([{ bearer: [] }, { cookie: [] }]);
    expect(doc.paths["/v1/uploads/{id}"].get.parameters).toContainEqual(
      expect.objectContaining({ name: "id", in: "path" }),
    );
    expect(doc.paths["/v1/books"].get.parameters.map((p: { name: string }) => p.name).sort()).toEqual(
      ["ageMax", "ageMin", "category", "cursor", "limit", "q"].sort(),
    );
    expect(doc.paths["/v1/books"].get.responses["200"]).toBeDefined();
  });

  it("GET /docs serves a page that renders it", async () => {
    const res = await api.app.request("/docs");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/html");
    const html = await res.text();
    expect(html).toContain('href="openapi.json"');
    // Rendered here from the document (no script): every route is on the page.
    expect(html).toContain("/v1/personalizations/{id}/events — Live events (SSE)");
    expect(html).not.toContain("<script");
  });
});

describe("request ids and logs", () => {
  it("puts a request id on every response, in every error and on every log line", async () => {
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        for (const line of String(chunk).split("\n").filter(Boolean)) lines.push(JSON.parse(line));
        done();
      },
    });
    const app = createApp({ ...api.deps, logger: pino({ level: "info" }, sink) });
    const ok = await app.request("/healthz");
    const failed = await app.request("/v1/me");
    const okId = ok.headers.get("x-request-id");
    const errorId = failed.headers.get("x-request-id");
    expect(okId).toMatch(/^[0-9a-f-]{36}$/);
    expect((await body(failed)).error.requestId).toBe(errorId);
    expect(lines.length).toBeGreaterThanOrEqual(2);
    for (const line of lines) expect(line.requestId).toEqual(expect.any(String));
    expect(lines.map((l) => l.requestId)).toEqual(expect.arrayContaining([okId, errorId]));
    expect(lines.find((l) => l.requestId === errorId)).toMatchObject({ status: 401, route: "/v1/me" });
  });

  it("keeps a well-formed incoming X-Request-Id and replaces anything else", async () => {
    const kept = await api.app.request("/healthz", { headers: { "x-request-id": "edge-1234abcd" } });
    expect(kept.headers.get("x-request-id")).toBe("edge-1234abcd");
    const replaced = await api.app.request("/healthz", { headers: { "x-request-id": "bad id <with> junk!" } });
    expect(replaced.headers.get("x-request-id")).not.toContain("junk");
  });
});

describe("CORS", () => {
  it("lets the web origin call the api with credentials", async () => {
    const res = await api.app.request("/v1/uploads", {
      method: "OPTIONS",
      headers: {
        origin: "https://web.example",
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type, authorization",
      },
    });
    expect(res.status).toBeLessThan(300);
    expect(res.headers.get("access-control-allow-origin")).toBe("https://web.example");
    expect(res.headers.get("access-control-allow-credentials")).toBe("true");
    expect(res.headers.get("access-control-allow-methods")).toContain("POST");
  });

  it("gives other origins nothing", async () => {
    const res = await api.app.request("/v1/books", { headers: { origin: "https://evil.example" } });
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("answers the JSON routes for the web origin with its CORS headers", async () => {
    const res = await api.app.request(
      "/v1/auth/login",
      jsonInit("POST", { email: "x@example.com", password: "12345678" }, { origin: "https://web.example" }),
    );
    expect(res.headers.get("access-control-allow-origin")).toBe("https://web.example");
  });
});
