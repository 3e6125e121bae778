// Security headers on every response: the web app's Content-Security-Policy on HTML pages (the built
// app has no inline script: its scripts and styles are files of its own origin), a policy that allows
// nothing on everything else (JSON, event streams, files), nosniff, no framing, no referrer, and HSTS
// when the request came over https. compose/nginx.conf sets the same for the app it serves.
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "./types.ts";

/** The policy of the web app: its own scripts only; photos and pages from the object store. */
export function appCsp(storeOrigins: string[]): string {
  const store = storeOrigins.join(" ");
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    `img-src 'self' data: blob: ${store}`.trim(),
    `connect-src 'self' ${store}`.trim(),
    "font-src 'self' data:",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join("; ");
}

/** Responses that are not pages (JSON, event streams, metrics) may load, run and be framed by nothing. */
export const NOTHING_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

export const HSTS = "max-age=63072000; includeSubDomains";

/** The object store's origin as browsers reach it, for the app's policy (none when unknown). */
export function originOf(url: string | undefined): string[] {
  if (!url) return [];
  try {
    return [new URL(url).origin];
  } catch {
    return [];
  }
}

/**
 * Adds the headers after the route answered; a route that set its own Content-Security-Policy (the
 * /docs page) keeps it. `trustedHops` > 0: X-Forwarded-Proto of the trusted proxy says whether the
 * client used https (the entry that many from the right, as for X-Forwarded-For).
 */
export function securityHeaders(options: { storeOrigins: string[]; trustedHops: number }): MiddlewareHandler<AppEnv> {
  const app = appCsp(options.storeOrigins);
  const overHttps = (url: string, forwardedProto: string | undefined) => {
    if (url.startsWith("https:")) return true;
    if (options.trustedHops === 0 || !forwardedProto) return false;
    const entries = forwardedProto.split(",").map((e) => e.trim().toLowerCase());
    return entries[Math.max(entries.length - options.trustedHops, 0)] === "https";
  };
  return async (c, next) => {
    await next();
    const headers = c.res.headers;
    if (!headers.has("Content-Security-Policy")) {
      const html = headers.get("Content-Type")?.startsWith("text/html") ?? false;
      headers.set("Content-Security-Policy", html ? app : NOTHING_CSP);
    }
    headers.set("X-Content-Type-Options", "nosniff");
    headers.set("X-Frame-Options", "DENY");
    headers.set("Referrer-Policy", "no-referrer");
    headers.set("Cross-Origin-Opener-Policy", "same-origin");
    if (overHttps(c.req.url, c.req.header("x-forwarded-proto"))) headers.set("Strict-Transport-Security", HSTS);
  };
}
