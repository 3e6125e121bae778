// Webhook deliveries end to end: the api registers endpoints and moves personalisations, a real render
// runner (graphile-worker on this file's database) signs and sends, and a receiver on loopback checks
// every signature with the Standard Webhooks library's own Webhook.verify. The receiver's host name is
// known only to the resolver the test hands both the api and the runner, so a delivery that arrives
// at all was connected to the address that was checked, never to one resolved again.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { createPostgresBus, createS3Client, type LookupAll, transition } from "@faceapp/core";
import pino from "pino";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRunner } from "../../runners/src/runtime/runner.ts";
import { renderTasks } from "../../runners/src/tasks/index.ts";
import { EXCERPT_CHARS } from "../../runners/src/webhooks/deliver.ts";
import { createApp } from "../src/app.ts";
import { bearer, jsonInit, signUp, testEnv, useApi } from "@faceapp/testkit/api";
import { book, createPersonalization, readyPhoto } from "@faceapp/testkit/api";

const api = useApi();
const KEY = "webhook-delivery-test-key-0123456789abcdef";
const RETRY_DELAYS_MS = [300, 600];
const zone: Record<string, string> = { "receiver.test": "127.0.0.1", "rebind.test": "127.0.0.1" };
const lookup: LookupAll = async (host) => {
  const address = zone[host];
  return address ? [{ address, family: 4 }] : [];
};

interface Received {
  path: string;
  headers: Record<string, string>;
  body: string;
  at: number;
}
const received: Received[] = [];
/** What each path answers; by default 200. */
const behaviour: Record<string, (res: http.ServerResponse, count: number) => void> = {};
const bigResponse = { finished: false, closed: false };
let receiver: http.Server;
let base: string;
let app: ReturnType<typeof createApp>;
let runner: Awaited<ReturnType<typeof startRunner>>;
let slug: string;

beforeAll(async () => {
  receiver = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const path = req.url ?? "/";
      received.push({
        path,
        headers: req.headers as Record<string, string>,
        body: Buffer.concat(chunks).toString(),
        at: Date.now(),
      });
      const count = received.filter((r) => r.path === path).length;
      (behaviour[path] ?? ((r) => r.end("ok")))(res, count);
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  base = `http://receiver.test:${(receiver.address() as AddressInfo).port}`;
  app = createApp({ ...api.deps, env: testEnv({ WEBHOOKS_ALLOW_LOCAL: "true", WEBHOOK_ENCRYPTION_KEY: KEY }), lookup });
  slug = (await book(api)).slug;
  const unused = async () => {
    throw new Error("not used by this test");
  };
  runner = await startRunner({
    kind: "render",
    databaseUrl: api.pg.url,
    tasks: renderTasks,
    concurrency: 4,
    heartbeatSeconds: 1,
    staleAfterSeconds: 60,
    drainSeconds: 2,
    healthPort: 0,
    pollIntervalMs: 100,
    deps: {
      pg: api.pg,
      s3: createS3Client(api.s3Config),
      s3Config: api.s3Config,
      bus: createPostgresBus(api.pg.sql),
      logger: pino({ level: "silent" }),
      renderer: { render: unused, close: async () => {} },
      assembler: { assemble: unused },
      webhooks: {
        encryptionKey: KEY,
        allowLocal: true,
        lookup,
        retryDelaysMs: RETRY_DELAYS_MS,
        limits: { connectTimeoutMs: 2000, timeoutMs: 1500, maxResponseBytes: 16 * 1024 },
      },
    },
  });
});

afterAll(async () => {
  await runner?.stop();
  receiver?.closeAllConnections();
  await new Promise((resolve) => receiver?.close(resolve));
});

/** A user with one endpoint on `path`; returns its token, endpoint id and secret. */
async function endpoint(path: string, events = ["personalization.canceled", "personalization.failed"]) {
  const { token } = await signUp(app);
  const res = await app.request("/v1/webhooks", jsonInit("POST", { url: `${base}${path}`, events }, bearer(token)));
  if (res.status !== 201) throw new Error(`register: ${res.status} ${await res.text()}`);
  const { id, secret } = (await res.json()) as { id: string; secret: string };
  return { token, id, secret };
}

/** A personalisation of the user, canceled through the api: the move raises personalization.canceled. */
async function cancelOne(token: string): Promise<string> {
  const photo = await readyPhoto(app, token);
  const created = await createPersonalization(app, token, slug, photo);
  const { id } = (await created.json()) as { id: string };
  const res = await app.request(`/v1/personalizations/${id}/cancel`, { method: "POST", headers: bearer(token) });
  if (res.status !== 202) throw new Error(`cancel: ${res.status} ${await res.text()}`);
  return id;
}

interface Delivery {
  id: string;
  status: string;
  attempts: number;
  lastError: string | null;
  payload: { type: string; data: Record<string, unknown> };
  attemptLog: {
    attempt: number;
    startedAt: string;
    statusCode: number | null;
    error: string | null;
    responseExcerpt: string | null;
  }[];
}

async function deliveries(token: string, id: string): Promise<Delivery[]> {
  const res = await app.request(`/v1/webhooks/${id}/deliveries`, { headers: bearer(token) });
  expect(res.status).toBe(200);
  return ((await res.json()) as { items: Delivery[] }).items;
}

/** Polls the endpoint's only delivery until it has finished (succeeded or failed). */
async function finished(token: string, id: string, timeoutMs = 30_000): Promise<Delivery> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const [delivery] = await deliveries(token, id);
    if (delivery && (delivery.status === "succeeded" || delivery.status === "failed")) return delivery;
    if (Date.now() > deadline) throw new Error(`delivery not finished: ${JSON.stringify(delivery)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const at = (path: string) => received.filter((r) => r.path === path);
const verify = (secret: string, r: Received) => new Webhook(secret).verify(r.body, r.headers);

describe("webhook deliveries", () => {
  it("sends a signed event the receiver verifies with the specification's library, once", async () => {
    const { token, id, secret } = await endpoint("/ok");
    const quiet = await endpoint("/quiet", ["personalization.completed"]);
    const personalizationId = await cancelOne(token);
    await cancelOne(quiet.token);
    const delivery = await finished(token, id);
    expect(delivery).toMatchObject({ status: "succeeded", attempts: 1, lastError: null });
    expect(delivery.attemptLog).toEqual([
      expect.objectContaining({ attempt: 1, statusCode: 200, error: null, responseExcerpt: "ok" }),
    ]);
    const [request] = at("/ok");
    expect(request).toBeDefined();
    expect(request!.headers["webhook-id"]).toBe(delivery.id);
    expect(request!.headers["content-type"]).toBe("application/json");
    expect(verify(secret, request!)).toMatchObject({
      type: "personalization.canceled",
      data: { id: personalizationId, status: "canceled" },
    });
    expect(() => verify(`whsec_${Buffer.alloc(32, 1).toString("base64")}`, request!)).toThrow();
    // The other user subscribed to another event only.
    expect(await deliveries(quiet.token, quiet.id)).toEqual([]);
    expect(at("/quiet")).toEqual([]);
  });

  it("raises personalization.failed with its stage and reason from any failing move", async () => {
    const { token, id, secret } = await endpoint("/failed");
    const photo = await readyPhoto(app, token);
    const { id: pid } = (await (await createPersonalization(app, token, slug, photo)).json()) as { id: string };
    await api.pg.db
      .transaction()
      .execute((tx) => transition(tx, pid, "analysis_failed", { failureReason: "no face found" }));
    await finished(token, id);
    expect(verify(secret, at("/failed")[0]!)).toMatchObject({
      type: "personalization.failed",
      data: { id: pid, status: "analysis_failed", stage: "analysis", reason: "no face found" },
    });
  });

  it("retries a 500 with growing waits, the same webhook-id and a valid signature each time", async () => {
    behaviour["/flaky"] = (res, count) => {
      res.statusCode = count <= 2 ? 500 : 204;
      res.end(count <= 2 ? "try later" : undefined);
    };
    const { token, id, secret } = await endpoint("/flaky");
    await cancelOne(token);
    const delivery = await finished(token, id);
    expect(delivery).toMatchObject({ status: "succeeded", attempts: 3 });
    const log = [...delivery.attemptLog].reverse();
    expect(log.map((a) => a.statusCode)).toEqual([500, 500, 204]);
    expect(log[0]).toMatchObject({ error: "answered 500", responseExcerpt: "try later" });
    const starts = log.map((a) => Date.parse(a.startedAt));
    expect(starts[1]! - starts[0]!).toBeGreaterThanOrEqual(RETRY_DELAYS_MS[0]!);
    expect(starts[2]! - starts[1]!).toBeGreaterThanOrEqual(RETRY_DELAYS_MS[1]!);
    const requests = at("/flaky");
    expect(requests).toHaveLength(3);
    expect(new Set(requests.map((r) => r.headers["webhook-id"]))).toEqual(new Set([delivery.id]));
    for (const r of requests) expect(verify(secret, r)).toMatchObject({ type: "personalization.canceled" });
  });

  it("records the final failure once its retries are spent, and sends it again on request", async () => {
    let up = false;
    behaviour["/down"] = (res) => {
      res.statusCode = up ? 200 : 503;
      res.end();
    };
    const { token, id, secret } = await endpoint("/down");
    await cancelOne(token);
    const failed = await finished(token, id);
    expect(failed).toMatchObject({ status: "failed", attempts: RETRY_DELAYS_MS.length + 1, lastError: "answered 503" });

    up = true;
    const retry = await app.request(`/v1/webhooks/${id}/deliveries/${failed.id}/retry`, {
      method: "POST",
      headers: bearer(token),
    });
    expect(retry.status).toBe(202);
    expect(await retry.json()).toMatchObject({ id: failed.id, status: "pending" });
    const again = await finished(token, id);
    expect(again).toMatchObject({ id: failed.id, status: "succeeded", attempts: 4 });
    const last = at("/down").at(-1)!;
    expect(last.headers["webhook-id"]).toBe(failed.id);
    expect(verify(secret, last)).toMatchObject({ type: "personalization.canceled" });

    const unknown = await app.request(`/v1/webhooks/${id}/deliveries/${crypto.randomUUID()}/retry`, {
      method: "POST",
      headers: bearer(token),
    });
    expect(unknown.status).toBe(404);
  });

  it("gives up on a receiver that does not answer in time, and refuses a re-send while attempts go on", async () => {
    behaviour["/slow"] = () => {}; // never answers
    const { token, id } = await endpoint("/slow");
    await cancelOne(token);
    const [pending] = await deliveries(token, id);
    const early = await app.request(`/v1/webhooks/${id}/deliveries/${pending!.id}/retry`, {
      method: "POST",
      headers: bearer(token),
    });
    expect(early.status).toBe(409);
    expect(((await early.json()) as { error: { code: string } }).error.code).toBe("invalid_state");
    const delivery = await finished(token, id);
    expect(delivery.status).toBe("failed");
    expect(delivery.attemptLog.map((a) => a.error)).toEqual(Array(3).fill("no answer within 1500 ms"));
  });

  it("does not follow a redirect", async () => {
    behaviour["/redirect"] = (res) => {
      res.writeHead(307, { location: `${base}/redirect-target` }).end();
    };
    const { token, id } = await endpoint("/redirect");
    await cancelOne(token);
    const delivery = await finished(token, id);
    expect(delivery.status).toBe("failed");
    expect(delivery.lastError).toBe("answered 307: redirects are not followed");
    expect(at("/redirect-target")).toEqual([]);
  });

  it("reads a huge answer only up to its bound and keeps a short excerpt", async () => {
    behaviour["/big"] = (res) => {
      res.on("close", () => {
        bigResponse.closed = true;
      });
      res.on("finish", () => {
        bigResponse.finished = true;
      });
      const chunk = Buffer.alloc(64 * 1024, "x");
      let sent = 0;
      const pump = () => {
        while (sent < 50 * 1024 * 1024 && !res.destroyed) {
          sent += chunk.length;
          if (!res.write(chunk)) return void res.once("drain", pump);
        }
        res.end();
      };
      pump();
    };
    const { token, id } = await endpoint("/big");
    await cancelOne(token);
    const delivery = await finished(token, id);
    expect(delivery).toMatchObject({ status: "succeeded", attempts: 1 });
    expect(delivery.attemptLog[0]!.responseExcerpt).toBe("x".repeat(EXCERPT_CHARS));
    await expect.poll(() => bigResponse.closed).toBe(true);
    expect(bigResponse.finished).toBe(false);
  });

  it("checks the address again at delivery: a name that now resolves to a private address is refused", async () => {
    const url = `http://rebind.test:${(receiver.address() as AddressInfo).port}/rebind`;
    const { token } = await signUp(app);
    const res = await app.request(
      "/v1/webhooks",
      jsonInit("POST", { url, events: ["personalization.canceled"] }, bearer(token)),
    );
    expect(res.status).toBe(201);
    const { id } = (await res.json()) as { id: string };
    zone["rebind.test"] = "10.0.0.1";
    await cancelOne(token);
    const delivery = await finished(token, id);
    expect(delivery.status).toBe("failed");
    for (const attempt of delivery.attemptLog) {
      expect(attempt.error).toBe("refused: the host resolves to a non-public address: 10.0.0.1 is a private address");
      expect(attempt.statusCode).toBeNull();
    }
    expect(at("/rebind")).toEqual([]);
  });
});
