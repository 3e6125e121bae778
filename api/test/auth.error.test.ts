import { describe, expect, it } from "vitest";
import {
  bearer,
  email,
  type ErrorEnvelope,
  jsonInit,
  PASSWORD,
  signUp,
  unreachableRedis,
  useApi,
} from "@faceapp/testkit/api";

const api = useApi();

async function expectError(res: Response, status: number, code: string): Promise<ErrorEnvelope> {
  expect(res.status).toBe(status);
  const body = (await res.json()) as ErrorEnvelope;
  expect(body.error.code).toBe(code);
  expect(body.error.requestId).toBe(res.headers.get("x-request-id"));
  return body;
}

const SECRET_LOOKING = "<script>alert('pwned-marker')</script>";

describe.each(["/v1/auth/signup", "/v1/auth/login"])("%s input", (path) => {
  it("refuses invalid JSON with the envelope", async () => {
    await expectError(await api.app.request(path, jsonInit("POST", '{"email": "a@b.c",')), 400, "invalid_input");
  });

  it("refuses a body that is not JSON (415)", async () => {
    const res = await api.app.request(path, {
      method: "POST",
      body: "email=a@b.c",
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    await expectError(res, 415, "unsupported_media_type");
  });

  it("refuses a missing body", async () => {
    await expectError(await api.app.request(path, { method: "POST" }), 415, "unsupported_media_type");
  });

  it.each([
    ["wrong types", { email: 42, password: ["x"] }],
    ["an array", [1, 2]],
    ["null", null],
    ["a missing field", { email: "someone@example.com" }],
    ["a bad email", { email: "not-an-email", password: PASSWORD }],
    ["a short password", { email: "short@example.com", password: "1234567" }],
    ["a password over 256", { email: "long@example.com", password: "x".repeat(257) }],
    ["an unknown field", { email: "someone@example.com", password: PASSWORD, isAdmin: true }],
  ])("refuses %s with 400 invalid_input and no echo of the input", async (_name, body) => {
    const res = await api.app.request(path, jsonInit("POST", body));
    const envelope = await expectError(res, 400, "invalid_input");
    expect(JSON.stringify(envelope)).not.toContain("isAdmin");
    expect(JSON.stringify(envelope)).not.toContain("not-an-email");
    expect(Array.isArray(envelope.error.details?.issues)).toBe(true);
  });

  it("never echoes input back, even in an unknown field's name or a bad value", async () => {
    const res = await api.app.request(
      path,
      jsonInit("POST", { email: SECRET_LOOKING, password: SECRET_LOOKING.slice(0, 5), [SECRET_LOOKING]: 1 }),
    );
    const text = await res.text();
    expect(res.status).toBe(400);
    expect(text).not.toContain("pwned-marker");
  });

  it("refuses a body over the size limit with 413 payload_too_large", async () => {
    const res = await api.app.request(path, jsonInit("POST", { email: "a@b.c", password: "x".repeat(100_000) }));
    await expectError(res, 413, "payload_too_large");
  });
});

describe("signup", () => {
  it("refuses an email taken in another case with 409 email_taken", async () => {
    const address = email("taken");
    expect(
      (await api.app.request("/v1/auth/signup", jsonInit("POST", { email: address, password: PASSWORD }))).status,
    ).toBe(201);
    const res = await api.app.request(
      "/v1/auth/signup",
      jsonInit("POST", { email: ` ${address.toUpperCase()}`, password: PASSWORD }),
    );
    await expectError(res, 409, "email_taken");
  });
});

describe("login", () => {
  it("answers an unknown email and a wrong password identically (401 invalid_credentials)", async () => {
    const address = email("known");
    await api.app.request("/v1/auth/signup", jsonInit("POST", { email: address, password: PASSWORD }));
    const wrong = await api.app.request(
      "/v1/auth/login",
      jsonInit("POST", { email: address, password: "wrong password!" }),
    );
    const unknown = await api.app.request(
      "/v1/auth/login",
      jsonInit("POST", { email: email("nobody"), password: PASSWORD }),
    );
    const a = await expectError(wrong, 401, "invalid_credentials");
    const b = await expectError(unknown, 401, "invalid_credentials");
    expect(a.error.message).toBe(b.error.message);
    expect(Object.keys(a.error).sort()).toEqual(Object.keys(b.error).sort());
    expect(wrong.headers.get("set-cookie")).toBeNull();
  });
});

describe("me and logout", () => {
  it("refuses requests without credentials with 401", async () => {
    await expectError(await api.app.request("/v1/me"), 401, "unauthorized");
    await expectError(await api.app.request("/v1/auth/logout", { method: "POST" }), 401, "unauthorized");
  });

  it("refuses a malformed Authorization header", async () => {
    await expectError(
      await api.app.request("/v1/me", { headers: { authorization: "Token abc" } }),
      401,
      "unauthorized",
    );
  });

  it("refuses unknown query parameters on /v1/me", async () => {
    const { token } = await signUp(api.app);
    await expectError(await api.app.request("/v1/me?admin=1", { headers: bearer(token) }), 400, "invalid_input");
  });

  it("refuses a body on logout", async () => {
    const { token } = await signUp(api.app);
    const res = await api.app.request("/v1/auth/logout", jsonInit("POST", { everywhere: true }, bearer(token)));
    await expectError(res, 400, "invalid_input");
    const bad = await api.app.request("/v1/auth/logout", jsonInit("POST", "{nope", bearer(token)));
    await expectError(bad, 400, "invalid_input");
    // the session survived both refusals
    expect((await api.app.request("/v1/me", { headers: bearer(token) })).status).toBe(200);
  });

  it("answers unknown routes and methods with the 404 envelope", async () => {
    await expectError(await api.app.request("/v1/nothing-here"), 404, "not_found");
    await expectError(await api.app.request("/v1/me", { method: "DELETE" }), 404, "not_found");
  });
});

describe("when Redis fails", () => {
  it("login still answers (limits counted in memory) and the catalog is read from Postgres", async () => {
    const { createApp } = await import("../src/app.ts");
    const redis = unreachableRedis();
    const app = createApp({ ...api.deps, redis });
    const address = email("redis-down");
    expect(
      (await app.request("/v1/auth/signup", jsonInit("POST", { email: address, password: PASSWORD }))).status,
    ).toBe(201);
    expect((await app.request("/v1/auth/login", jsonInit("POST", { email: address, password: PASSWORD }))).status).toBe(
      200,
    );
    expect((await app.request("/v1/books")).status).toBe(200);
    redis.disconnect();
  });
});
