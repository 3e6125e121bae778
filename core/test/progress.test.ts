import { describe, expect, it } from "vitest";
import { createPostgresBus, createRedisBus, type ProgressBus, type ProgressEvent } from "@faceapp/core";
import { describeWithRedis, redisPrefix, redisUrl, useTestDatabase } from "@faceapp/testkit";

const t = useTestDatabase();

async function roundTrip(publisher: ProgressBus, subscriber: ProgressBus) {
  const a = crypto.randomUUID();
  const b = crypto.randomUUID();
  const seen: [string, ProgressEvent][] = [];
  const stopA = subscriber.subscribe(a, (e) => seen.push([a, e]));
  const stopB = subscriber.subscribe(b, (e) => seen.push([b, e]));
  expect(subscriber.listenerCount()).toBe(2);
  // Subscriptions are established asynchronously; publish until the first message lands.
  const deadline = Date.now() + 5000;
  while (!seen.length && Date.now() < deadline) {
    await publisher.publish(a, [{ id: "1", type: "status", data: { status: "analyzing" } }]);
    await new Promise((r) => setTimeout(r, 50));
  }
  seen.length = 0;
  await publisher.publish(b, [{ type: "page", data: { page: "page_1", state: "progress", percent: 50 } }]);
  await new Promise((r) => setTimeout(r, 200));
  expect(seen).toEqual([[b, { type: "page", data: { page: "page_1", state: "progress", percent: 50 } }]]);
  stopA();
  stopB();
  expect(subscriber.listenerCount()).toBe(0);
}

describe("the progress bus", () => {
  it("over Postgres NOTIFY delivers each personalisation's events to its own listeners only", async () => {
    const sender = createPostgresBus(t.sql);
    const receiver = createPostgresBus(t.sql);
    await roundTrip(sender, receiver);
    await sender.close();
    await receiver.close();
  });

  it("never throws when its transport is down; it reports the failure", async () => {
    const errors: unknown[] = [];
    const dead = createRedisBus("redis://127.0.0.1:1", { onError: (e) => errors.push(e) });
    await expect(dead.publish(crypto.randomUUID(), [{ type: "status", data: {} }])).resolves.toBeUndefined();
    expect(errors.length).toBe(1);
    await dead.close();
  });
});

describeWithRedis("the progress bus over Redis", () => {
  it("delivers each personalisation's events to its own listeners only", async () => {
    const channel = `${redisPrefix()}progress`;
    const sender = createRedisBus(redisUrl as string, { channel });
    const receiver = createRedisBus(redisUrl as string, { channel });
    await roundTrip(sender, receiver);
    await sender.close();
    await receiver.close();
  });
});
