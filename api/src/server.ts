// `npm run start:api`: wires the real dependencies, serves, and drains on SIGTERM.
import fs from "node:fs";
import path from "node:path";
import { createLogger, createProgressBus, createS3Client, repoRoot } from "@faceapp/core";
import { resolveServices } from "@faceapp/core/local";
import { createPg, migrate } from "@faceapp/sql";
import { serve } from "@hono/node-server";
import { Redis } from "ioredis";
import { createApp } from "./app.ts";
import { clientErrorResponse } from "./http/errors.ts";
import { dataDir, env } from "./env.ts";

const logger = createLogger("api", env.LOG_LEVEL);

const services = await resolveServices(env, dataDir, (line) => logger.debug({ service: "postgres" }, line));
if (env.MIGRATE_ON_START) await migrate(services.databaseUrl);
const pg = createPg(services.databaseUrl, { applicationName: "faceapp-api" });
const redis = env.REDIS_URL ? new Redis(env.REDIS_URL, { maxRetriesPerRequest: 2, enableOfflineQueue: false }) : null;
redis?.on("error", (err) => logger.warn({ err }, "redis error"));
// One subscription per process: Redis pub/sub when configured, Postgres LISTEN/NOTIFY otherwise.
const bus = createProgressBus(env.REDIS_URL, pg.sql, {
  onError: (err) => logger.warn({ err }, "progress publish failed"),
});

// The embedded run serves the built web app (npm run build -w @faceapp/web) from the same origin.
const webDist =
  env.WEB_DIST_DIR === "off" ? undefined : path.resolve(env.WEB_DIST_DIR ?? path.join(repoRoot, "web/dist"));
// Aborted at shutdown: event streams end, so draining does not wait on them.
const closing = new AbortController();
const app = createApp({
  closing: closing.signal,
  webDist: webDist && fs.existsSync(path.join(webDist, "index.html")) ? webDist : undefined,
  db: pg.db,
  s3: createS3Client(services.s3),
  s3Config: services.s3,
  redis,
  bus,
  env,
  logger,
});

const server = serve(
  {
    fetch: app.fetch,
    port: env.PORT,
    hostname: env.HOST,
    // A request must arrive in full within these (Node answers 408 and closes); event streams are
    // responses and are not cut. Checked every second rather than Node's default 30.
    serverOptions: {
      headersTimeout: env.HTTP_HEADERS_TIMEOUT_SECONDS * 1000,
      requestTimeout: env.HTTP_REQUEST_TIMEOUT_SECONDS * 1000,
      connectionsCheckingInterval: 1000,
    },
  },
  (info) => logger.info({ port: info.port, host: env.HOST, redis: Boolean(redis) }, "api listening"),
);

// Requests Node refuses before the app sees them are answered in the error envelope too.
server.on("clientError", (err: NodeJS.ErrnoException, socket: import("node:stream").Duplex) => {
  const answer = socket.writable ? clientErrorResponse(err) : null;
  if (answer) socket.end(answer);
  else socket.destroy();
});

// Requests still being answered: the server's close callback can fire before they finish, so
// shutdown waits on this count instead.
let inFlight = 0;
let onDrained: (() => void) | undefined;
server.on("request", (_req, res: import("node:http").ServerResponse) => {
  inFlight += 1;
  res.once("close", () => {
    inFlight -= 1;
    if (inFlight === 0) onDrained?.();
  });
});

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  // Stop accepting first: the line below tells watchers that new connections are refused.
  const http = server as import("node:http").Server;
  http.close();
  logger.info({ signal }, "shutting down: no new connections, finishing in-flight requests");
  const forced = setTimeout(() => {
    logger.error("in-flight requests did not finish in 25 s; exiting");
    process.exit(1);
  }, 25_000);
  forced.unref();
  // Drop idle keep-alive sockets; then wait for the requests being answered.
  closing.abort();
  http.closeIdleConnections();
  if (inFlight > 0) await new Promise<void>((resolve) => (onDrained = resolve));
  http.closeIdleConnections();
  await bus.close();
  await pg.close();
  await redis?.quit().catch(() => {});
  await services.stop();
  logger.info("stopped");
  process.exit(0);
}
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));
