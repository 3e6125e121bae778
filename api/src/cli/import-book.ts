// `npm run books:import -- <folder>`: validates a book folder and publishes it (S3 + database).
import path from "node:path";
import { AppError, createS3Client } from "@faceapp/core";
import { resolveServices } from "@faceapp/core/local";
import { createPg, migrate } from "@faceapp/sql";
import { Redis } from "ioredis";
import { dataDir, env } from "../env.ts";
import { importBook } from "../services/book-import.ts";
import { noCatalogCache, redisCatalogCache } from "../services/catalog-cache.ts";

const folder = process.argv[2];
if (!folder) {
  process.stderr.write("usage: npm run books:import -- <book folder containing manifest.json>\n");
  process.exit(2);
}

const services = await resolveServices(env, dataDir);
if (env.MIGRATE_ON_START) await migrate(services.databaseUrl);
const pg = createPg(services.databaseUrl, { max: 2, applicationName: "faceapp-import" });
const redis = env.REDIS_URL ? new Redis(env.REDIS_URL, { maxRetriesPerRequest: 2 }) : null;
let code = 0;
try {
  const { manifest, files } = await importBook(
    pg.db,
    { client: createS3Client(services.s3), config: services.s3 },
    redis ? redisCatalogCache(redis, "faceapp:", env.CATALOG_CACHE_SECONDS) : noCatalogCache,
    path.resolve(folder),
  );
  process.stdout.write(`imported ${manifest.slug} ("${manifest.title}"): ${files.length} files and the manifest\n`);
} catch (error) {
  code = 1;
  process.stderr.write(`${error instanceof AppError ? error.message : String((error as Error).stack ?? error)}\n`);
} finally {
  await pg.close();
  await redis?.quit().catch(() => {});
  await services.stop();
}
process.exit(code);
