// Request id, one structured log line per request, and Prometheus metrics by route and status.
import { randomUUID } from "node:crypto";
import type { Logger } from "@faceapp/core";
import type { MiddlewareHandler } from "hono";
import { routePath } from "hono/route";
import { Counter, collectDefaultMetrics, Histogram, Registry } from "prom-client";
import type { AppEnv } from "./types.ts";

/** Sets `requestId` (a sane incoming X-Request-Id, else a new one) and a child logger carrying it. */
export function requestContext(logger: Logger): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const incoming = c.req.header("x-request-id");
    const requestId = incoming && /^[\w.-]{8,64}$/.test(incoming) ? incoming : randomUUID();
    c.set("requestId", requestId);
    c.set("log", logger.child({ requestId }));
    c.header("X-Request-Id", requestId);
    await next();
  };
}

/** A fresh registry per app, so several apps (tests) never collide. */
export function createMetrics(): { registry: Registry; middleware: MiddlewareHandler<AppEnv> } {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const requests = new Counter({
    name: "http_requests_total",
    help: "HTTP requests by method, route and status",
    labelNames: ["method", "route", "status"],
    registers: [registry],
  });
  const duration = new Histogram({
    name: "http_request_duration_seconds",
    help: "HTTP request latency by method, route and status",
    labelNames: ["method", "route", "status"],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const middleware: MiddlewareHandler<AppEnv> = async (c, next) => {
    const start = performance.now();
    await next();
    const seconds = (performance.now() - start) / 1000;
    // The route pattern, never the raw path: ids would make every request its own series.
    const route =
      c.req.method === "OPTIONS" ? "preflight" : c.res.status === 404 && !matched(c) ? "unmatched" : routePath(c, -1);
    const labels = { method: c.req.method, route, status: String(c.res.status) };
    requests.inc(labels);
    duration.observe(labels, seconds);
    c.get("log")?.info(
      { method: c.req.method, route, path: c.req.path, status: c.res.status, ms: Math.round(seconds * 1000) },
      "request",
    );
  };
  return { registry, middleware };
}

function matched(c: Parameters<MiddlewareHandler<AppEnv>>[0]): boolean {
  const path = routePath(c, -1);
  return path !== "*" && path !== "/*";
}
