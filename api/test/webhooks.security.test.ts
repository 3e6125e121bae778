// /v1/webhooks: registration refuses every address class a webhook must not reach (through a resolver
// the test controls), secrets are shown once and stored sealed, and one user never sees another's.
import { type LookupAll, openSecret } from "@faceapp/core";
import { beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../src/app.ts";
import { bearer, body as json, type ErrorEnvelope, jsonInit, signUp, testEnv, useApi } from "@faceapp/testkit/api";

const api = useApi();
/** What each test host name resolves to. */
const zone: Record<string, string[]> = {
  "public.example": ["93.184.215.14"],
  "loopback.example": ["127.0.0.1"],
  "private.example": ["10.0.0.7"],
  "metadata.example": ["169.254.169.254"],
  "metadata6.example": ["fd00:ec2::254"],
  "cgnat.example": ["100.64.1.2"],
  "mapped.example": ["::ffff:192.168.0.1"],
  "mixed.example": ["93.184.215.14", "172.16.5.4"],
};
const lookup: LookupAll = async (host) =>
  (zone[host] ?? []).map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));
let app: ReturnType<typeof createApp>;
let key: string;

beforeAll(() => {
  const env = testEnv({ WEBHOOKS_PER_USER: "3", WEBHOOK_ENCRYPTION_KEY: "webhook-test-key-0123456789abcdefghij" });
  key = env.WEBHOOK_ENCRYPTION_KEY;
  app = createApp({ ...api.deps, env, lookup });
});

const create = (token: string, body: unknown) => app.request("/v1/webhooks", jsonInit("POST", body, bearer(token)));
const events = ["personalization.completed"];

describe("registering a webhook", () => {
  it("answers the secret once, in the whsec_ form, and stores it only sealed", async () => {
    const { token } = await signUp(app);
    const res = await create(token, { url: "https://public.example/hooks", events });
    expect(res.status).toBe(201);
    const created = (await res.json()) as { id: string; secret: string; url: string; events: string[] };
    expect(created).toMatchObject({ url: "https://public.example/hooks", events });
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const row = await api.pg.db
      .selectFrom("app.webhook_endpoints")
      .selectAll()
      .where("id", "=", created.id)
      .executeTakeFirstOrThrow();
    expect(JSON.stringify(row)).not.toContain(created.secret.slice(6));
    expect(openSecret(row.secret_sealed, key)).toBe(created.secret);

    const list = await json(await app.request("/v1/webhooks", { headers: bearer(token) }));
    expect(list.items).toHaveLength(1);
    expect(JSON.stringify(list)).not.toContain("whsec_");
    const one = await json(await app.request(`/v1/webhooks/${created.id}`, { headers: bearer(token) }));
    expect(one.secret).toBeUndefined();

    const rotated = await app.request(`/v1/webhooks/${created.id}/rotate-secret`, {
      method: "POST",
      headers: bearer(token),
    });
    expect(rotated.status).toBe(200);
    const { secret } = (await rotated.json()) as { secret: string };
    expect(secret).toMatch(/^whsec_/);
    expect(secret).not.toBe(created.secret);
    const after = await api.pg.db
      .selectFrom("app.webhook_endpoints")
      .select("secret_sealed")
      .where("id", "=", created.id)
      .executeTakeFirstOrThrow();
    expect(openSecret(after.secret_sealed, key)).toBe(secret);
  });

  for (const host of ["loopback", "private", "metadata", "metadata6", "cgnat", "mapped", "mixed"])
    it(`refuses a host that resolves to a ${host} address, with a 400 naming why`, async () => {
      const { token } = await signUp(app);
      const res = await create(token, { url: `https://${host}.example/in`, events });
      expect(res.status).toBe(400);
      const body = (await res.json()) as ErrorEnvelope;
      expect(body.error.code).toBe("invalid_input");
      expect(body.error.message).toMatch(/non-public address/);
      expect(body.error.details?.issues).toEqual([{ path: "url", problem: expect.stringMatching(/address/) }]);
    });

  it("refuses literal private addresses in any spelling, http, unknown hosts and bad bodies", async () => {
    const { token } = await signUp(app);
    for (const url of [
      "https://127.0.0.1/",
      "https://2130706433/",
      "https://0x7f.1/",
      "https://0177.0.0.1/",
      "https://[::1]/",
      "https://[::ffff:169.254.169.254]/",
      "https://169.254.169.254/latest/meta-data/",
      "https://[fd00:ec2::254]/",
      "http://public.example/",
      "https://unknown.example/",
      "https://user:pw@public.example/",
    ]) {
      const res = await create(token, { url, events });
      expect(res.status, url).toBe(400);
      expect(((await res.json()) as ErrorEnvelope).error.code).toBe("invalid_input");
    }
    for (const body of [
      { url: "not a url", events },
      { url: "javascript:alert(1)", events },
      { url: `https://public.example/${"a".repeat(2100)}`, events },
      { url: "https://public.example/", events: [] },
      { url: "https://public.example/", events: ["personalization.exploded"] },
      { url: "https://public.example/", events: [...events, ...events] },
      { url: "https://public.example/", events, extra: 1 },
      { events },
    ]) {
      const res = await create(token, body);
      expect(res.status, JSON.stringify(body).slice(0, 80)).toBe(400);
    }
    expect((await json(await app.request("/v1/webhooks", { headers: bearer(token) }))).items).toEqual([]);
  });

  it("allows a bounded number per user: the next one is a 409", async () => {
    const { token } = await signUp(app);
    for (let i = 0; i < 3; i++)
      expect((await create(token, { url: `https://public.example/${i}`, events })).status).toBe(201);
    const res = await create(token, { url: "https://public.example/4", events });
    expect(res.status).toBe(409);
    expect(((await res.json()) as ErrorEnvelope).error).toMatchObject({ code: "conflict", details: { limit: 3 } });
  });

  it("needs a signed-in user", async () => {
    expect((await app.request("/v1/webhooks")).status).toBe(401);
    expect(
      (await app.request("/v1/webhooks", jsonInit("POST", { url: "https://public.example/", events }))).status,
    ).toBe(401);
  });
});

describe("another user's webhook", () => {
  it("is not found for every route, and stays as it was", async () => {
    const owner = await signUp(app);
    const other = await signUp(app);
    const res = await create(owner.token, { url: "https://public.example/mine", events });
    const { id } = (await res.json()) as { id: string };
    const deliveryId = crypto.randomUUID();
    for (const [method, path] of [
      ["GET", `/v1/webhooks/${id}`],
      ["DELETE", `/v1/webhooks/${id}`],
      ["POST", `/v1/webhooks/${id}/rotate-secret`],
      ["GET", `/v1/webhooks/${id}/deliveries`],
      ["POST", `/v1/webhooks/${id}/deliveries/${deliveryId}/retry`],
      ["GET", "/v1/webhooks/not-a-uuid"],
    ] as const) {
      const r = await app.request(path, { method, headers: bearer(other.token) });
      expect(r.status, `${method} ${path}`).toBe(404);
      const body = (await r.json()) as ErrorEnvelope;
      expect(body.error.code).toBe("not_found");
      expect(body.error.requestId).toBeTruthy();
    }
    expect((await app.request(`/v1/webhooks/${id}`, { headers: bearer(owner.token) })).status).toBe(200);
    const del = await app.request(`/v1/webhooks/${id}`, { method: "DELETE", headers: bearer(owner.token) });
    expect(del.status).toBe(204);
    expect((await app.request(`/v1/webhooks/${id}`, { headers: bearer(owner.token) })).status).toBe(404);
  });
});
