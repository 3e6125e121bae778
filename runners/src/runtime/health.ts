import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";

/**
 * One readiness check's answer: `ok`, and, for the face engine, `status` (`warming` while ComfyUI runs
 * the warm-up prompt), `reason` (why not ok), `engine` and `queueRemaining` (ComfyUI's queue depth).
 */
export type Check = { ok: boolean; status?: string; reason?: string; [detail: string]: unknown };
export type Readiness = () => Promise<Record<string, Check>>;

/** What /readyz answers: 200 only when `ready`; `warming` and `unavailable` are 503 with the reason. */
export interface ReadyAnswer {
  status: "ready" | "warming" | "unavailable";
  /** The face engine (gpu runner). */
  engine?: string;
  /** ComfyUI's pending plus running prompts, when it answered. */
  queueDepth?: number;
  /** Why it is not ready: each failing check as `name: reason`. */
  reason?: string;
  checks: Record<string, Check>;
}

/** The /readyz body from the checks: warming only when every failing check is warming. */
export function readyAnswer(checks: Record<string, Check>): ReadyAnswer {
  const failing = Object.entries(checks).filter(([, c]) => !c.ok);
  const status =
    failing.length === 0 ? "ready" : failing.every(([, c]) => c.status === "warming") ? "warming" : "unavailable";
  const answer: ReadyAnswer = { status, checks };
  for (const c of Object.values(checks)) {
    if (typeof c.engine === "string") answer.engine = c.engine;
    if (typeof c.queueRemaining === "number") answer.queueDepth = c.queueRemaining;
  }
  if (failing.length > 0) {
    answer.reason = failing
      .map(([name, c]) => `${name}: ${String(c.reason ?? c.problem ?? c.error ?? "not ready")}`)
      .join("; ");
  }
  return answer;
}

/**
 * The runner's /healthz (process alive: for liveness), /readyz (ready to take jobs: for readiness and
 * load balancing; 503 while warming) and /metrics (Prometheus, when a registry is given). The port is
 * the runner's own, never published outside the deployment.
 */
export async function startHealthServer(
  port: number,
  readiness: Readiness,
  registry?: Registry,
): Promise<{ port: number; close(): Promise<void> }> {
  const server = http.createServer(async (req, res) => {
    if (req.url === "/healthz") {
      res.writeHead(200, { "content-type": "application/json" }).end('{"status":"ok"}');
      return;
    }
    if (req.url === "/readyz") {
      const checks = await readiness().catch((error) => ({ runner: { ok: false, error: String(error) } }));
      const answer = readyAnswer(checks);
      res
        .writeHead(answer.status === "ready" ? 200 : 503, { "content-type": "application/json" })
        .end(JSON.stringify(answer));
      return;
    }
    if (req.url === "/metrics" && registry) {
      try {
        const text = await registry.metrics();
        res.writeHead(200, { "content-type": registry.contentType }).end(text);
      } catch (error) {
        res.writeHead(500, { "content-type": "text/plain" }).end(String(error));
      }
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
