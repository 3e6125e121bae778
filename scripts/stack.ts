// The steps `npm start` and `npm run dev` share: the stores (embedded PostgreSQL and S3 unless
// DATABASE_URL and AWS_ENDPOINT_URL name real ones), the migrations, the demo books the catalog
// lacks, and the api with one gpu runner and one render runner sharing those stores.
import fs from "node:fs";
import path from "node:path";
import { defaultDataDir, repoRoot } from "@faceapp/core";
import { localS3Credentials } from "@faceapp/core/local";
import { createPg, migrate } from "@faceapp/sql";
import { env, inheritedEnv } from "./env.ts";
import type { Part, Supervisor } from "./supervisor.ts";

export const dataDir = path.resolve(env.DATA_DIR ?? defaultDataDir);

export interface Stores {
  databaseUrl: string;
  /** The environment every child gets: one Postgres, one bucket, this data folder. */
  childEnv: Record<string, string>;
}

/** The stores, migrated, with the demo books in the catalog: what the api and runners need. */
export async function prepare(sup: Supervisor): Promise<Stores> {
  const stores = await prepareStores(sup);
  await ensureDemoBooks(sup, stores);
  return stores;
}

/** Starts the embedded stores the environment does not name, migrates, and says what it uses. */
async function prepareStores(sup: Supervisor): Promise<Stores> {
  // The embedded PostgreSQL and S3 (those the environment does not name) run in a process of their
  // own, in its own process group: a Ctrl-C in the terminal reaches only this parent, which stops
  // them last, after the api and the runners have drained.
  // Nothing to start when both are configured (and their URLs, with passwords, stay out of the log).
  let ready: Record<string, unknown> = { databaseUrl: env.DATABASE_URL, s3: env.AWS_ENDPOINT_URL };
  if (!env.DATABASE_URL || !env.AWS_ENDPOINT_URL) {
    const stores = sup.run(
      "services",
      "core/src/local/serve.ts",
      [],
      { ...inheritedEnv(), DATA_DIR: dataDir },
      { service: true, orphanGraceSeconds: env.START_STOP_TIMEOUT_SECONDS },
    );
    sup.setStores(stores);
    ready = await stores.waitFor((r) => r.msg === "services ready");
  }
  const databaseUrl = env.DATABASE_URL ?? String(ready.databaseUrl);
  const credentials = env.AWS_ENDPOINT_URL
    ? { accessKeyId: env.AWS_ACCESS_KEY_ID ?? "", secretAccessKey: env.AWS_SECRET_ACCESS_KEY ?? "" }
    : localS3Credentials;
  const endpoint = env.AWS_ENDPOINT_URL ?? String(ready.s3);
  sup.say("stores ready", {
    postgres: env.DATABASE_URL ? "configured" : `embedded on ${env.LOCAL_POSTGRES_PORT}`,
    s3: env.AWS_ENDPOINT_URL ? "configured" : `embedded on ${endpoint}`,
    bucket: env.S3_BUCKET_NAME,
  });

  const { applied } = await migrate(databaseUrl, { log: (line) => sup.say(line, {}, 20) });
  sup.say(applied.length ? "database migrated" : "database up to date", { applied: applied.length });

  const childEnv: Record<string, string> = {
    ...inheritedEnv(),
    // As compose/node.Dockerfile runs every app (the reasons are there).
    MALLOC_ARENA_MAX: "2",
    NODE_OPTIONS: [process.env.NODE_OPTIONS, "--max-semi-space-size=4"].filter(Boolean).join(" "),
    DATA_DIR: dataDir,
    DATABASE_URL: databaseUrl,
    AWS_ENDPOINT_URL: endpoint,
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    AWS_REGION_NAME: env.AWS_REGION_NAME,
    S3_BUCKET_NAME: env.S3_BUCKET_NAME,
    LOG_LEVEL: env.LOG_LEVEL,
  };
  return { databaseUrl, childEnv };
}

/** Book folders of the repository (books/<slug>/manifest.json) by slug. */
function demoBooks(sup: Supervisor): Map<string, string> {
  const root = path.join(repoRoot, "books");
  const found = new Map<string, string>();
  if (!fs.existsSync(root)) return found;
  for (const entry of fs.readdirSync(root, { withFileTypes: true })) {
    const manifest = path.join(root, entry.name, "manifest.json");
    if (!entry.isDirectory() || !fs.existsSync(manifest)) continue;
    try {
      const { slug } = JSON.parse(fs.readFileSync(manifest, "utf8")) as { slug?: unknown };
      if (typeof slug === "string") found.set(slug, path.join(root, entry.name));
    } catch {
      sup.warn("unreadable manifest; skipped", { manifest });
    }
  }
  return found;
}

/** Generates (when the art is missing) and imports the demo books the catalog does not have. */
async function ensureDemoBooks(sup: Supervisor, { databaseUrl, childEnv }: Stores) {
  const books = demoBooks(sup);
  if (!books.size) {
    sup.warn("no demo books under books/: the catalog stays as it is");
    return;
  }
  const pg = createPg(databaseUrl, { max: 1, applicationName: "faceapp-start" });
  let present: Set<string>;
  try {
    const rows = await pg.sql<
      { slug: string }[]
    >`select slug from app.books where slug in ${pg.sql([...books.keys()])}`;
    present = new Set(rows.map((r) => r.slug));
  } finally {
    await pg.close();
  }
  const missing = [...books].filter(([slug]) => !present.has(slug));
  if (!missing.length) {
    sup.say("demo books already in the catalog", { books: [...books.keys()] });
    return;
  }
  const needArt = missing.some(([, dir]) => !fs.existsSync(path.join(dir, "art")));
  if (needArt) {
    if (!fs.existsSync(path.join(repoRoot, "books/generate.ts"))) {
      sup.warn("demo book art is missing and books/generate.ts is not there: skipping the demo books");
      return;
    }
    sup.say("generating the demo books' art (once; books/*/art)");
    await sup.oneShot("books:generate", "books/generate.ts", [], childEnv);
  }
  for (const [slug, dir] of missing) {
    sup.say("importing a demo book", { slug });
    await sup.oneShot("books:import", "api/src/cli/import-book.ts", [dir], { ...childEnv, MIGRATE_ON_START: "false" });
  }
}

export interface BackendOptions {
  /** The web app build the api serves, or "off". */
  webDist: string;
  /** Origins the api allows (CORS and the CSRF check). */
  webOrigin: string;
  /** Each part restarts by itself when a file it imports changes (`npm run dev`). */
  watch: boolean;
}

/** The api on PORT and one runner of each kind; resolves once all three are ready. */
export async function startBackend(sup: Supervisor, { childEnv }: Stores, o: BackendOptions): Promise<Part> {
  const api = sup.run(
    "api",
    "api/src/server.ts",
    [],
    {
      ...childEnv,
      PORT: String(env.PORT),
      MIGRATE_ON_START: "false",
      WEB_DIST_DIR: o.webDist,
      WEB_ORIGIN: env.WEB_ORIGIN ?? o.webOrigin,
    },
    { service: true, watch: o.watch },
  );
  // Two runners on one machine: each picks a free health port (a fixed one from .env would collide).
  const runnerEnv = { ...childEnv, RUNNER_HEALTH_PORT: "0" };
  const gpu = sup.run("gpu-runner", "runners/src/gpu-runner.ts", [], runnerEnv, { service: true, watch: o.watch });
  const render = sup.run("render-runner", "runners/src/render-runner.ts", [], runnerEnv, {
    service: true,
    watch: o.watch,
  });
  const runnerReady = (r: Record<string, unknown>) => r.msg === "runner ready";
  await Promise.all([
    sup.waitForHttp(`http://127.0.0.1:${env.PORT}/readyz`, api, 120_000),
    gpu.waitFor(runnerReady),
    render.waitFor(runnerReady),
  ]);
  return api;
}
