// Event streams as Node serves them (server.ts): written straight to Node's response, not through a
// web ReadableStream. The head carries every middleware's headers; replay, live events and heartbeats
// arrive; a client that goes leaves nothing behind; a client that stops reading holds a bounded
// amount of the api's memory, and gets the latest events once it reads again.
import type { AddressInfo } from "node:net";
import net from "node:net";
import { type ServerType, serve } from "@hono/node-server";
import type { Server, ServerResponse } from "node:http";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { App } from "../src/app.ts";
import { MAX_PENDING_TICKS } from "../src/services/event-stream.ts";
import {
  bearer,
  body,
  signUp,
  useApi,
  book,
  createPersonalization,
  readEvents,
  readyPhoto,
} from "@faceapp/testkit/api";

const api = useApi({ env: { SSE_HEARTBEAT_SECONDS: "1" } });
let server: ServerType;
let base: string;
/** The Node response of each event stream the server answered, newest last. */
const responses: ServerResponse[] = [];

beforeAll(async () => {
  server = serve({ fetch: api.app.fetch, port: 0, hostname: "127.0.0.1" });
  await new Promise<void>((resolve) => server.once("listening", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  server.on("request", (req, res: ServerResponse) => {
    if (req.url?.endsWith("/events")) responses.push(res);
  });
});
afterAll(async () => {
  (server as Server).closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

async function waitUntil(probe: () => boolean, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function watcher(app: App, slug: string) {
  await book(api, { slug });
  const user = await signUp(app);
  const photo = await readyPhoto(app, user.token);
  const { id } = await body(await createPersonalization(app, user.token, slug, photo));
  return { ...user, id };
}

it("sends the middlewares' headers, the replay, live events and heartbeats; a client that goes leaves no listener", async () => {
  const user = await watcher(api.app, "node-stream");
  const bus = api.deps.bus;
  const before = bus.listenerCount();
  const res = await fetch(`${base}/v1/personalizations/${user.id}/events`, {
    headers: { ...bearer(user.token), "x-request-id": "node-stream-0001" },
  });
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toBe("text/event-stream");
  expect(res.headers.get("cache-control")).toBe("no-cache, no-transform");
  expect(res.headers.get("x-request-id")).toBe("node-stream-0001");
  expect(res.headers.get("x-content-type-options")).toBe("nosniff");
  expect(res.headers.get("content-security-policy")).toContain("default-src 'none'");
  expect(res.headers.get("content-length")).toBeNull();
  expect(res.headers.get("x-hono-already-sent")).toBeNull();

  const reading = readEvents(
    res,
    (events, comments) => events.some((e) => e.event === "page") && comments.includes("heartbeat"),
  );
  await waitUntil(() => bus.listenerCount() === before + 1);
  await bus.publish(user.id, [
    { type: "page", data: { stage: "preview", page: "page_1", state: "progress", percent: 40 } },
  ]);
  const { events, comments } = await reading;
  expect(events[0]).toMatchObject({ event: "status", data: { status: "analyzing" } });
  expect(events.find((e) => e.event === "page")).toEqual({
    event: "page",
    data: { stage: "preview", page: "page_1", state: "progress", percent: 40 },
  });
  expect(comments).toContain("heartbeat");
  // readEvents cancelled the body and the connection closed: the subscription must be gone.
  await waitUntil(() => bus.listenerCount() === before);
  await waitUntil(() => responses.at(-1)!.writableEnded);
}, 30_000);

it("a client that stops reading holds a bounded amount of memory, and gets the latest events once it reads", async () => {
  const user = await watcher(api.app, "node-stalled");
  const bus = api.deps.bus;
  const before = bus.listenerCount();
  const { port } = server.address() as AddressInfo;
  // A raw client that sends the request, then reads nothing until told to.
  const socket = net.connect(port, "127.0.0.1");
  socket.setNoDelay(true);
  socket.write(
    `GET /v1/personalizations/${user.id}/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${user.token}\r\n\r\n`,
  );
  await waitUntil(() => bus.listenerCount() === before + 1);
  socket.pause();
  const out = responses.at(-1)!;
  // 16 MB of ticks, far more than the socket's buffers take: the stream waits instead of queueing them.
  const filler = "x".repeat(16 * 1024);
  for (let i = 0; i < 1024; i++) {
    await bus.publish(user.id, [
      { type: "page", data: { stage: "preview", page: "page_1", state: "progress", percent: i % 100, filler } },
    ]);
  }
  await new Promise((r) => setTimeout(r, 500));
  // What Node holds for the client: about its high-water mark and the message that crossed it.
  expect(out.writableLength).toBeLessThanOrEqual(out.writableHighWaterMark + 2 * filler.length);
  expect(out.writableEnded).toBe(false);
  // Reading again, the client gets the newest tick (older ones past the bound were dropped).
  let text = "";
  socket.setEncoding("utf8");
  socket.on("data", (chunk: string) => {
    text = text.slice(-200_000) + chunk; // the tail is enough
  });
  socket.resume();
  await bus.publish(user.id, [
    { type: "page", data: { stage: "preview", page: "page_1", state: "progress", percent: 100 } },
  ]);
  await waitUntil(() => text.includes('"percent":100'), 20_000);
  expect(MAX_PENDING_TICKS).toBeLessThan(1024);
  socket.destroy();
  await waitUntil(() => bus.listenerCount() === before);
}, 60_000);
