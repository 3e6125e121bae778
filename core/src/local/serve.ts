// `npm run services`: starts the embedded Postgres and S3 (those the environment does not name) and
// keeps them up until SIGINT or SIGTERM, then stops them cleanly.
import { defaultDataDir } from "../paths.ts";
import { createLogger } from "../logger.ts";
import { env } from "./env.ts";
import { resolveServices } from "./index.ts";

const log = createLogger("services", env.LOG_LEVEL);
const services = await resolveServices(env, env.DATA_DIR ?? defaultDataDir, (line) => log.debug(line));
// The URL as it is when embedded (its password is a fixed local one); a configured one is redacted.
const databaseUrl = env.DATABASE_URL
  ? env.DATABASE_URL.replace(/\/\/([^:/@]+):[^@]*@/, "//$1:***@")
  : services.databaseUrl;
log.info({ databaseUrl, s3: services.s3.endpoint, bucket: services.s3.bucket }, "services ready");

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, "stopping services");
  await services.stop();
  log.info("services stopped");
  process.exit(0);
}
process.on("SIGINT", () => void shutdown("SIGINT"));
process.on("SIGTERM", () => void shutdown("SIGTERM"));
setInterval(() => {}, 1 << 30); // hold the event loop open until a signal arrives
