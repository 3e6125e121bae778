// A store that is down makes the api answer 503 `unavailable` at once, in the envelope: not a hang,
// not a crash, not a 500.
import { createLogger, createProgressBus, createS3Client } from "@faceapp/core";
import { createDb } from "@faceapp/sql";
import { afterAll, describe, expect, it } from "vitest";
import { createApp } from "../src/app.ts";
import { body, jsonInit, testEnv, useApi } from "./helpers.ts";

const api = useApi();
// Port 1 on loopback: nothing listens, connections are refused at once.
const down = createDb("postgres://postgres@127.0.0.1:1/faceapp", { max: 2 });
afterAll(async () => {
  await down.close();
});

describe("with PostgreSQL down", () => {
  it("answers 503 unavailable with Retry-After, and the process keeps serving", async () => {
    const app = createApp({
      db: down.db,
      s3: createS3Client(api.s3Config),
      s3Config: api.s3Config,
      redis: null,
      bus: createProgressBus(null, down.sql),
      env: testEnv(),
      logger: createLogger("outage-test", "silent"),
    });
    for (const [method, path, payload] of [
      ["GET", "/v1/books", undefined],
      ["POST", "/v1/auth/login", { email: "a@example.com", password: "whatever password" }],
    ] as const) {
      const res = await app.request(path, payload ? jsonInit(method, payload) : { method });
      expect(res.status, `${method} ${path}`).toBe(503);
      expect(res.headers.get("retry-after")).toBe("5");
      expect((await body(res)).error).toMatchObject({ code: "unavailable" });
    }
    const ready = await app.request("/readyz");
    expect(ready.status).toBe(503);
    expect((await app.request("/healthz")).status).toBe(200);
  });
});
