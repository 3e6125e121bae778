// The api restarted (SIGTERM, then SIGKILL) while it streams a personalisation's events and a runner
// makes its pages. A client that reconnects with Last-Event-ID, as EventSource does, ends with every
// persisted event exactly once, in id order.
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
  freePort,
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
  readyPhoto,
  signUp,
  startApi,
  waitUntil,
} from "./lib.ts";

const SLUG = "api-restart-book";
const PAGES = long ? Array.from({ length: 20 }, (_, i) => i + 1) : [1, 2, 3, 4, 5, 6, 7, 8];
/** Restarts, alternating SIGTERM and SIGKILL. */
const SIGNALS: NodeJS.Signals[] = long ? ["SIGTERM", "SIGKILL", "SIGTERM", "SIGKILL"] : ["SIGTERM", "SIGKILL"];

const pg = useTestDatabase();
const bucket = useTestBucket();
let env: Record<string, string>;
let port: number;
let api: ApiProcess;
let runner: Spawned;
let stream: EventStream | undefined;

beforeAll(async () => {
  await seedBook(pg, bucket, { slug: SLUG, facePages: [], previewPages: PAGES });
  port = await freePort();
  env = { ...serviceEnv(pg.url, bucket), SSE_HEARTBEAT_SECONDS: "2" };
  [api, runner] = await Promise.all([
    startApi(env, port),
    // One page at a time: pages keep coming across the restarts.
    spawnRunner("render", { ...env, RUNNER_CONCURRENCY: "1" }),
  ]);
}, 180_000);

afterAll(async () => {
  await stream?.close();
  await Promise.all([api?.stop("SIGKILL"), runner?.stop("SIGKILL")]);
});

describe("the api restarted while it streams events", () => {
  it("leaves a reconnecting client with every persisted event exactly once, in id order", async () => {
    const token = await signUp(api.base);
    const photo = await readyPhoto(api.base, token);
    const created = await createPersonalization(api.base, token, SLUG, photo);
    expect(created.status).toBe(202);
    const id = created.body.id as string;
    // Analysis is not what this scenario is about (no gpu runner).
    await skipAnalysis(pg, id);
    stream = openEventStream(api.base, token, id, { reconnect: true, retryMs: 200 });
    await stream.waitFor((e) => e.event === "status");
    const generated = await call(api.base, "POST", `/v1/personalizations/${id}/generate`, {
      token,
      json: { childName: "Ada" },
    });
    expect(generated.status).toBe(202);

    const reconnectMs: number[] = [];
    const exitCodes: (number | null)[] = [];
    let done = 0;
    for (const signal of SIGNALS) {
      // Restart once another page has arrived over this connection.
      done += 1;
      const target = done;
      await stream.waitFor(
        () => stream!.events.filter((e) => e.event === "page" && e.data.state === "done").length >= target,
        90_000,
      );
      const connections = stream.connections;
      const signalledAt = performance.now();
      exitCodes.push(await api.stop(signal));
      api = await startApi(env, port);
      await waitUntil("the client reconnected", () => stream!.connections > connections, 60_000, 50);
      reconnectMs.push(performance.now() - signalledAt);
    }

    await waitUntil(
      "the preview ready",
      async () => {
        const row = await pg.db
          .selectFrom("app.personalizations")
          .select("status")
          .where("id", "=", id)
          .executeTakeFirst();
        return row?.status === "preview_ready";
      },
      120_000,
    ).catch((error) => {
      dumpLogs([api, runner]);
      throw error;
    });
    const rows = await pg.db
      .selectFrom("app.events")
      .select("id")
      .where("personalization_id", "=", id)
      .orderBy("id")
      .execute();
    const persisted = rows.map((r) => String(r.id));
    await waitUntil(
      "the stream caught up with app.events",
      () => stream!.events.filter((e) => e.id).length >= persisted.length,
      60_000,
    );
    // Exactly once, in id order: no duplicate from a replay, no gap across a restart.
    expect(stream.events.filter((e) => e.id).map((e) => e.id)).toEqual(persisted);
    expect(stream.events.filter((e) => e.event === "page" && e.data.state === "done")).toHaveLength(PAGES.length + 1);
    expect(exitCodes).toEqual(SIGNALS.map((s) => (s === "SIGTERM" ? 0 : null)));
    expect(stream.drops).toBe(SIGNALS.length);
    expect(alive(api)).toBe(true);
    expect(alive(runner)).toBe(true);

    record("api restarted during an event stream", {
      restarts: SIGNALS.length,
      signals: SIGNALS.join(","),
      persistedEvents: persisted.length,
      deliveredOnce: true,
      reconnects: stream.connections - 1,
      refusedAttempts: stream.refused,
      worstReconnectMs: Math.round(Math.max(...reconnectMs)),
    });
  }, 420_000);
});
