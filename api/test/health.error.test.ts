import { createS3Client } from "@faceapp/core";
import { createPg } from "@faceapp/sql";
import { afterAll, describe, expect, it } from "vitest";
import { createApp } from "../src/app.ts";
import { body, jsonInit, unreachableRedis, useApi } from "@faceapp/testkit/api";

const api = useApi();
const closed = "http://127.0.0.1:9"; // discard port: nothing listens
const brokenDb = createPg("postgres://postgres@127.0.0.1:9/none", { max: 1 });
// A database that answers but has none of our tables (made in the test): every query fails in an
// unexpected way.
let withoutTables: ReturnType<typeof createPg> | undefined;
afterAll(async () => {
  await brokenDb.close();
  await withoutTables?.close();
});

describe("GET /readyz names what is down with 503", () => {
  it("S3", async () => {
    const s3Config = { ...api.s3Config, endpoint: closed };
    const app = createApp({ ...api.deps, s3: createS3Client(s3Config), s3Config });
    const res = await app.request("/readyz");
    expect(res.status).toBe(503);
    const error = (await body(res)).error;
    expect(error.code).toBe("unavailable");
    expect(error.details.checks).toMatchObject({ postgres: "ok", s3: "failed" });
    expect(error.message).toContain("s3");
  });

  it("Postgres", async () => {
    const app = createApp({ ...api.deps, db: brokenDb.db });
    const res = await app.request("/readyz");
    expect(res.status).toBe(503);
    expect((await body(res)).error.details.checks).toMatchObject({ postgres: "failed", s3: "ok" });
  });

  it("Redis, when one is configured", async () => {
    const redis = unreachableRedis();
    const app = createApp({ ...api.deps, redis });
    const res = await app.request("/readyz");
    expect(res.status).toBe(503);
    expect((await body(res)).error.details.checks).toMatchObject({ redis: "failed" });
    redis.disconnect();
  });
});

describe("an unexpected failure", () => {
  it("is a 500 internal envelope that leaks no detail", async () => {
    const url = new URL(api.pg.url);
    url.pathname = "/template1";
    withoutTables = createPg(url.toString(), { max: 1 });
    const app = createApp({ ...api.deps, db: withoutTables.db, redis: null });
    const res = await app.request("/v1/books");
    expect(res.status).toBe(500);
    const text = await res.text();
    const error = JSON.parse(text).error;
    expect(error.code).toBe("internal");
    expect(error.requestId).toBe(res.headers.get("x-request-id"));
    expect(text).not.toMatch(/127\.0\.0\.1|ECONNREFUSED|postgres/i);
  });
});

describe("body size limits on every route", () => {
  it.each([
    "/v1/auth/signup",
    "/v1/auth/login",
    "/v1/auth/logout",
    "/v1/uploads",
    `/v1/uploads/${crypto.randomUUID()}/complete`,
  ])("%s answers 413 payload_too_large", async (path) => {
    const res = await api.app.request(path, jsonInit("POST", { pad: "x".repeat(200_000) }));
    expect(res.status).toBe(413);
    expect((await body(res)).error.code).toBe("payload_too_large");
  });

  it("refuses a too-large body by its Content-Length before reading it", async () => {
    const res = await api.app.request("/v1/auth/login", {
      method: "POST",
      headers: { "content-type": "application/json", "content-length": String(10 * 1024 * 1024) },
      body: "{}",
    });
    expect(res.status).toBe(413);
  });
});
