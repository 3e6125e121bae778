// `npm run start:api` as a process: serves on PORT, and on SIGTERM stops accepting, finishes the
// request in flight, closes its pools and exits 0.
import { type ChildProcess, spawn } from "node:child_process";
import net from "node:net";
import { repoRoot } from "@faceapp/core";
import { afterAll, expect, it } from "vitest";
import { useApi } from "./helpers.ts";

const api = useApi();
let child: ChildProcess | undefined;
afterAll(() => {
  if (child && child.exitCode === null) child.kill("SIGKILL");
});

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1", () => resolve(socket));
    socket.once("error", reject);
  });
}

it("serves, then drains on SIGTERM: in-flight request answered, new connections refused, exit 0", async () => {
  const port = await freePort();
  child = spawn(process.execPath, ["--import", "tsx", "api/src/server.ts"], {
    cwd: repoRoot,
    env: {
      PATH: process.env.PATH,
      PORT: String(port),
      HOST: "127.0.0.1",
      DATABASE_URL: api.db.url,
      AWS_ENDPOINT_URL: api.s3Config.endpoint,
      AWS_ACCESS_KEY_ID: api.s3Config.credentials!.accessKeyId,
      AWS_SECRET_ACCESS_KEY: api.s3Config.credentials!.secretAccessKey,
      S3_BUCKET_NAME: api.s3Config.bucket,
      JWT_SECRET_KEY: "x".repeat(40),
      MIGRATE_ON_START: "false",
      LOG_LEVEL: "info",
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout!.on("data", (d) => (output += d));
  child.stderr!.on("data", (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => child!.once("exit", (code) => resolve(code)));
  while (!output.includes("api listening")) {
    if (child.exitCode !== null) throw new Error(`server exited early:\n${output}`);
    await new Promise((r) => setTimeout(r, 50));
  }

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
  child.kill("SIGTERM");
  while (!output.includes("shutting down")) await new Promise((r) => setTimeout(r, 20));
  // no new connections once draining
  await expect(connect(port)).rejects.toThrow(/ECONNREFUSED/);
  expect(child.exitCode).toBeNull(); // still finishing the request in flight

  socket.write(payload.slice(10));
  await closed;
  expect(response).toMatch(/^HTTP\/1\.1 401/);
  expect(response).toContain("invalid_credentials");
  expect(await exited).toBe(0);
  expect(output).toContain('"msg":"stopped"');
});
