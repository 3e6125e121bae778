// The api as tests see it: a real app on this file's own database, bucket and (when configured) Redis.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import {
  createLogger,
  createProgressBus,
  createS3Client,
  parseEnv,
  type ProgressBus,
  type S3Config,
} from "@faceapp/core";
import {
  type App,
  ApiEnv,
  type AppDeps,
  type Bucket,
  createApp,
  type ErrorBody,
  ErrorEnvelope as ErrorSchema,
  type ResponseContract,
  responseContracts,
} from "@faceapp/api";
import { redisPrefix, redisUrl, type TestPg, useTestBucket, useTestDatabase } from "../index.ts";
import { freePort, serviceEnv, type Spawned, spawnEntry } from "../processes.ts";
import { Redis } from "ioredis";
import sharp from "sharp";
import * as v from "valibot";
import { afterAll, beforeAll } from "vitest";

export const TEST_SECRET = "test-secret-that-is-long-enough-0123456789";
/** What a Prometheus scraper of the test apps sends (METRICS_TOKEN). */
export const METRICS_TOKEN = "test-metrics-token-0123456789";

export function testEnv(overrides: Record<string, string> = {}) {
  return parseEnv(ApiEnv, {
    NODE_ENV: "test",
    LOG_LEVEL: "silent",
    JWT_SECRET_KEY: TEST_SECRET,
    PASSWORD_SCRYPT_LOG_N: "12",
    AUTH_RATE_LIMIT_PER_IP: "1000",
    AUTH_RATE_LIMIT_PER_EMAIL: "1000",
    UPLOAD_RATE_LIMIT_PER_USER: "1000",
    AUTH_RATE_LIMIT_PER_IP_EMAIL: "1000",
    METRICS_TOKEN,
    WEB_ORIGIN: "https://web.example",
    DATA_DIR: os.tmpdir(),
    ...overrides,
  });
}

export interface TestApi {
  app: App;
  pg: TestPg;
  s3Config: S3Config;
  bucket: Bucket;
  redis: Redis | null;
  deps: AppDeps;
  /** Another app on the same stores, e.g. with other limits. */
  build(options?: { env?: Record<string, string>; redis?: boolean }): App;
}

/** Sets up this file's api. `redis: false` forces the in-memory fallbacks even when Redis is configured. */
export function useApi(options: { env?: Record<string, string>; redis?: boolean } = {}): TestApi {
  const pg = useTestDatabase();
  const s3Config = useTestBucket();
  const handle = { pg, s3Config } as TestApi;
  const prefix = redisPrefix();
  const clients: Redis[] = [];
  const buses: ProgressBus[] = [];
  beforeAll(() => {
    const s3 = createS3Client(s3Config);
    handle.bucket = { client: s3, config: s3Config };
    handle.build = (o = {}) => {
      const useRedis = (o.redis ?? options.redis ?? true) && redisUrl !== null;
      const redis = useRedis ? new Redis(redisUrl!, { lazyConnect: false }) : null;
      if (redis) clients.push(redis);
      const bus = createProgressBus(useRedis ? redisUrl : null, pg.sql);
      buses.push(bus);
      const deps: AppDeps = {
        db: pg.db,
        s3,
        s3Config,
        redis,
        bus,
        env: testEnv({ ...options.env, ...o.env }),
        logger: createLogger("api-test", "silent"),
        redisPrefix: prefix,
      };
      handle.deps ??= deps;
      return checked(createApp(deps));
    };
    handle.app = handle.build();
    handle.redis = clients[0] ?? null;
  });
  afterAll(async () => {
    for (const bus of buses) await bus.close();
    for (const client of clients) {
      const keys = await client.keys(`${prefix}*`);
      if (keys.length) await client.del(...keys);
      await client.quit();
    }
  });
  return handle;
}

let counter = 0;
/** A unique email per call. */
export const email = (tag = "user") => `${tag}-${process.pid}-${Date.now()}-${++counter}@Example.com`;

export const PASSWORD = "correct horse battery";

/** JSON request helper. */
export function jsonInit(method: string, body: unknown, headers: Record<string, string> = {}): RequestInit {
  return {
    method,
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  };
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** Signs up a fresh user; returns its token, user and the cookie the api set. */
export async function signUp(app: App, tag = "user") {
  const res = await app.request("/v1/auth/signup", jsonInit("POST", { email: email(tag), password: PASSWORD }));
  if (res.status !== 201) throw new Error(`signup failed: ${res.status} ${await res.text()}`);
  const body = (await res.json()) as { token: string; user: { id: string; email: string } };
  const cookie = (res.headers.get("set-cookie") ?? "").split(";")[0]!;
  return { ...body, cookie };
}

/** The error envelope (its schema: api/src/http/errors.ts). */
export type ErrorEnvelope = ErrorBody;

/**
 * Checks a response of the api against its contract: a JSON error is the error envelope; a JSON
 * success of a documented route is a status that route documents, with exactly the body its schema
 * describes (response schemas are strict: a field more or less fails). Throws saying what differs.
 */
export async function checkResponse(
  contract: ResponseContract | undefined,
  method: string,
  path: string,
  res: Response,
): Promise<void> {
  if (!(res.headers.get("content-type") ?? "").startsWith("application/json") || method === "HEAD") return;
  const what = `${method} ${path} → ${res.status}`;
  let schema: v.GenericSchema | null | undefined;
  if (res.status >= 400) schema = ErrorSchema;
  else if (!contract)
    return; // an undocumented route (health, OpenAPI itself)
  else if (!(res.status in contract.responses))
    throw new Error(`${what}: ${contract.route} does not document this status`);
  else schema = contract.responses[res.status];
  if (!schema) throw new Error(`${what}: ${contract?.route} documents no body for this status, but one came`);
  const result = v.safeParse(schema, await res.clone().json());
  if (!result.success) {
    const issues = result.issues.map((i) => `${v.getDotPath(i) ?? "(body)"}: ${i.message}`);
    throw new Error(`${what}: the body breaks its schema:\n  ${issues.join("\n  ")}`);
  }
}

/** The app, with every response of `request` checked against its contract (checkResponse). */
export function checked(app: App): App {
  const contractOf = responseContracts(app);
  const request: App["request"] = async (input, init, ...rest) => {
    const res = await app.request(input, init, ...rest);
    const method = init?.method ?? (input instanceof Request ? input.method : "GET");
    const url = input instanceof Request ? input.url : new URL(String(input), "http://localhost").href;
    const path = new URL(url).pathname;
    await checkResponse(contractOf(method, path), method.toUpperCase(), path, res);
    return res;
  };
  return new Proxy(app, {
    get: (target, key, receiver) => (key === "request" ? request : Reflect.get(target, key, receiver)),
  });
}

/** A small image of a given type. */
export async function image(
  type: "png" | "jpeg" | "webp",
  width = 64,
  height = 48,
  options: { orientation?: number } = {},
): Promise<Buffer> {
  let img = sharp({ create: { width, height, channels: 3, background: { r: 200, g: 120, b: 40 } } });
  if (options.orientation) img = img.withMetadata({ orientation: options.orientation });
  return img.toFormat(type).toBuffer();
}

/** A valid book folder (tiny art, 24 pages) in a temp dir; `edit` may change the manifest first. */
export async function bookFolder(
  slug: string,
  edit: (manifest: Record<string, unknown>) => void = () => {},
  extra: Record<string, unknown> = {},
): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `faceapp-book-${slug}-`));
  const png = await image("png", 8, 8);
  const write = (rel: string, data: Buffer) => {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), data);
  };
  write("fonts/body.ttf", Buffer.from("not really a font, but a file"));
  const pages = Array.from({ length: 24 }, (_, i) => {
    write(`pages/page_${i}.png`, png);
    const face = i % 4 === 1;
    if (face) write(`pages/page_${i}_mask.png`, png);
    return {
      page_num: i,
      base_uri: `pages/page_${i}.png`,
      needs_face_swap: face,
      availability: i <= 4 ? "prepay" : "postpay",
      text_layers: [
        {
          template: "{child_name} goes on page " + i,
          variables: ["child_name"],
          position: "bottom-center",
          box_width: 0.8,
        },
      ],
    };
  });
  write("covers/front.png", png);
  write("covers/back.png", png);
  const crop = { left: 25, top: 210, width: 2551, height: 2551 };
  const manifest: Record<string, unknown> = {
    slug,
    title: `The ${slug} adventure`,
    description: "A child sails to the moon and back.",
    language: "en",
    category: "adventure",
    age_min: 3,
    age_max: 7,
    typography: {
      fonts: { body: { file: "fonts/body.ttf", family: "Body" } },
      body_font: "body",
      accent_font: "body",
      body_size_pt: 18,
      accent_size_pt: 36,
      line_height: 1.3,
      color: "#222222",
    },
    pages,
    covers: {
      front: { base_uri: "covers/front.png", web_crop: crop },
      back: { base_uri: "covers/back.png", web_crop: { ...crop, left: 210 } },
    },
    output: { dpi: 300, page_size_px: 2551, cover_size_px: { width: 2800, height: 3000 }, safe_zone_pt: 24 },
    ...extra,
  };
  edit(manifest);
  fs.writeFileSync(path.join(dir, "manifest.json"), JSON.stringify(manifest, null, 2));
  return dir;
}

/** A response body as loosely typed JSON, for assertions. */
// biome-ignore lint/suspicious/noExplicitAny: test assertions read arbitrary JSON
export async function body(res: Response): Promise<any> {
  return res.json();
}

/** A Redis client for a port nothing listens on: every command fails at once, nothing is queued or retried. */
export function unreachableRedis(): Redis {
  const redis = new Redis("redis://127.0.0.1:9", {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  redis.on("error", () => {});
  return redis;
}

/** The real server (api/src/server.ts) as a process of its own on this file's stores, once it listens. */
export async function spawnApiProcess(
  api: TestApi,
  env: Record<string, string> = {},
): Promise<{ server: Spawned; port: number; base: string }> {
  const port = await freePort();
  const server = spawnEntry("api/src/server.ts", {
    ...serviceEnv(api.pg.url, api.s3Config),
    PORT: String(port),
    HOST: "127.0.0.1",
    JWT_SECRET_KEY: TEST_SECRET,
    MIGRATE_ON_START: "false",
    ...env,
  });
  await server.waitForLog((line) => line.msg === "api listening");
  return { server, port, base: `http://127.0.0.1:${port}` };
}
