// `npm run start:api`: wires the real dependencies, serves, and drains on SIGTERM.
import { createLogger, createProgressBus, createS3Client } from "@faceapp/core";
import { resolveServices } from "@faceapp/core/local";
import { createDb, migrate } from "@faceapp/sql";
import { serve } from "@hono/node-server";
import { Redis } from "ioredis";
import { createApp } from "./app.ts";
import { dataDir, env } from "./env.ts";

const logger = createLogger("api", env.LOG_LEVEL);
const services = await resolveServices(env, dataDir, (line) => logger.debug({ service: "postgres" }, line));
if (env.MIGRATE_ON_START) await migrate(services.databaseUrl);
const database = createDb(services.databaseUrl, { applicationName: "faceapp-api" });
const redis = env.REDIS_URL ? new Redis(env.REDIS_URL, { maxRetriesPerRequest: 2, enableOfflineQueue: false }) : null;
redis?.on("error", (err) => logger.warn({ err }, "redis error"));
// One subscription per process: Redis pub/sub when configured, Postgres LISTEN/NOTIFY otherwise.
const bus = createProgressBus(env.REDIS_URL, database.sql);

const app = createApp({
  db: database.db,
  s3: createS3Client(services.s3),
  s3Config: services.s3,
  redis,
  bus,
  env,
  logger,
});

const server = serve({ fetch: app.fetch, port: env.PORT, hostname: env.HOST }, (info) =>
  logger.info({ port: info.port, host: env.HOST, redis: Boolean(redis) }, "api listening"),
);

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, "shutting down: no new connections, finishing in-flight requests");
  const forced = setTimeout(() => {
    logger.error("in-flight requests did not finish in 25 s; exiting");
    process.exit(1);
  }, 25_000);
  forced.unref();
  // close() stops accepting and resolves once open requests have ended; idle keep-alives are closed.
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    (server as { closeIdleConnections?: () => void }).closeIdleConnections?.();
  });
  await bus.close();
  await database.close();
  await redis?.quit().catch(() => {});
  await services.stop();
  logger.info("stopped");
  process.exit(0);
}
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));
