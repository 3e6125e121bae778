// Redis killed under load: a private redis-server, the api and a render runner as their own processes,
// event streams open. Redis holds nothing durable: while it is down the api keeps serving (catalog from
// PostgreSQL, personalisations started), the streams still deliver every persisted event (read back at
// their heartbeat), nothing crashes; once it is back, live delivery and the catalog cache resume.
import { Redis } from "ioredis";
import {
  serviceEnv,
  type Spawned,
  seedBook,
  skipAnalysis,
  spawnRunner,
  useTestBucket,
  useTestDatabase,
  long,
  record,
} from "@faceapp/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type ApiProcess,
  alive,
  call,
  createPersonalization,
  dumpLogs,
  type EventStream,
  openEventStream,
  type PrivateRedis,
  readyPhoto,
  redisServer,
  signUp,
  sleep,
  startApi,
  startPrivateRedis,
  waitUntil,
} from "./lib.ts";

const OUTAGE_MS = long ? 20_000 : 3_000;
const SLUG = "redis-down-book";
/** Preview pages per personalisation (plus the front cover): enough that pages are made during the outage. */
const PAGES = long ? [1, 2, 3, 4, 5, 6, 7, 8, 9, 10] : [1, 2, 3, 4, 5];

const describeRedis = redisServer ? describe : describe.skip;
if (!redisServer) console.warn("[chaos] redis-server is not installed: the Redis outage scenario is skipped.");

const pg = useTestDatabase();
const bucket = useTestBucket();
let redis: PrivateRedis;
let api: ApiProcess;
let runner: Spawned;
const streams: EventStream[] = [];

beforeAll(async () => {
  if (!redisServer) return;
  await seedBook(pg, bucket, { slug: SLUG, facePages: [], previewPages: PAGES });
  redis = await startPrivateRedis();
  const env = { ...serviceEnv(pg.url, bucket, redis.url), SSE_HEARTBEAT_SECONDS: "1", CATALOG_CACHE_SECONDS: "300" };
  [api, runner] = await Promise.all([
    startApi(env),
    // One page at a time: the pages of a preview are still being made while Redis is down.
    spawnRunner("render", { ...env, RUNNER_CONCURRENCY: "1", RUNNER_HEARTBEAT_SECONDS: "1" }),
  ]);
}, 180_000);

afterAll(async () => {
  await Promise.all(streams.map((s) => s.close()));
  await Promise.all([api?.stop("SIGKILL"), runner?.stop("SIGKILL")]);
  await redis?.kill();
});

/** A personalisation whose preview is being made: started through the api, its analysis done in SQL. */
async function startPreview(token: string, photo: string): Promise<string> {
  const created = await createPersonalization(api.base, token, SLUG, photo);
  expect(created.status, JSON.stringify(created.body)).toBe(202);
  const id = created.body.id as string;
  // Analysis is not what this scenario is about (no gpu runner).
  await skipAnalysis(pg, id);
  const generated = await call(api.base, "POST", `/v1/personalizations/${id}/generate`, {
    token,
    json: { childName: "Ada" },
  });
  expect(generated.status, JSON.stringify(generated.body)).toBe(202);
  return id;
}

async function persistedIds(id: string): Promise<string[]> {
  const rows = await pg.db
    .selectFrom("app.events")
    .select("id")
    .where("personalization_id", "=", id)
    .orderBy("id")
    .execute();
  return rows.map((r) => String(r.id));
}

async function status(id: string): Promise<string> {
  const row = await pg.db.selectFrom("app.personalizations").select("status").where("id", "=", id).executeTakeFirst();
  return row?.status ?? "missing";
}

/** Every persisted event of the personalisation reached the stream, once each, in id order. */
async function expectDelivered(stream: EventStream, id: string): Promise<void> {
  await waitUntil(
    `stream of ${id} caught up with app.events`,
    async () => stream.events.filter((e) => e.id).length >= (await persistedIds(id)).length,
    60_000,
  );
  expect(stream.events.filter((e) => e.id).map((e) => e.id)).toEqual(await persistedIds(id));
}

const isTick = (e: { id?: string }) => !e.id;

describeRedis("Redis killed under load", () => {
  it("keeps serving and streaming while it is down, and goes back to live delivery and caching after", async () => {
    const token = await signUp(api.base);
    const photo = await readyPhoto(api.base, token);
    const probe = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => 200 });
    probe.on("error", () => {});

    // Normal: the catalog is cached, events are live (page-started ticks are only ever published).
    expect((await call(api.base, "GET", "/v1/books")).status).toBe(200);
    expect((await call(api.base, "GET", "/v1/books")).status).toBe(200);
    await probe.connect();
    expect((await probe.keys("*catalog*")).length).toBeGreaterThan(0);
    const first = await startPreview(token, photo);
    const s1 = openEventStream(api.base, token, first, { reconnect: true });
    streams.push(s1);
    await s1.waitFor(isTick, 60_000);

    // Down, in the middle of the first preview's pages.
    await s1.waitFor((e) => e.event === "page" && e.data.state === "done", 60_000);
    // The connections of the api and the runner (each a publisher and a subscriber) and this probe.
    const clients = async () =>
      String(await probe.client("LIST").catch(() => ""))
        .trim()
        .split("\n").length;
    const clientsBefore = await clients();
    await redis.kill();
    const downAt = performance.now();
    const ticksBefore = s1.events.filter(isTick).length;

    // The api keeps serving: the catalog from PostgreSQL, a new personalisation, its stream.
    const books = await call(api.base, "GET", "/v1/books", { timeoutMs: 8_000 });
    expect(books.status).toBe(200);
    expect(books.body.items.map((b: { slug: string }) => b.slug)).toContain(SLUG);
    expect((await call(api.base, "GET", "/healthz", { timeoutMs: 8_000 })).status).toBe(200);
    const ready = await call(api.base, "GET", "/readyz", { timeoutMs: 8_000 });
    expect(ready.status).toBe(503);
    expect(ready.body.error.details.checks).toMatchObject({ redis: "failed", postgres: "ok" });
    const second = await startPreview(token, photo);
    const s2 = openEventStream(api.base, token, second, { reconnect: true });
    streams.push(s2);

    // Both previews finish with Redis down, and both streams deliver every persisted event.
    await waitUntil(
      "both previews ready with Redis down",
      async () => (await status(first)) === "preview_ready" && (await status(second)) === "preview_ready",
      120_000,
    ).catch((error) => {
      dumpLogs([api, runner]);
      throw error;
    });
    const remaining = OUTAGE_MS - (performance.now() - downAt);
    if (remaining > 0) await sleep(remaining);
    await expectDelivered(s1, first);
    await expectDelivered(s2, second);
    const ticksWhileDown = s1.events.filter(isTick).length - ticksBefore + s2.events.filter(isTick).length;
    expect(alive(api)).toBe(true);
    expect(alive(runner)).toBe(true);
    const outageMs = performance.now() - downAt;

    // Back on the same port: readiness, live delivery and the cache return by themselves.
    await redis.start();
    const upAt = performance.now();
    let readyAt = 0;
    await waitUntil(
      "the api ready again",
      async () => {
        const r = await call(api.base, "GET", "/readyz", { timeoutMs: 8_000 });
        if (r.status === 200) readyAt = performance.now();
        return r.status === 200;
      },
      60_000,
    );
    // The api's subscriber is back on the channel (ioredis resubscribes after reconnecting).
    await waitUntil(
      "the api subscribed again",
      async () => {
        const [, subscribers] = (await probe.pubsub("NUMSUB", "faceapp_progress").catch(() => ["", 0])) as [
          string,
          number,
        ];
        return Number(subscribers) >= 1;
      },
      60_000,
    );
    // And the runner's publisher is back too (ioredis retries every 2 s at most): before it is, its
    // ticks are dropped by design, and on a fast machine the whole third preview fitted in that gap.
    await waitUntil("every client connected again", async () => (await clients()) >= clientsBefore, 60_000);
    const third = await startPreview(token, photo);
    const s3 = openEventStream(api.base, token, third, { reconnect: true });
    streams.push(s3);
    const firstTick = await s3.waitFor(isTick, 60_000);
    const liveAgainMs = firstTick.at - upAt;
    await waitUntil("the third preview ready", async () => (await status(third)) === "preview_ready", 120_000);
    await expectDelivered(s3, third);
    await waitUntil(
      "the catalog cached again",
      async () => {
        await call(api.base, "GET", "/v1/books?category=adventure");
        return (await probe.keys("*catalog*")).length > 0;
      },
      30_000,
    );
    expect(alive(api)).toBe(true);
    expect(alive(runner)).toBe(true);
    // The streams stayed open throughout: no reconnects were needed.
    for (const s of [s1, s2, s3]) expect(s.drops).toBe(0);
    probe.disconnect();

    record("redis killed under load", {
      outageMs: Math.round(outageMs),
      streams: 3,
      eventsDeliveredWhileDown: s1.events.filter((e) => e.id).length + s2.events.filter((e) => e.id).length,
      ticksWhileDown,
      streamReconnects: s1.drops + s2.drops + s3.drops,
      readyAgainMs: Math.round(readyAt - upAt),
      liveAgainMs: Math.round(liveAgainMs),
    });
  }, 420_000);
});
