import { SignJWT, UnsecuredJWT } from "jose";
import { describe, expect, it } from "vitest";
import { describeWithRedis } from "@faceapp/testkit";
import { FOLDED_SESSION } from "../src/http/auth.ts";
import {
  bearer,
  body,
  book,
  email,
  jsonInit,
  PASSWORD,
  readyPhoto,
  signUp,
  TEST_SECRET,
  useApi,
} from "@faceapp/testkit/api";

const api = useApi();
const key = new TextEncoder().encode(TEST_SECRET);

async function claimsOf(token: string) {
  return JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString()) as { sub: string; sid: string };
}

async function me(token: string) {
  return api.app.request("/v1/me", { headers: bearer(token) });
}

describe("the JWT attack set: every forged or stale token is refused with 401", () => {
  it("alg: none", async () => {
    const { token } = await signUp(api.app);
    const { sub, sid } = await claimsOf(token);
    const unsigned = new UnsecuredJWT({ sid }).setSubject(sub).setExpirationTime("1h").encode();
    expect((await me(unsigned)).status).toBe(401);
    // and the classic hand-made variant with an empty signature
    const header = Buffer.from(JSON.stringify({ alg: "none", typ: "JWT" })).toString("base64url");
    const payload = token.split(".")[1];
    expect((await me(`${header}.${payload}.`)).status).toBe(401);
  });

  it("another algorithm, even signed with the right secret", async () => {
    const { token } = await signUp(api.app);
    const { sub, sid } = await claimsOf(token);
    const hs512 = await new SignJWT({ sid })
      .setProtectedHeader({ alg: "HS512" })
      .setSubject(sub)
      .setExpirationTime("1h")
      .sign(key);
    expect((await me(hs512)).status).toBe(401);
  });

  it("a bad signature (other secret, or a flipped payload)", async () => {
    const { token } = await signUp(api.app);
    const { sub, sid } = await claimsOf(token);
    const other = await new SignJWT({ sid })
      .setProtectedHeader({ alg: "HS256" })
      .setSubject(sub)
      .setExpirationTime("1h")
      .sign(new TextEncoder().encode("another-secret-of-thirty-two-characters!"));
    expect((await me(other)).status).toBe(401);
    const [h, , s] = token.split(".");
    const forged = Buffer.from(JSON.stringify({ sub, sid, exp: 4_000_000_000 })).toString("base64url");
    expect((await me(`${h}.${forged}.${s}`)).status).toBe(401);
  });

  it("no exp", async () => {
    const { token } = await signUp(api.app);
    const { sub, sid } = await claimsOf(token);
    const forever = await new SignJWT({ sid }).setProtectedHeader({ alg: "HS256" }).setSubject(sub).sign(key);
    expect((await me(forever)).status).toBe(401);
  });

  it("an expired exp", async () => {
    const { token } = await signUp(api.app);
    const { sub, sid } = await claimsOf(token);
    const past = Math.floor(Date.now() / 1000) - 60;
    const expired = await new SignJWT({ sid })
      .setProtectedHeader({ alg: "HS256" })
      .setSubject(sub)
      .setExpirationTime(past)
      .sign(key);
    expect((await me(expired)).status).toBe(401);
  });

  it("a revoked session, by bearer and by cookie", async () => {
    const { token, cookie } = await signUp(api.app);
    expect((await me(token)).status).toBe(200);
    const out = await api.app.request("/v1/auth/logout", { method: "POST", headers: bearer(token) });
    expect(out.status).toBe(204);
    expect((await me(token)).status).toBe(401);
    expect((await api.app.request("/v1/me", { headers: { cookie } })).status).toBe(401);
  });

  it("a valid signature naming another user's session", async () => {
    const a = await signUp(api.app);
    const b = await signUp(api.app);
    const { sid } = await claimsOf(a.token);
    const mixed = await new SignJWT({ sid })
      .setProtectedHeader({ alg: "HS256" })
      .setSubject(b.user.id)
      .setExpirationTime("1h")
      .sign(key);
    expect((await me(mixed)).status).toBe(401);
  });

  it("an expired session row, even with a token that has not expired", async () => {
    const { token } = await signUp(api.app);
    const { sid } = await claimsOf(token);
    await api.pg
      .sql`update app.sessions set created_at = now() - interval '2 days', expires_at = now() - interval '1 second' where id = ${sid}`;
    expect((await me(token)).status).toBe(401);
  });

  it("garbage in place of a token", async () => {
    for (const junk of ["abc", "a.b.c", "", "Bearer"]) {
      const res = await api.app.request("/v1/me", { headers: { authorization: `Bearer ${junk}` } });
      expect(res.status).toBe(401);
    }
  });
});

describe("requireAuth's foldedSession: the route's own statement checks the session", () => {
  // Every route under foldedSession, with a request that writes when its session is live.
  const writers: Record<string, (token: string) => Promise<unknown>> = {
    "POST /v1/personalizations": async (token) => ({
      bookSlug: (await book(api)).slug,
      photoUploadId: await readyPhoto(api.app, token),
    }),
  };
  const written = async () => {
    const [row] = await api.pg.sql<{ rows: number }[]>`
      select (select count(*) from app.uploads) + (select count(*) from app.personalizations)
        + (select count(*) from app.events) + (select count(*) from graphile_worker.jobs) as rows`;
    return Number(row!.rows);
  };

  it("is used only by the routes listed here", () => {
    const folded = api.app.routes.filter((r) => FOLDED_SESSION in r.handler).map((r) => `${r.method} ${r.path}`);
    expect(folded.sort()).toEqual(Object.keys(writers).sort());
  });

  it("writes nothing for an ended session with a request that writes for a live one", async () => {
    for (const [route, payloadFor] of Object.entries(writers)) {
      const [method, path] = route.split(" ") as [string, string];
      const { token } = await signUp(api.app);
      const payload = await payloadFor(token);
      const before = await written();
      expect((await api.app.request(path, jsonInit(method, payload, bearer(token)))).status).toBeLessThan(300);
      expect(await written()).toBeGreaterThan(before);
      const { sid } = await claimsOf(token);
      await api.pg.sql`update app.sessions set revoked_at = now() where id = ${sid}`;
      const ended = await written();
      const res = await api.app.request(path, jsonInit(method, payload, bearer(token)));
      expect(res.status).toBe(401);
      expect(await written()).toBe(ended);
    }
  });
});

describe("routes that write, with an ended session (POST /v1/uploads, POST /v1/personalizations)", () => {
  const routes = [
    ["/v1/uploads", { contentType: "image/png", byteSize: 100 }],
    ["/v1/personalizations", { bookSlug: "no-such-book", photoUploadId: "00000000-0000-4000-8000-000000000000" }],
  ] as const;
  const rowsOf = async (userId: string) => {
    const [row] = await api.pg.sql<{ uploads: number; personalizations: number }[]>`
      select (select count(*)::int from app.uploads where owner_id = ${userId}) as uploads,
             (select count(*)::int from app.personalizations where owner_id = ${userId}) as personalizations`;
    return row;
  };

  it("refuse a revoked or expired session with 401 and write nothing, by bearer and by cookie", async () => {
    for (const end of ["revoke", "expire"] as const) {
      const { token, cookie, user } = await signUp(api.app);
      const { sid } = await claimsOf(token);
      if (end === "revoke") await api.pg.sql`update app.sessions set revoked_at = now() where id = ${sid}`;
      else
        await api.pg
          .sql`update app.sessions set created_at = now() - interval '2 days', expires_at = now() - interval '1 second' where id = ${sid}`;
      for (const [path, payload] of routes) {
        const viaBearer = await api.app.request(path, jsonInit("POST", payload, bearer(token)));
        expect(viaBearer.status).toBe(401);
        expect((await body(viaBearer)).error.code).toBe("unauthorized");
        const viaCookie = await api.app.request(path, jsonInit("POST", payload, { cookie, "x-requested-with": "x" }));
        expect(viaCookie.status).toBe(401);
      }
      expect(await rowsOf(user.id)).toEqual({ uploads: 0, personalizations: 0 });
    }
  });

  it("answer an ended session with 401 before anything else: a bad body, a foreign Origin, an unknown book", async () => {
    const { token, cookie } = await signUp(api.app);
    const { sid } = await claimsOf(token);
    const live = await signUp(api.app);
    const foreign = { origin: "https://evil.example", "content-type": "application/json" };
    for (const [path, payload] of routes) {
      // with a live session: the answers of the route itself
      expect((await api.app.request(path, jsonInit("POST", { nope: 1 }, bearer(live.token)))).status).toBe(400);
      expect(
        (await api.app.request(path, { ...jsonInit("POST", payload), headers: { cookie: live.cookie, ...foreign } }))
          .status,
      ).toBe(403);
    }
    const unknownBook = await api.app.request(
      "/v1/personalizations",
      jsonInit("POST", routes[1][1], bearer(live.token)),
    );
    expect(unknownBook.status).toBe(404);
    await api.pg.sql`update app.sessions set revoked_at = now() where id = ${sid}`;
    for (const [path, payload] of routes) {
      expect((await api.app.request(path, jsonInit("POST", { nope: 1 }, bearer(token)))).status).toBe(401);
      expect(
        (await api.app.request(path, { ...jsonInit("POST", payload), headers: { cookie, ...foreign } })).status,
      ).toBe(401);
      const res = await api.app.request(path, {
        method: "POST",
        headers: { ...bearer(token), "content-type": "text/plain" },
        body: "x",
      });
      expect(res.status).toBe(401);
    }
    expect((await api.app.request("/v1/personalizations", jsonInit("POST", routes[1][1], bearer(token)))).status).toBe(
      401,
    );
  });
});

describe("CSRF: cookie requests that change state", () => {
  it("are refused without an Origin or X-Requested-With", async () => {
    const { cookie, token } = await signUp(api.app);
    const res = await api.app.request("/v1/auth/logout", { method: "POST", headers: { cookie } });
    expect(res.status).toBe(403);
    expect((await body(res)).error.code).toBe("forbidden");
    expect((await me(token)).status).toBe(200); // not logged out
  });

  it("are refused from a foreign Origin, even with X-Requested-With", async () => {
    const { cookie } = await signUp(api.app);
    const res = await api.app.request("/v1/uploads", {
      ...jsonInit("POST", { contentType: "image/png", byteSize: 100 }),
      headers: { cookie, origin: "https://evil.example", "x-requested-with": "x", "content-type": "application/json" },
    });
    expect(res.status).toBe(403);
  });

  it("pass from the web origin, or with X-Requested-With when no Origin is sent", async () => {
    const a = await signUp(api.app);
    const fromWeb = await api.app.request("/v1/uploads", {
      ...jsonInit("POST", { contentType: "image/png", byteSize: 100 }),
      headers: { cookie: a.cookie, origin: "https://web.example", "content-type": "application/json" },
    });
    expect(fromWeb.status).toBe(201);
    const b = await signUp(api.app);
    const res = await api.app.request("/v1/auth/logout", {
      method: "POST",
      headers: { cookie: b.cookie, "x-requested-with": "fetch" },
    });
    expect(res.status).toBe(204);
  });

  it("do not apply to bearer requests (a cross-site page cannot set Authorization)", async () => {
    const { token } = await signUp(api.app);
    const res = await api.app.request("/v1/auth/logout", {
      method: "POST",
      headers: { ...bearer(token), origin: "https://evil.example" },
    });
    expect(res.status).toBe(204);
  });

  it("do not apply to reads", async () => {
    const { cookie } = await signUp(api.app);
    const res = await api.app.request("/v1/me", { headers: { cookie, origin: "https://evil.example" } });
    expect(res.status).toBe(200);
  });
});

function rateLimitSuite(useRedis: boolean) {
  const build = () =>
    api.build({
      redis: useRedis,
      env: {
        AUTH_RATE_LIMIT_PER_IP: "4",
        AUTH_RATE_LIMIT_PER_IP_EMAIL: "3",
        AUTH_RATE_LIMIT_WINDOW_SECONDS: "600",
        TRUST_PROXY: "true",
      },
    });

  it("limits failed logins to one account from one address, with 429 rate_limited and Retry-After", async () => {
    const app = build();
    const address = email("limited");
    const statuses: number[] = [];
    let last: Response | undefined;
    for (let i = 0; i < 4; i++) {
      last = await app.request(
        "/v1/auth/login",
        jsonInit("POST", { email: address, password: "wrong password" }, { "x-forwarded-for": "10.0.0.9" }),
      );
      statuses.push(last.status);
    }
    expect(statuses).toEqual([401, 401, 401, 429]);
    expect((await body(last!)).error.code).toBe("rate_limited");
    const retryAfter = Number(last!.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(600);
  });

  it("limits signups per IP across emails", async () => {
    const app = build();
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await app.request(
        "/v1/auth/signup",
        jsonInit("POST", { email: email("flood"), password: PASSWORD }, { "x-forwarded-for": "192.0.2.77" }),
      );
      statuses.push(res.status);
    }
    expect(statuses).toEqual([201, 201, 201, 201, 429]);
    // another IP is not affected
    const other = await app.request(
      "/v1/auth/signup",
      jsonInit("POST", { email: email("fine"), password: PASSWORD }, { "x-forwarded-for": "192.0.2.78" }),
    );
    expect(other.status).toBe(201);
  });
}

describe("rate limits in memory (no Redis)", () => rateLimitSuite(false));

describeWithRedis("rate limits in Redis", () => {
  rateLimitSuite(true);

  it("are shared by every api instance using the same Redis", async () => {
    const env = { AUTH_RATE_LIMIT_PER_IP_EMAIL: "2", TRUST_PROXY: "true" };
    const one = api.build({ redis: true, env });
    const two = api.build({ redis: true, env });
    const address = email("shared");
    const attempt = (app: typeof one) =>
      app.request("/v1/auth/login", jsonInit("POST", { email: address, password: "wrong password" }));
    expect((await attempt(one)).status).toBe(401);
    expect((await attempt(two)).status).toBe(401);
    expect((await attempt(one)).status).toBe(429);
  });
});

describe("JWT_ALGORITHM", () => {
  it("signs with the configured algorithm and refuses tokens of the default one", async () => {
    const hs384 = api.build({ env: { JWT_ALGORITHM: "HS384" } });
    const { token, user } = await signUp(hs384);
    expect(JSON.parse(Buffer.from(token.split(".")[0]!, "base64url").toString()).alg).toBe("HS384");
    expect((await hs384.request("/v1/me", { headers: bearer(token) })).status).toBe(200);
    const { sid } = await claimsOf(token);
    const hs256 = await new SignJWT({ sid })
      .setProtectedHeader({ alg: "HS256" })
      .setSubject(user.id)
      .setExpirationTime("1h")
      .sign(key);
    expect((await hs384.request("/v1/me", { headers: bearer(hs256) })).status).toBe(401);
  });
});
