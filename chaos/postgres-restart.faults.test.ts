// PostgreSQL stopped and started again under load: a private cluster, the api and both runners as
// their own processes, personalisations being created and their pages made. While it is down the api
// answers 503 `unavailable` at once (never hangs); once it is back everything carries on by itself and
// no personalisation the api accepted is lost.
import { randomUUID } from "node:crypto";
import { createPg } from "@faceapp/sql";
import { serviceEnv, type Spawned, seedBook, spawnRunner, useTestBucket, long, record } from "@faceapp/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type Answer,
  type ApiProcess,
  alive,
  call,
  createPersonalization,
  dumpLogs,
  type PrivatePostgres,
  readyPhoto,
  signUp,
  sleep,
  startApi,
  startPrivatePostgres,
  waitUntil,
} from "./lib.ts";

const OUTAGE_MS = long ? 20_000 : 4_000;
/** Personalisations started over the scenario (before, during and after the outage). */
const TARGET = long ? 16 : 6;
const SLUG = "pg-restart-book";
/** A probe that takes longer than this has hung: a store that is down must be a prompt 503. */
const CLIENT_TIMEOUT_MS = 8_000;

const bucket = useTestBucket();
let privatePostgres: PrivatePostgres;
let api: ApiProcess;
const runners: Spawned[] = [];

beforeAll(async () => {
  privatePostgres = await startPrivatePostgres();
  const pg = createPg(privatePostgres.url, { max: 2 });
  try {
    // Text-only pages: the render runner makes them; the gpu runner analyses the photos.
    await seedBook(pg, bucket, { slug: SLUG, facePages: [], previewPages: [1, 2, 3] });
  } finally {
    await pg.close();
  }
  const env = {
    ...serviceEnv(privatePostgres.url, bucket),
    RUNNER_HEARTBEAT_SECONDS: "1",
    // Longer than the outage plus the catch-up after it: no runner's jobs are taken from it.
    RUNNER_STALE_AFTER_SECONDS: String(Math.ceil(OUTAGE_MS / 1000) + 30),
  };
  const [started, gpu, render] = await Promise.all([
    startApi(env),
    spawnRunner("gpu", env),
    spawnRunner("render", env),
  ]);
  api = started;
  runners.push(gpu, render);
}, 180_000);

afterAll(async () => {
  await Promise.all([api?.stop("SIGKILL"), ...runners.map((r) => r.stop("SIGKILL"))]);
  await privatePostgres?.destroy();
});

interface Tracked {
  id: string;
  token: string;
  generated: boolean;
  status: string;
}

describe("PostgreSQL restarted under load", () => {
  it("answers 503 promptly while it is down, recovers by itself, and loses no accepted personalisation", async () => {
    const token = await signUp(api.base);
    const photo = await readyPhoto(api.base, token);

    const accepted = new Map<string, Tracked>();
    const answers: Answer[] = [];
    let stopLoad = false;
    let started = 0;

    // One personalisation after another, each create retried with its Idempotency-Key until the api
    // answers it: a lost answer must not become a lost (or doubled) personalisation.
    const creator = (async () => {
      while (!stopLoad && started < TARGET) {
        const key = randomUUID();
        started += 1;
        for (;;) {
          const res = await createPersonalization(api.base, token, SLUG, photo, key);
          answers.push(res);
          if (res.status === 202) {
            accepted.set(res.body.id, { id: res.body.id, token, generated: false, status: res.body.status });
            break;
          }
          if (res.status !== 503 && res.status !== 0)
            throw new Error(`create: ${res.status} ${JSON.stringify(res.body)}`);
          await sleep(300);
        }
        await sleep(long ? 700 : 1_500);
      }
    })();
    // Moves each one on as a parent would: the child's name once its photo is analysed.
    const driver = (async () => {
      while (!stopLoad) {
        for (const p of accepted.values()) {
          if (p.generated) continue;
          const res = await call(api.base, "GET", `/v1/personalizations/${p.id}`, { token: p.token });
          answers.push(res);
          if (res.status !== 200) continue;
          p.status = res.body.status;
          if (p.status !== "analyzed") continue;
          const gen = await call(api.base, "POST", `/v1/personalizations/${p.id}/generate`, {
            token: p.token,
            json: { childName: "Ada" },
          });
          answers.push(gen);
          if (gen.status === 202) p.generated = true;
        }
        await sleep(300);
      }
    })();

    // Under load: pages being made when PostgreSQL goes away.
    await waitUntil("a preview being made", () => [...accepted.values()].some((p) => p.generated), 120_000);
    const stopAt = performance.now();
    await privatePostgres.stop();
    const downAt = performance.now();

    // While it is down: every probe answered, promptly, in the envelope.
    const probes: { route: string; res: Answer }[] = [];
    const downUntil = downAt + OUTAGE_MS;
    while (performance.now() < downUntil) {
      const round = await Promise.all([
        call(api.base, "GET", "/v1/books", { timeoutMs: CLIENT_TIMEOUT_MS }).then((res) => ({ route: "books", res })),
        call(api.base, "GET", "/v1/personalizations", { token, timeoutMs: CLIENT_TIMEOUT_MS }).then((res) => ({
          route: "list",
          res,
        })),
        call(api.base, "GET", "/healthz", { timeoutMs: CLIENT_TIMEOUT_MS }).then((res) => ({ route: "healthz", res })),
        call(api.base, "GET", "/readyz", { timeoutMs: CLIENT_TIMEOUT_MS }).then((res) => ({ route: "readyz", res })),
      ]);
      probes.push(...round);
      await sleep(250);
    }
    if (probes.some((p) => p.res.failure)) dumpLogs([api, ...runners]);
    for (const { route, res } of probes) {
      expect(res.failure, `${route} got no answer (${res.ms.toFixed(0)} ms)`).toBeUndefined();
      if (route === "healthz") expect(res.status).toBe(200);
      else {
        expect(res.status, `${route}: ${JSON.stringify(res.body)}`).toBe(503);
        expect(res.body.error).toMatchObject({ code: "unavailable" });
        expect(typeof res.body.error.requestId).toBe("string");
      }
    }
    expect(probes.filter((p) => p.route === "books").length).toBeGreaterThan(0);

    // Back: the api recovers by itself, within seconds.
    await privatePostgres.start();
    const upAt = performance.now();
    let recoveredAt = 0;
    await waitUntil(
      "the api answering from PostgreSQL again",
      async () => {
        const [books, ready] = await Promise.all([
          call(api.base, "GET", "/v1/books", { timeoutMs: CLIENT_TIMEOUT_MS }),
          call(api.base, "GET", "/readyz", { timeoutMs: CLIENT_TIMEOUT_MS }),
        ]);
        if (books.status === 200 && ready.status === 200) recoveredAt = performance.now();
        return recoveredAt > 0;
      },
      30_000,
      100,
    );
    const recoveryMs = Math.round(recoveredAt - upAt);

    // The rest of the load, then every accepted personalisation reaches its final state.
    await creator;
    await waitUntil(
      "every accepted personalisation's preview ready",
      async () => {
        const states = await Promise.all(
          [...accepted.values()].map((p) =>
            call(api.base, "GET", `/v1/personalizations/${p.id}`, { token: p.token }).then((r) => r.body?.status),
          ),
        );
        if (states.some((s) => s === "analysis_failed" || s === "generation_failed"))
          throw new Error(`a personalisation failed: ${states.join(", ")}`);
        return states.length === TARGET && states.every((s) => s === "preview_ready");
      },
      180_000,
      500,
    ).catch((error) => {
      dumpLogs([api, ...runners]);
      throw error;
    });
    const finishedAt = performance.now();
    stopLoad = true;
    await driver;

    // Final state in the database: exactly the accepted ones, every page done once.
    const pg = createPg(privatePostgres.url, { max: 2 });
    try {
      const rows = await pg.db.selectFrom("app.personalizations").select(["id", "status"]).execute();
      expect(rows.map((r) => r.id).sort()).toEqual([...accepted.keys()].sort());
      expect(rows.every((r) => r.status === "preview_ready")).toBe(true);
      const pages = await pg.db.selectFrom("app.personalization_pages").select(["status"]).execute();
      expect(pages.length).toBe(TARGET * 4); // the front cover and three pages each
      expect(pages.every((p) => p.status === "done")).toBe(true);
    } finally {
      await pg.close();
    }
    // Nothing died: the same api and runners carried on.
    expect(alive(api)).toBe(true);
    for (const runner of runners) expect(alive(runner)).toBe(true);

    const during = probes.filter((p) => p.route !== "healthz");
    record("postgres restarted under load", {
      outageMs: Math.round(upAt - stopAt),
      accepted: accepted.size,
      lost: 0,
      probesWhileDown: probes.length,
      unavailable503: during.filter((p) => p.res.status === 503).length,
      slowestProbeMs: Math.round(Math.max(...probes.map((p) => p.res.ms))),
      apiRecoveryMs: recoveryMs,
      finishedAfterRestartMs: Math.round(finishedAt - upAt),
      retriedCalls: answers.filter((a) => a.status === 503 || a.status === 0).length,
      runnerPoolRestarts: runners
        .map((r) => r.logs.filter((l) => l.msg === "job processing started again").length)
        .reduce((a, b) => a + b, 0),
    });
  }, 420_000);
});
