import { AppError, createS3Client } from "@faceapp/core";
import { serveStatic } from "@hono/node-server/serve-static";
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { ApiContext } from "./context.ts";
import type { AppDeps } from "./deps.ts";
import { CSRF_HEADER, parseOrigins, requireAuth } from "./http/auth.ts";
import { cors } from "./http/cors.ts";
import { renderError } from "./http/errors.ts";
import { createMetrics, requestContext } from "./http/observe.ts";
import { buildOpenApi, docsPage } from "./http/openapi.ts";
import { originOf, securityHeaders } from "./http/security-headers.ts";
import { sendEventStreams } from "./http/sse.ts";
import type { AppEnv } from "./http/types.ts";
import { authRoutes } from "./routes/auth.ts";
import { bookRoutes } from "./routes/books.ts";
import { healthRoutes } from "./routes/health.ts";
import { meRoutes } from "./routes/me.ts";
import { personalizationRoutes } from "./routes/personalizations.ts";
import { uploadRoutes } from "./routes/uploads.ts";
import { webhookRoutes } from "./routes/webhooks.ts";
import { noCatalogCache, redisCatalogCache } from "./services/catalog-cache.ts";
import { memoryRateLimiter, redisRateLimiter, withFallback } from "./services/rate-limit.ts";
import { lostEvents } from "./services/lost-events.ts";
import { queueWatch } from "./services/queue-watch.ts";
import { sessionWatch } from "./services/session-watch.ts";
import { prepareSigners } from "./services/storage.ts";

/** JSON bodies of this api are small; anything bigger is refused before it is read. */
export const MAX_BODY_BYTES = 64 * 1024;

/** Builds the shared helpers every route module receives. */
export function createContext(deps: AppDeps): ApiContext {
  const prefix = deps.redisPrefix ?? "faceapp:";
  const allowedOrigins = parseOrigins(deps.env.WEB_ORIGIN);
  const tokens = { secret: deps.env.JWT_SECRET_KEY, algorithm: deps.env.JWT_ALGORITHM };
  const bucket = {
    client: deps.s3,
    config: deps.s3Config,
    presignClient: deps.env.S3_PUBLIC_ENDPOINT_URL
      ? createS3Client({ ...deps.s3Config, endpoint: deps.env.S3_PUBLIC_ENDPOINT_URL })
      : undefined,
  };
  prepareSigners(bucket);
  return {
    ...deps,
    bucket,
    tokens,
    allowedOrigins,
    auth: requireAuth({ db: deps.db, tokens, allowedOrigins }),
    authFolded: requireAuth({ db: deps.db, tokens, allowedOrigins }, { foldedSession: true }),
    limiter: deps.redis
      ? withFallback(redisRateLimiter(deps.redis, prefix), memoryRateLimiter(), (err) =>
          deps.logger.warn({ err }, "rate limiter: Redis failed, counting in memory"),
        )
      : memoryRateLimiter(),
    sessions: sessionWatch(deps.db, deps.env.SSE_HEARTBEAT_SECONDS * 1000, (err) =>
      deps.logger.warn({ err }, "event streams: the session check failed; trying again at the next heartbeat"),
    ),
    lost: lostEvents(deps.db, deps.env.SSE_HEARTBEAT_SECONDS * 1000, (err) =>
      deps.logger.warn(
        { err },
        "event streams: the check for lost publishes failed; trying again at the next heartbeat",
      ),
    ),
    queue: queueWatch(deps.db, deps.env.QUEUE_POSITION_INTERVAL_MS, (err) =>
      deps.logger.warn({ err }, "queue positions: the query failed; trying again at the next tick"),
    ),
    cache: deps.redis ? redisCatalogCache(deps.redis, prefix, deps.env.CATALOG_CACHE_SECONDS) : noCatalogCache,
  };
}

/** The api as a Hono app; server.ts serves it, tests call `app.request()`. */
export function createApp(deps: AppDeps) {
  const ctx = createContext(deps);
  const metrics = createMetrics();
  const app = new Hono<AppEnv>();

  // Outermost: an event stream's head is written once every middleware below has added its headers.
  app.use(sendEventStreams);
  app.use(requestContext(deps.logger));
  app.use(metrics.middleware);
  app.use(
    securityHeaders({
      storeOrigins: originOf(deps.env.S3_PUBLIC_ENDPOINT_URL ?? deps.s3Config.endpoint),
      trustedHops: deps.env.TRUST_PROXY,
    }),
  );
  app.use(
    cors({
      origin: ctx.allowedOrigins,
      allowMethods: ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
      allowHeaders: ["Content-Type", "Authorization", CSRF_HEADER, "Last-Event-ID", "Idempotency-Key"],
      exposeHeaders: ["X-Request-Id", "Retry-After"],
      maxAge: 600,
    }),
  );
  const tooLarge = () => new AppError("payload_too_large", `Request bodies are limited to ${MAX_BODY_BYTES} bytes`);
  const limitBody = bodyLimit({
    maxSize: MAX_BODY_BYTES,
    onError: () => {
      throw tooLarge();
    },
  });
  // bodyLimit looks at `c.req.raw.body`, which makes the Node adaptor build a full Request (headers,
  // signal, body stream) for the request: a third of an open event stream's memory, and ≈ 7 % of the
  // api's CPU on POST /v1/personalizations (bench:api --cpu-prof). So GETs skip it, and a body with a
  // Content-Length (no Transfer-Encoding) is judged by that header, as bodyLimit itself does: Node's
  // parser delivers no more than the declared length. Chunked bodies go through bodyLimit, which
  // counts what arrives.
  app.use((c, next) => {
    if (c.req.method === "GET" || c.req.method === "HEAD") return next();
    const length = c.req.header("content-length");
    if (length !== undefined && c.req.header("transfer-encoding") === undefined) {
      if (Number.parseInt(length || "0", 10) > MAX_BODY_BYTES) throw tooLarge();
      return next();
    }
    return limitBody(c, next);
  });

  // Every resource is mounted here, and only here.
  app.route("/", healthRoutes(ctx, metrics.registry));
  app.route("/v1/auth", authRoutes(ctx));
  app.route("/v1/me", meRoutes(ctx));
  app.route("/v1/books", bookRoutes(ctx));
  app.route("/v1/uploads", uploadRoutes(ctx));
  app.route("/v1/personalizations", personalizationRoutes(ctx));
  app.route("/v1/webhooks", webhookRoutes(ctx));

  const openapi = buildOpenApi(app, { title: "faceapp API", version: "1.0.0" });
  const docs = docsPage(openapi);
  app.get("/openapi.json", (c) => c.json(openapi));
  app.get("/docs", (c) => {
    c.header("Content-Security-Policy", docs.csp);
    return c.html(docs.html);
  });

  // The built web app (embedded runs), mounted last: its files, then index.html for any other page
  // path, never for the api's own paths, which keep their JSON 404s.
  if (deps.webDist) {
    const root = deps.webDist;
    const apiPath = /^\/(v1|healthz|readyz|metrics|openapi\.json|docs)(\/|$)/;
    const files = serveStatic({ root });
    const page = serveStatic({ root, path: "index.html" });
    app.get("*", (c, next) => (apiPath.test(c.req.path) ? next() : files(c, next)));
    app.get("*", (c, next) => (apiPath.test(c.req.path) || /\.\w+$/.test(c.req.path) ? next() : page(c, next)));
  }

  app.notFound((c) => renderError(new AppError("not_found", "Not found"), c));
  app.onError((err, c) => renderError(err, c));
  return app;
}

export type App = ReturnType<typeof createApp>;
