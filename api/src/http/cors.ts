// CORS for the web app's origins: the headers hono's `cors` middleware writes, for the options this api
// uses, written onto the response after the route answered instead of before it.
//
// hono's `cors` sets its headers on `c.res` before the route runs, which makes an empty Response; the
// route's own answer then has to be copied over it (hono's `c.res` setter), and the copy takes the
// body of @hono/node-server's lightweight Response, which turns it into a real one with a body stream
// that the adaptor then reads back. That was ≈ 10 % of the api's CPU per `POST /v1/personalizations`
// (bench:api --cpu-prof). api/test/cors.test.ts proves the answers equal to hono's `cors`.
import type { MiddlewareHandler } from "hono";

export interface CorsOptions {
  /** Origins allowed to read answers (with credentials). */
  origin: string[];
  allowMethods: string[];
  allowHeaders: string[];
  exposeHeaders: string[];
  /** Seconds a preflight answer may be cached. */
  maxAge: number;
}

/**
 * Credentialed CORS for `options.origin`: preflights answered with 204 (with the headers set before
 * this middleware, as hono's), every other answer marked once it exists.
 */
export function cors(options: CorsOptions): MiddlewareHandler {
  const allowMethods = options.allowMethods.join(",");
  const allowHeaders = options.allowHeaders.join(",");
  const exposeHeaders = options.exposeHeaders.join(",");
  const mark = (headers: Headers, origin: string | undefined) => {
    if (origin !== undefined && options.origin.includes(origin)) headers.set("Access-Control-Allow-Origin", origin);
    headers.set("Access-Control-Allow-Credentials", "true");
    if (exposeHeaders) headers.set("Access-Control-Expose-Headers", exposeHeaders);
  };
  return async (c, next) => {
    const origin = c.req.header("origin") || undefined;
    if (c.req.method === "OPTIONS") {
      const headers = new Headers();
      mark(headers, origin);
      headers.append("Vary", "Origin");
      headers.set("Access-Control-Max-Age", String(options.maxAge));
      if (allowMethods) headers.set("Access-Control-Allow-Methods", allowMethods);
      if (allowHeaders) {
        headers.set("Access-Control-Allow-Headers", allowHeaders);
        headers.append("Vary", "Access-Control-Request-Headers");
      }
      return c.newResponse(null, { status: 204, headers });
    }
    await next();
    mark(c.res.headers, origin);
    c.res.headers.append("Vary", "Origin");
  };
}
