import { describe, expect, it } from "vitest";
import { hashPassword, verifyPassword } from "../src/services/passwords.ts";
import { bearer, body, email, jsonInit, PASSWORD, signUp, useApi } from "@faceapp/testkit/api";

const api = useApi();

describe("signup", () => {
  it("creates an account and returns a token, the user and a session cookie", async () => {
    const address = email("signup");
    const res = await api.app.request(
      "https://api.example/v1/auth/signup",
      jsonInit("POST", { email: address, password: PASSWORD }),
    );
    expect(res.status).toBe(201);
    const json = await body(res);
    expect(json.user.email).toBe(address.toLowerCase());
    expect(json.token.split(".")).toHaveLength(3);
    const cookie = res.headers.get("set-cookie")!;
    expect(cookie).toMatch(/^faceapp_session=/);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Lax/);
    expect(cookie).toMatch(/Secure/); // the request host is not localhost
  });

  it("omits Secure on localhost, where development runs over plain http", async () => {
    const res = await api.app.request(
      "http://localhost:8000/v1/auth/signup",
      jsonInit("POST", { email: email("local"), password: PASSWORD }),
    );
    expect(res.status).toBe(201);
    expect(res.headers.get("set-cookie")).not.toMatch(/Secure/);
  });

  it("stores a scrypt hash, never the password", async () => {
    const { user } = await signUp(api.app);
    const row = await api.pg.db
      .selectFrom("app.users")
      .select("password_hash")
      .where("id", "=", user.id)
      .executeTakeFirstOrThrow();
    expect(row.password_hash).toMatch(/^\$scrypt\$ln=12,r=8,p=1\$/);
    expect(row.password_hash).not.toContain(PASSWORD);
  });

  it("hashes at ln=15 by default and verifies only the right password", async () => {
    const hash = await hashPassword("a long enough password", 15);
    expect(hash).toMatch(/^\$scrypt\$ln=15,r=8,p=1\$/);
    expect(await verifyPassword("a long enough password", hash)).toBe(true);
    expect(await verifyPassword("a long enough passwore", hash)).toBe(false);
  });
});

describe("login", () => {
  it("signs in with the email in any case and spacing", async () => {
    const address = email("login");
    await api.app.request("/v1/auth/signup", jsonInit("POST", { email: address, password: PASSWORD }));
    const res = await api.app.request(
      "/v1/auth/login",
      jsonInit("POST", { email: `  ${address.toUpperCase()} `, password: PASSWORD }),
    );
    expect(res.status).toBe(200);
    const json = await body(res);
    expect(json.user.email).toBe(address.toLowerCase());
    expect(res.headers.get("set-cookie")).toMatch(/^faceapp_session=/);
  });
});

describe("me", () => {
  it("answers with the user for a bearer token", async () => {
    const { token, user } = await signUp(api.app);
    const res = await api.app.request("/v1/me", { headers: bearer(token) });
    expect(res.status).toBe(200);
    expect((await body(res)).user).toEqual(user);
  });

  it("answers with the user for the session cookie (reads need no CSRF header)", async () => {
    const { cookie, user } = await signUp(api.app);
    const res = await api.app.request("/v1/me", { headers: { cookie } });
    expect(res.status).toBe(200);
    expect((await body(res)).user.id).toBe(user.id);
  });
});

describe("session", () => {
  it("says who is signed in, and answers a signed-out browser with null rather than a 401", async () => {
    const { cookie, token, user } = await signUp(api.app);
    const signedIn = await api.app.request("/v1/auth/session", { headers: { cookie } });
    expect(signedIn.status).toBe(200);
    expect((await body(signedIn)).user).toEqual(user);
    const nobody = await api.app.request("/v1/auth/session");
    expect(nobody.status).toBe(200);
    expect(await body(nobody)).toEqual({ user: null });
    const garbage = await api.app.request("/v1/auth/session", { headers: { cookie: "faceapp_session=not.a.token" } });
    expect(await body(garbage)).toEqual({ user: null });
    await api.app.request("/v1/auth/logout", { method: "POST", headers: bearer(token) });
    const ended = await api.app.request("/v1/auth/session", { headers: { cookie } });
    expect(ended.status).toBe(200);
    expect(await body(ended)).toEqual({ user: null });
  });
});

describe("logout", () => {
  it("answers 204, clears the cookie, and the token stops working", async () => {
    const { token } = await signUp(api.app);
    const res = await api.app.request("/v1/auth/logout", { method: "POST", headers: bearer(token) });
    expect(res.status).toBe(204);
    expect(res.headers.get("set-cookie")).toMatch(/faceapp_session=;.*Max-Age=0/);
    const after = await api.app.request("/v1/me", { headers: bearer(token) });
    expect(after.status).toBe(401);
  });

  it("ends only the session it names: another login of the same user keeps working", async () => {
    const address = email("two-sessions");
    const first = await api.app.request("/v1/auth/signup", jsonInit("POST", { email: address, password: PASSWORD }));
    const second = await api.app.request("/v1/auth/login", jsonInit("POST", { email: address, password: PASSWORD }));
    const a = (await body(first)).token;
    const b = (await body(second)).token;
    await api.app.request("/v1/auth/logout", { method: "POST", headers: bearer(a) });
    expect((await api.app.request("/v1/me", { headers: bearer(a) })).status).toBe(401);
    expect((await api.app.request("/v1/me", { headers: bearer(b) })).status).toBe(200);
  });
});
