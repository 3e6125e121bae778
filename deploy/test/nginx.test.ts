// compose/nginx.conf run by a real nginx (when installed): the SPA with its fallback, /api/ proxied to
// the api without the prefix, and event streams passed through as they are written (no buffering).
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import type net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "@faceapp/testkit";
import { installed, read } from "./compose-helpers.ts";

const nginxBinary = ["/usr/sbin/nginx", "nginx"].find((b) => (b.startsWith("/") ? fs.existsSync(b) : installed(b)));

const STORE = "https://storage.example.com";
let dir: string;
let nginx: ChildProcess;
let api: http.Server;
let base: string;
const seen: { url: string; forwardedFor?: string; realIp?: string; proto?: string; host?: string }[] = [];

async function listen(server: http.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as net.AddressInfo).port;
}

beforeAll(async () => {
  if (!nginxBinary) return;
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "faceapp-nginx-"));
  fs.chmodSync(dir, 0o755);
  fs.mkdirSync(path.join(dir, "html/assets"), { recursive: true });
  fs.writeFileSync(path.join(dir, "html/index.html"), "<!doctype html><title>faceapp</title>");
  fs.writeFileSync(path.join(dir, "html/assets/app-1234.js"), "console.log(1)");

  // A stand-in api: echoes what it received, and streams two events 1.5 s apart.
  api = http.createServer((req, res) => {
    seen.push({
      url: req.url ?? "",
      forwardedFor: req.headers["x-forwarded-for"] as string,
      realIp: req.headers["x-real-ip"] as string,
      proto: req.headers["x-forwarded-proto"] as string,
      host: req.headers.host,
    });
    if (req.url === "/v1/stream") {
      res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
      res.write("event: tick\ndata: 1\n\n");
      setTimeout(() => res.end("event: tick\ndata: 2\n\n"), 1500);
      return;
    }
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ url: req.url }));
  });
  const apiPort = await listen(api);
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;

  const site = read("compose/nginx.conf")
    .replace("server api:8000;", `server 127.0.0.1:${apiPort};`)
    .replace("listen 80;", `listen 127.0.0.1:${port};`)
    .replace("root /usr/share/nginx/html;", `root ${dir}/html;`)
    // What the image's template step does at start (compose/web.Dockerfile).
    .replaceAll("$" + "{S3_PUBLIC_ENDPOINT_URL}", STORE);
  expect(site).toContain(`127.0.0.1:${apiPort}`);
  const temp = ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"]
    .map((t) => `${t}_temp_path ${dir}/${t};`)
    .join("\n  ");
  fs.writeFileSync(
    path.join(dir, "nginx.conf"),
    `${process.getuid?.() === 0 ? "user root;\n" : ""}daemon off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events {}
http {
  access_log off;
  include /etc/nginx/mime.types;
  ${temp}
${site}
}
`,
  );
  execFileSync(nginxBinary, ["-t", "-q", "-p", dir, "-c", path.join(dir, "nginx.conf")], { stdio: "pipe" });
  nginx = spawn(nginxBinary, ["-p", dir, "-c", path.join(dir, "nginx.conf")], { stdio: "ignore" });
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(`${base}/healthz`)).ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`nginx did not start: ${fs.readFileSync(path.join(dir, "error.log"), "utf8")}`);
});

afterAll(async () => {
  if (nginx && nginx.exitCode === null) {
    const exited = new Promise((r) => nginx.once("exit", r));
    nginx.kill("SIGQUIT");
    await exited;
  }
  await new Promise((r) => (api ? api.close(r) : r(undefined)));
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!nginxBinary)("compose/nginx.conf in nginx", () => {
  it("answers its own health check and serves the SPA, falling back to index.html for app routes", async () => {
    expect(await (await fetch(`${base}/healthz`)).text()).toBe("ok\n");
    const route = await fetch(`${base}/books/land-of-wonders`);
    expect(route.status).toBe(200);
    expect(await route.text()).toContain("<title>faceapp</title>");
    expect(route.headers.get("cache-control")).toBe("no-cache");
    const asset = await fetch(`${base}/assets/app-1234.js`);
    expect(asset.headers.get("cache-control")).toContain("immutable");
    expect((await fetch(`${base}/assets/missing.js`)).status).toBe(404);
  });

  it("proxies /api/ to the api with the prefix removed and the client's address forwarded", async () => {
    const res = await fetch(`${base}/api/v1/books?limit=2`);
    expect(await res.json()).toEqual({ url: "/v1/books?limit=2" });
    const last = seen.at(-1)!;
    expect(last.forwardedFor).toBe("127.0.0.1");
  });

  it("appends the address it saw to X-Forwarded-For, the same as X-Real-IP: one hop for TRUST_PROXY", async () => {
    await fetch(`${base}/api/v1/books`, { headers: { "x-forwarded-for": "203.0.113.9, 198.51.100.1" } });
    const last = seen.at(-1)!;
    expect(last.forwardedFor).toBe("203.0.113.9, 198.51.100.1, 127.0.0.1");
    expect(last.realIp).toBe("127.0.0.1");
    expect(last.forwardedFor!.split(", ").at(-1)).toBe(last.realIp);
    expect(last.proto).toBe("http");
  });

  it("puts the security headers on the app and its files: the policy allows the store, no inline script", async () => {
    for (const route of ["/", "/books/land-of-wonders", "/assets/app-1234.js", "/assets/missing.js"]) {
      const res = await fetch(`${base}${route}`);
      const csp = res.headers.get("content-security-policy") ?? "";
      expect(csp, route).toContain("script-src 'self';");
      expect(csp, route).not.toContain("unsafe");
      expect(csp, route).toContain(`connect-src 'self' ${STORE};`);
      expect(csp, route).toContain(`img-src 'self' data: blob: ${STORE};`);
      expect(csp, route).toContain("frame-ancestors 'none'");
      expect(res.headers.get("x-content-type-options"), route).toBe("nosniff");
      expect(res.headers.get("x-frame-options"), route).toBe("DENY");
      expect(res.headers.get("referrer-policy"), route).toBe("no-referrer");
      // Plain http here: no HSTS.
      expect(res.headers.get("strict-transport-security"), route).toBeNull();
    }
    expect((await fetch(`${base}/`)).headers.get("cache-control")).toBe("no-cache");
  });

  it("sends HSTS when a proxy in front says the client came over https, and tells the api", async () => {
    const res = await fetch(`${base}/`, { headers: { "x-forwarded-proto": "https" } });
    expect(res.headers.get("strict-transport-security")).toMatch(/^max-age=\d+; includeSubDomains$/);
    await fetch(`${base}/api/v1/books`, { headers: { "x-forwarded-proto": "https" } });
    expect(seen.at(-1)!.proto).toBe("https");
  });

  it("passes an event stream through as it is written, not when it ends", async () => {
    const started = Date.now();
    const res = await fetch(`${base}/api/v1/stream`);
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const reader = res.body!.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    const firstAfter = Date.now() - started;
    expect(first).toContain("data: 1");
    expect(firstAfter).toBeLessThan(1200); // the second event comes 1.5 s later
    let rest = "";
    for (let r = await reader.read(); !r.done; r = await reader.read()) rest += new TextDecoder().decode(r.value);
    expect(rest).toContain("data: 2");
  });
});
