// A store that is down makes the api answer 503 `unavailable` at once, in the envelope: not a hang,
// not a crash, not a 500.
import { createLogger, createProgressBus, createRedisBus, createS3Client } from "@faceapp/core";
import { createPg } from "@faceapp/sql";
import { afterAll, describe, expect, it } from "vitest";
import { createApp } from "../src/app.ts";
import {
  bearer,
  body,
  jsonInit,
  signUp,
  testEnv,
  useApi,
  book,
  createPersonalization,
  readEvents,
  readyPhoto,
} from "@faceapp/testkit/api";

const api = useApi();
// Port 1 on loopback: nothing listens, connections are refused at once.
const down = createPg("postgres://postgres@127.0.0.1:1/faceapp", { max: 2 });
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

describe("with Redis down", () => {
  it("keeps serving, and event streams still deliver persisted events (read back at each heartbeat)", async () => {
    await book(api, { slug: "outage-book" });
    const user = await signUp(api.app);
    const photo = await readyPhoto(api.app, user.token);
    const { id } = await body(await createPersonalization(api.app, user.token, "outage-book", photo));
    const deadBus = createRedisBus("redis://127.0.0.1:1");
    const app = createApp({
      db: api.pg.db,
      s3: createS3Client(api.s3Config),
      s3Config: api.s3Config,
      redis: null,
      bus: deadBus,
      env: testEnv({ SSE_HEARTBEAT_SECONDS: "1" }),
      logger: createLogger("outage-test", "silent"),
    });
    const res = await app.request(`/v1/personalizations/${id}/events`, { headers: bearer(user.token) });
    expect(res.status).toBe(200);
    const reading = readEvents(res, (events) => events.some((e) => e.event === "error"));
    // A runner's event that was committed but whose publish was lost with Redis.
    await api.pg.db
      .insertInto("app.events")
      .values({ personalization_id: id, type: "error", data: { message: "late" } })
      .execute();
    await deadBus.publish(id, [{ id: "0", type: "error", data: {} }]);
    const { events } = await reading;
    expect(events.map((e) => e.event)).toEqual(["status", "error"]);
    expect(events[1]?.data).toEqual({ message: "late" });
    await deadBus.close();
  });
});
