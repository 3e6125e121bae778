// Security headers on every kind of response the api gives (JSON, errors, the event stream, /docs, the
// web app it serves and its files), HSTS only over https, and /metrics closed to anyone without its token.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { record } from "@faceapp/testkit";
import { createApp } from "../src/app.ts";
import { appCsp, NOTHING_CSP } from "../src/http/security-headers.ts";
import {
  bearer,
  body,
  METRICS_TOKEN,
  signUp,
  useApi,
  book,
  createPersonalization,
  readyPhoto,
} from "@faceapp/testkit/api";

const api = useApi();

function expectCommon(res: Response, what: string) {
  expect(res.headers.get("x-content-type-options"), what).toBe("nosniff");
  expect(res.headers.get("x-frame-options"), what).toBe("DENY");
  expect(res.headers.get("referrer-policy"), what).toBe("no-referrer");
  expect(res.headers.get("content-security-policy"), what).toContain("frame-ancestors 'none'");
}

describe("security headers", () => {
  it("are on JSON answers, errors and preflights, with a policy that allows nothing", async () => {
    const { token } = await signUp(api.app);
    const answers = {
      json: await api.app.request("/v1/me", { headers: bearer(token) }),
      unauthorized: await api.app.request("/v1/me"),
      notFound: await api.app.request("/v1/nothing/here"),
      badBody: await api.app.request("/v1/auth/login", { method: "POST", body: "{" }),
      health: await api.app.request("/healthz"),
      openapi: await api.app.request("/openapi.json"),
      preflight: await api.app.request("/v1/me", {
        method: "OPTIONS",
        headers: { origin: "https://web.example", "access-control-request-method": "GET" },
      }),
    };
    for (const [what, res] of Object.entries(answers)) {
      expectCommon(res, what);
      expect(res.headers.get("content-security-policy"), what).toBe(NOTHING_CSP);
      expect(res.headers.get("strict-transport-security"), what).toBeNull();
    }
  });

  it("are on the event stream", async () => {
    await book(api, { slug: "headers-stream" });
    const user = await signUp(api.app);
    const photo = await readyPhoto(api.app, user.token);
    const { id } = await body(await createPersonalization(api.app, user.token, "headers-stream", photo));
    const res = await api.app.request(`/v1/personalizations/${id}/events`, { headers: bearer(user.token) });
    expect(res.headers.get("content-type")).toBe("text/event-stream");
    expectCommon(res, "stream");
    expect(res.headers.get("content-security-policy")).toBe(NOTHING_CSP);
    await res.body?.cancel();
  });

  it("put /docs under a policy with no script and only its own style, by hash", async () => {
    const res = await api.app.request("/docs");
    expectCommon(res, "docs");
    const csp = res.headers.get("content-security-policy")!;
    expect(csp).toMatch(/^default-src 'none'; style-src 'sha256-[A-Za-z0-9+/]+=*';/);
    expect(csp).not.toContain("script-src");
    expect(await res.text()).not.toMatch(/<script|\son\w+=/i);
  });

  it("give the web app it serves its policy (the store's origin for photos), and its files nosniff", async () => {
    const dist = fs.mkdtempSync(path.join(os.tmpdir(), "faceapp-dist-"));
    fs.mkdirSync(path.join(dist, "assets"));
    fs.writeFileSync(
      path.join(dist, "index.html"),
      '<!doctype html><script type="module" src="/assets/a.js"></script>',
    );
    fs.writeFileSync(path.join(dist, "assets/a.js"), "export {};");
    const app = createApp({ ...api.deps, webDist: dist });
    const store = new URL(api.s3Config.endpoint!).origin;
    for (const route of ["/", "/books/some-book"]) {
      const page = await app.request(route);
      expect(page.status).toBe(200);
      expectCommon(page, route);
      const csp = page.headers.get("content-security-policy")!;
      expect(csp).toBe(appCsp([store]));
      expect(csp).toContain("script-src 'self';");
      expect(csp).not.toContain("unsafe-inline");
      expect(csp).toContain(`connect-src 'self' ${store}`);
    }
    const script = await app.request("/assets/a.js");
    expectCommon(script, "asset");
    fs.rmSync(dist, { recursive: true, force: true });
  });

  it("send HSTS only over https: the request's own scheme, or a trusted proxy's X-Forwarded-Proto", async () => {
    const https = await api.app.request("https://api.example/healthz");
    expect(https.headers.get("strict-transport-security")).toMatch(/^max-age=\d{7,}; includeSubDomains$/);
    const untrusted = await api.app.request("/healthz", { headers: { "x-forwarded-proto": "https" } });
    expect(untrusted.headers.get("strict-transport-security")).toBeNull();
    const proxied = api.build({ env: { TRUST_PROXY: "1" } });
    const viaProxy = await proxied.request("/healthz", { headers: { "x-forwarded-proto": "https" } });
    expect(viaProxy.headers.get("strict-transport-security")).toMatch(/^max-age=/);
    const plain = await proxied.request("/healthz", { headers: { "x-forwarded-proto": "http" } });
    expect(plain.headers.get("strict-transport-security")).toBeNull();
  });
});

describe("/metrics", () => {
  it("is refused without the token, or with another, in the envelope", async () => {
    for (const headers of [
      {},
      bearer("not-the-metrics-token"),
      bearer(`${METRICS_TOKEN}x`),
      { authorization: METRICS_TOKEN },
    ]) {
      const res = await api.app.request("/metrics", { headers });
      expect(res.status).toBe(401);
      expect((await body(res)).error.code).toBe("unauthorized");
      expectCommon(res, "metrics refused");
    }
    // A user's session token is not the metrics token either.
    const { token } = await signUp(api.app);
    expect((await api.app.request("/metrics", { headers: bearer(token) })).status).toBe(401);
    record("/metrics without its token", { attempts: 5, refused401: 5 }, "Defences");
  });

  it("answers the scraper that sends METRICS_TOKEN", async () => {
    const res = await api.app.request("/metrics", { headers: bearer(METRICS_TOKEN) });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("http_requests_total");
  });

  it("is off (404) when METRICS_TOKEN is unset", async () => {
    const { METRICS_TOKEN: _, ...env } = api.deps.env;
    const app = createApp({ ...api.deps, env: { ...env, METRICS_TOKEN: undefined } });
    const res = await app.request("/metrics", { headers: bearer(METRICS_TOKEN) });
    expect(res.status).toBe(404);
    expect((await body(res)).error.code).toBe("not_found");
  });
});
