// `npm run start:api` as a process: serves on PORT, and on SIGTERM stops accepting, finishes the
// request in flight, closes its pools and exits 0.
import net from "node:net";
import type { Spawned } from "@faceapp/testkit";
import { afterAll, expect, it } from "vitest";
import { spawnApiProcess, useApi } from "@faceapp/testkit/api";

const api = useApi();
let server: Spawned | undefined;
afterAll(async () => {
  await server?.stop("SIGKILL");
});

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1", () => resolve(socket));
    socket.once("error", reject);
  });
}

it("serves, then drains on SIGTERM: in-flight request answered, new connections refused, exit 0", async () => {
  const started = await spawnApiProcess(api, { LOG_LEVEL: "info" });
  server = started.server;
  const { port } = started;

  const health = await fetch(`http://127.0.0.1:${port}/healthz`);
  expect(health.status).toBe(200);

  // A request whose body is only half sent: in flight when SIGTERM arrives.
  const socket = await connect(port);
  const payload = JSON.stringify({ email: "drain@example.com", password: "a wrong password" });
  let response = "";
  socket.on("data", (d) => (response += d));
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  socket.write(
    `POST /v1/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${payload.length}\r\nConnection: close\r\n\r\n${payload.slice(0, 10)}`,
  );
  await new Promise((r) => setTimeout(r, 200));
  server.child.kill("SIGTERM");
  await server.waitForLog((line) => String(line.msg).startsWith("shutting down"));
  // no new connections once draining
  await expect(connect(port)).rejects.toThrow(/ECONNREFUSED/);
  expect(server.child.exitCode).toBeNull(); // still finishing the request in flight

  socket.write(payload.slice(10));
  await closed;
  expect(response).toMatch(/^HTTP\/1\.1 401/);
  expect(response).toContain("invalid_credentials");
  expect(await server.exited).toBe(0);
  expect(server.logs.map((line) => line.msg)).toContain("stopped");
});
