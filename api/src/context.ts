import type { MiddlewareHandler } from "hono";
import type { AppDeps, Bucket } from "./deps.ts";
import type { AppEnv } from "./http/types.ts";
import type { CatalogCache } from "./services/catalog-cache.ts";
import type { LostEvents } from "./services/lost-events.ts";
import type { QueueWatch } from "./services/queue-watch.ts";
import type { RateLimiter } from "./services/rate-limit.ts";
import type { SessionWatch } from "./services/session-watch.ts";
import type { TokenConfig } from "./services/tokens.ts";

/** What every route module receives: the deps plus the shared helpers built once by createApp. */
export interface ApiContext extends AppDeps {
  bucket: Bucket;
  /** Requires a signed-in user (bearer, or cookie + CSRF); sets `c.var.user`. */
  auth: MiddlewareHandler<AppEnv>;
  /**
   * `auth` for a route whose one statement checks the session itself (app.create_personalization) and then calls
   * `sessionChecked`: a round trip fewer (http/auth.ts; POST /v1/personalizations only).
   */
  authFolded: MiddlewareHandler<AppEnv>;
  limiter: RateLimiter;
  /** Ends event streams whose session is revoked or expires (checked every SSE_HEARTBEAT_SECONDS). */
  sessions: SessionWatch;
  /** The places of books waiting for the gpu: streams' `queue` events and the views' `queue`. */
  queue: QueueWatch;
  /** Events stored whose publish was lost, for every stream (checked every SSE_HEARTBEAT_SECONDS). */
  lost: LostEvents;
  cache: CatalogCache;
  tokens: TokenConfig;
  allowedOrigins: string[];
}
