// The check every api test's responses go through (helpers.ts: useApi's apps are `checked`): it
// passes the real responses and fails a body with a field more or less, an undocumented status, and an
// error outside the envelope. Without this file, a check that never fails would pass every other test.
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import type { App } from "../src/app.ts";
import { doc, responseContracts } from "../src/http/openapi.ts";
import type { AppEnv } from "../src/http/types.ts";
import { Me } from "../src/schemas.ts";
import { bearer, body, checked, checkResponse, signUp, useApi } from "@faceapp/testkit/api";

const api = useApi();

const json = (data: unknown, status = 200) =>
  new Response(JSON.stringify(data), { status, headers: { "content-type": "application/json" } });

describe("the response check", () => {
  it("passes the api's own answer, and names what differs in one with a field more or less", async () => {
    const { token } = await signUp(api.app, "contracts");
    const me = await body(await api.app.request("/v1/me", { headers: bearer(token) }));
    const contract = responseContracts(api.app)("GET", "/v1/me");
    expect(contract?.route).toBe("/v1/me");
    await expect(checkResponse(contract, "GET", "/v1/me", json(me))).resolves.toBeUndefined();

    const extra = { user: { ...me.user, passwordHash: "$scrypt$…" } };
    await expect(checkResponse(contract, "GET", "/v1/me", json(extra))).rejects.toThrow(/user\.passwordHash/);
    const { email: _, ...withoutEmail } = me.user;
    await expect(checkResponse(contract, "GET", "/v1/me", json({ user: withoutEmail }))).rejects.toThrow(/user\.email/);
    await expect(checkResponse(contract, "GET", "/v1/me", json(me, 201))).rejects.toThrow(/does not document/);
  });

  it("holds errors to the envelope, on every route", async () => {
    const contract = responseContracts(api.app)("GET", "/v1/personalizations/x");
    const envelope = { error: { code: "not_found", message: "Personalisation not found", requestId: "r" } };
    await expect(checkResponse(contract, "GET", "/x", json(envelope, 404))).resolves.toBeUndefined();
    await expect(checkResponse(contract, "GET", "/x", json({ message: "Not found" }, 404))).rejects.toThrow(/error/);
    await expect(
      checkResponse(contract, "GET", "/x", json({ error: { ...envelope.error, code: "gone" } }, 404)),
    ).rejects.toThrow(/error\.code/);
  });

  it("fails the request of a checked app whose route answers beside its schema", async () => {
    const drifted = new Hono<AppEnv>().get("/v1/me", doc({ summary: "me", responses: { 200: Me } }), (c) =>
      c.json({ user: { id: "u", email: "a@example.com", createdAt: "now", admin: true } }),
    );
    await expect(checked(drifted as unknown as App).request("/v1/me")).rejects.toThrow(/user\.admin/);
  });
});
