import type { Logger } from "@faceapp/core";

/** The signed-in user of a request, set by the auth middleware. */
export interface AuthUser {
  id: string;
  sessionId: string;
  /** How the request authenticated: cookie requests that change state passed the CSRF check. */
  via: "bearer" | "cookie";
  /** When the token expires (its `exp`, in ms): long-lived responses end then. */
  expiresAtMs: number;
}

/** Hono's environment for every faceapp route. */
export interface AppEnv {
  Variables: {
    requestId: string;
    log: Logger;
    user: AuthUser;
    /** Whether the session of `user` has been found live (requireAuth, foldedSession). */
    sessionChecked: boolean;
  };
}
