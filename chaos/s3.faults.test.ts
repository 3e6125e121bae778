// S3 stopped and slow, with the api and a real render runner process talking to it through a TCP
// proxy (the rig's s3rver is shared by every test file: only the proxy is stopped or slowed).
import { HeadObjectCommand } from "@aws-sdk/client-s3";
import { createS3Client } from "@faceapp/core";
import { long, record, redisUrl, serviceEnv, type Spawned, spawnRunner, waitUntil } from "@faceapp/testkit";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import {
  body,
  useApi,
  waitForStatus,
  analysedRenderOnly,
  doneCounts,
  generate,
  jobsFailed,
  pagesOf,
} from "@faceapp/testkit/api";
import { startTcpProxy, type TcpProxy } from "./tcp-proxy.ts";

let proxy: TcpProxy;
// Registered before useApi's hooks: the file's bucket is created, and the api's client built,
// through the proxy.
beforeAll(async () => {
  proxy = await startTcpProxy(inject("s3Endpoint"));
  api.s3Config.endpoint = proxy.url;
});
const api = useApi();
let runner: Spawned;
const S3_TIMEOUT_S = 4;
let runnerHealth: string;

beforeAll(async () => {
  runner = await spawnRunner("render", {
    ...serviceEnv(api.pg.url, api.s3Config, redisUrl),
    // Above the slow scenario's delay per answer, low enough that a hung store costs seconds here.
    S3_TIMEOUT_SECONDS: String(S3_TIMEOUT_S),
  });
  runnerHealth = `http://127.0.0.1:${runner.logs.find((l) => l.msg === "runner ready")?.healthPort}`;
}, 120_000);

afterAll(async () => {
  await runner?.stop("SIGKILL");
  await proxy?.close();
});

/** Every page done exactly once, its images in the bucket, the runner still the same live process; the fewest and most tries of a page. */
async function assertEachPageDoneOnce(id: string, pageCount: number): Promise<{ min: number; max: number }> {
  const pages = await pagesOf(api, id);
  expect(pages).toHaveLength(pageCount);
  expect(pages.map((p) => p.status)).toEqual(pages.map(() => "done"));
  expect(Object.values(await doneCounts(api, id))).toEqual(pages.map(() => 1));
  for (const page of pages) {
    for (const key of [page.web_key!, page.print_key!]) {
      await api.bucket.client.send(new HeadObjectCommand({ Bucket: api.s3Config.bucket, Key: key }));
    }
  }
  expect(runner.child.exitCode).toBeNull();
  const tries = pages.map((p) => p.attempt);
  return { min: Math.min(...tries), max: Math.max(...tries) };
}

describe("readiness with S3 stopped", () => {
  it("the api's /readyz is 503 naming S3 while it is down, and ready again once it is back", async () => {
    expect((await api.app.request("/readyz")).status).toBe(200);
    await proxy.stop();
    let backAt = 0;
    try {
      const res = await api.app.request("/readyz");
      expect(res.status).toBe(503);
      const { error } = await body(res);
      expect(error).toMatchObject({ code: "unavailable", message: "Not ready: s3" });
      expect(error.details.checks).toMatchObject({ s3: "failed", postgres: "ok" });
      // The runner stays alive through the outage (its readiness checks only the database).
      expect((await fetch(`${runnerHealth}/healthz`)).status).toBe(200);
    } finally {
      await proxy.start();
      backAt = Date.now();
    }
    await waitUntil("/readyz ready again", async () => (await api.app.request("/readyz")).status === 200, 30_000);
    record("s3 stopped: api readiness", { readyAgainMs: Date.now() - backAt });
  });
});

describe("S3 stopped while the render runner has pages to write", () => {
  it("fails the tasks (a write cut before its answer among them), retries, and completes every page once when S3 is back", async () => {
    const pages = long ? [1, 2, 3, 4, 5, 6] : [1, 2];
    const p = await analysedRenderOnly(api, pages);
    // Slow answers hold the first page write's answer in the proxy while S3 has already received it.
    proxy.delay(800);
    let cutWrite = "";
    let cutWriteStored = false;
    try {
      await generate(api, p);
      await waitUntil("a page write on its way to S3", async () => {
        cutWrite = proxy.requests.find((r) => r.startsWith("PUT ") && r.includes(p.id)) ?? "";
        return cutWrite !== "";
      });
      await new Promise((r) => setTimeout(r, 300));
      await proxy.stop();
      proxy.delay(0);
      // Whether S3 kept that write although its answer never came (the retry must then overwrite it).
      const key = decodeURIComponent(cutWrite.split(" ")[1]!.split("?")[0]!).slice(`/${api.s3Config.bucket}/`.length);
      const direct = createS3Client({ ...api.s3Config, endpoint: inject("s3Endpoint") });
      cutWriteStored = await direct.send(new HeadObjectCommand({ Bucket: api.s3Config.bucket, Key: key })).then(
        () => true,
        () => false,
      );
      // Every page's job has failed at least once (long mode: twice) against the stopped store.
      await jobsFailed(api, p.id, "render_page", pages.length + 1, long ? 2 : 1, /./);
      expect(runner.child.exitCode).toBeNull();
      expect((await pagesOf(api, p.id)).map((page) => page.status)).not.toContain("done");
    } finally {
      proxy.delay(0);
      await proxy.start();
    }
    const backAt = Date.now();
    const ready = await waitForStatus(api.app, p.token, p.id, ["preview_ready", "generation_failed"], 90_000);
    expect(ready.status, ready.failureReason).toBe("preview_ready");
    const tries = await assertEachPageDoneOnce(p.id, pages.length + 1);
    expect(tries.min).toBeGreaterThanOrEqual(long ? 3 : 2);
    record("s3 stopped mid-write, then back: render pages", {
      pages: pages.length + 1,
      minTries: tries.min,
      cutWriteStored,
      recoveryMs: Date.now() - backAt,
    });
  }, 150_000);
});

describe("slow S3", () => {
  it("still completes every page once", async () => {
    const delayMs = long ? 2_000 : 1_000;
    const pages = long ? [1, 2, 3, 4] : [1, 2];
    const p = await analysedRenderOnly(api, pages);
    proxy.delay(delayMs);
    const startedAt = Date.now();
    try {
      await generate(api, p);
      const ready = await waitForStatus(api.app, p.token, p.id, ["preview_ready", "generation_failed"], 180_000);
      expect(ready.status, ready.failureReason).toBe("preview_ready");
    } finally {
      proxy.delay(0);
    }
    const tries = await assertEachPageDoneOnce(p.id, pages.length + 1);
    record("slow s3: render pages", {
      delayMsPerResponse: delayMs,
      pages: pages.length + 1,
      maxTries: tries.max,
      previewMs: Date.now() - startedAt,
    });
  }, 200_000);
});

describe("S3 hanging (requests accepted, never answered)", () => {
  it("has the runner's requests abandoned after S3_TIMEOUT_SECONDS and retried; the pages complete once it answers", async () => {
    const p = await analysedRenderOnly(api, [1]);
    proxy.hang();
    try {
      await generate(api, p);
      await jobsFailed(api, p.id, "render_page", 2, 1, /timed out after \d+ ms of inactivity/);
      expect(runner.child.exitCode).toBeNull();
    } finally {
      proxy.hang(false);
    }
    const answersAt = Date.now();
    const ready = await waitForStatus(api.app, p.token, p.id, ["preview_ready", "generation_failed"], 90_000);
    expect(ready.status, ready.failureReason).toBe("preview_ready");
    const tries = await assertEachPageDoneOnce(p.id, 2);
    expect(tries.min).toBeGreaterThanOrEqual(2);
    record("s3 hanging, then answering: render pages", {
      timeoutS: S3_TIMEOUT_S,
      minTries: tries.min,
      recoveryMs: Date.now() - answersAt,
    });
  }, 150_000);
});
