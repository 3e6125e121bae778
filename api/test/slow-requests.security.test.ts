// Slow-loris and slow bodies against a real api process: the server's timeouts cut them while it
// keeps answering everyone else, and event streams (long responses, not slow requests) are not cut.
import net from "node:net";
import { type Spawned, record } from "@faceapp/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  bearer,
  body,
  signUp,
  spawnApiProcess,
  useApi,
  book,
  createPersonalization,
  readyPhoto,
} from "@faceapp/testkit/api";

const api = useApi();
const HEADERS_TIMEOUT_S = 2;
const REQUEST_TIMEOUT_S = 4;
let server: Spawned;
let port = 0;

beforeAll(async () => {
  ({ server, port } = await spawnApiProcess(api, {
    SSE_HEARTBEAT_SECONDS: "1",
    HTTP_HEADERS_TIMEOUT_SECONDS: String(HEADERS_TIMEOUT_S),
    HTTP_REQUEST_TIMEOUT_SECONDS: String(REQUEST_TIMEOUT_S),
  }));
});
afterAll(async () => {
  await server?.stop("SIGKILL");
});

interface Trickle {
  /** Resolves when the server closes the connection: what it answered, and after how long. */
  closed: Promise<{ answer: string; ms: number }>;
}

/** Opens a connection that sends `head` and then one more byte of `rest` every 300 ms, forever. */
function trickle(head: string, rest: string): Trickle {
  const socket = net.connect({ port, host: "127.0.0.1" });
  const opened = Date.now();
  let answer = "";
  let sent = 0;
  const timer = setInterval(() => {
    if (!socket.destroyed) socket.write(rest[sent++ % rest.length]!);
  }, 300);
  socket.on("connect", () => socket.write(head));
  socket.on("data", (chunk) => {
    answer += chunk.toString("latin1");
  });
  socket.on("error", () => {});
  return {
    closed: new Promise((resolve) =>
      socket.on("close", () => {
        clearInterval(timer);
        resolve({ answer, ms: Date.now() - opened });
      }),
    ),
  };
}

describe("slow requests", () => {
  it("headers that never end (slow-loris) are cut with 408, and the api serves others meanwhile", async () => {
    const attackers = Array.from({ length: 200 }, (_, i) =>
      trickle(`GET /v1/books HTTP/1.1\r\nHost: api\r\nX-Slow-${i}: `, "abcdefghij"),
    );
    // While 200 connections dribble their headers, ordinary requests are answered.
    for (let i = 0; i < 5; i++) {
      const res = await fetch(`http://127.0.0.1:${port}/healthz`);
      expect(res.status).toBe(200);
    }
    const results = await Promise.all(attackers.map((a) => a.closed));
    for (const { answer } of results) {
      expect(answer).toMatch(/^HTTP\/1\.1 408 /);
      expect(answer).toContain('{"error":{"code":"request_timeout"');
    }
    const worst = Math.max(...results.map((r) => r.ms));
    // Never before the timeout; the cut itself is measured, not asserted against the clock.
    expect(Math.min(...results.map((r) => r.ms))).toBeGreaterThanOrEqual(HEADERS_TIMEOUT_S * 1000 - 50);
    record("slow-loris headers", {
      connections: attackers.length,
      headersTimeoutMs: HEADERS_TIMEOUT_S * 1000,
      worstCutMs: worst,
    });
    expect(server.child.exitCode).toBeNull();
  });

  it("a body that arrives a byte at a time is cut once the request timeout passes", async () => {
    const json = JSON.stringify({ email: "slow@example.com", password: "a password that is long" });
    const attackers = Array.from({ length: 20 }, () =>
      trickle(
        `POST /v1/auth/login HTTP/1.1\r\nHost: api\r\nContent-Type: application/json\r\nContent-Length: ${json.length}\r\n\r\n`,
        // Slower than the request timeout allows: the body is never complete in time.
        json.slice(0, 5),
      ),
    );
    const results = await Promise.all(attackers.map((a) => a.closed));
    for (const { answer } of results) expect(answer).toMatch(/^HTTP\/1\.1 408 |^$/);
    expect(Math.min(...results.map((r) => r.ms))).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_S * 1000 - 50);
    record("slow body", {
      connections: attackers.length,
      requestTimeoutMs: REQUEST_TIMEOUT_S * 1000,
      worstCutMs: Math.max(...results.map((r) => r.ms)),
    });
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
  });

  it("an event stream outlives the request timeout: it is a long response, not a slow request", async () => {
    await book(api, { slug: "slow-book" });
    const user = await signUp(api.app);
    const photo = await readyPhoto(api.app, user.token);
    const { id } = await body(await createPersonalization(api.app, user.token, "slow-book", photo));
    const res = await fetch(`http://127.0.0.1:${port}/v1/personalizations/${id}/events`, {
      headers: bearer(user.token),
    });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const started = Date.now();
    let heartbeats = 0;
    // Read until well past the request timeout; heartbeats keep arriving on the same connection.
    while (Date.now() - started < (REQUEST_TIMEOUT_S + 2) * 1000) {
      const { done, value } = await reader.read();
      expect(done).toBe(false);
      if (new TextDecoder().decode(value).includes(": heartbeat")) heartbeats++;
    }
    expect(heartbeats).toBeGreaterThanOrEqual(2);
    await reader.cancel();
  });
});
