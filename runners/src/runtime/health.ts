import http from "node:http";
import type { AddressInfo } from "node:net";
import { registry } from "./metrics.ts";

export type Readiness = () => Promise<Record<string, { ok: boolean; [detail: string]: unknown }>>;

/**
 * The runner's /healthz (process alive), /readyz (its dependencies answer) and /metrics (Prometheus;
 * counts only, no personal data; the port is the runner's own, not published like the api's).
 */
export async function startHealthServer(
  port: number,
  readiness: Readiness,
): Promise<{ port: number; close(): Promise<void> }> {
  const server = http.createServer(async (req, res) => {
    if (req.url === "/healthz") {
      res.writeHead(200, { "content-type": "application/json" }).end('{"status":"ok"}');
      return;
    }
    if (req.url === "/readyz") {
      const checks = await readiness().catch((error) => ({ runner: { ok: false, error: String(error) } }));
      const ok = Object.values(checks).every((c) => c.ok);
      res
        .writeHead(ok ? 200 : 503, { "content-type": "application/json" })
        .end(JSON.stringify({ status: ok ? "ok" : "unavailable", checks }));
      return;
    }
    if (req.url === "/metrics") {
      res.writeHead(200, { "content-type": registry.contentType }).end(await registry.metrics());
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(port, "0.0.0.0", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
