// `npm run migrate`: applies the migrations to DATABASE_URL, or to the embedded Postgres.
import { createLogger, defaultDataDir } from "@faceapp/core";
import { resolveDatabase } from "@faceapp/core/local";
import { env } from "./env.ts";
import { migrate } from "./migrate.ts";

const log = createLogger("migrate", env.LOG_LEVEL);
const database = await resolveDatabase(env, env.DATA_DIR ?? defaultDataDir, (line) => log.debug(line));
try {
  const { applied } = await migrate(database.url, { log: (line) => log.info(line) });
  log.info({ applied: applied.length }, applied.length ? "database migrated" : "database already up to date");
} catch (error) {
  log.error({ err: error }, "migration failed");
  process.exitCode = 1;
} finally {
  await database.stop();
}
