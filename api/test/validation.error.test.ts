// Every route of this api, fed invalid JSON, wrong types and unknown fields: always a 4xx error
// envelope, never a 5xx, never the input echoed back (random input: fuzz.security.test.ts).
import { beforeAll, describe, expect, it } from "vitest";
import { bearer, body, jsonInit, signUp, useApi } from "@faceapp/testkit/api";

const api = useApi();
let token = "";
let uploadId = "";

beforeAll(async () => {
  token = (await signUp(api.app, "fuzz")).token;
  const res = await api.app.request(
    "/v1/uploads",
    jsonInit("POST", { contentType: "image/png", byteSize: 10 }, bearer(token)),
  );
  uploadId = (await body(res)).id;
});

const MARKER = "zz-echo-marker-zz";

const routes = () => [
  { method: "POST", path: "/v1/auth/signup" },
  { method: "POST", path: "/v1/auth/login" },
  { method: "POST", path: "/v1/auth/logout" },
  { method: "GET", path: "/v1/me" },
  { method: "GET", path: "/v1/books" },
  { method: "GET", path: "/v1/books/some-book" },
  { method: "POST", path: "/v1/uploads" },
  { method: "POST", path: `/v1/uploads/${uploadId}/complete` },
  { method: "GET", path: `/v1/uploads/${uploadId}` },
];

async function expect4xx(res: Response) {
  expect(res.status).toBeGreaterThanOrEqual(400);
  expect(res.status).toBeLessThan(500);
  const text = await res.text();
  const envelope = JSON.parse(text);
  expect(envelope.error.code).toEqual(expect.any(String));
  expect(envelope.error.requestId).toBe(res.headers.get("x-request-id"));
  expect(text).not.toContain(MARKER);
}

describe.each([true, false])("signed in: %s", (signedIn) => {
  const auth = () => (signedIn ? bearer(token) : {});

  it("invalid JSON on every route that takes a body", async () => {
    for (const { method, path } of routes().filter((r) => r.method === "POST")) {
      await expect4xx(await api.app.request(path, jsonInit(method, `{"${MARKER}": `, auth())));
    }
  });

  it("wrong types and unknown fields on every body route", async () => {
    const bodies = [
      [MARKER],
      42,
      `"${MARKER}"`,
      true,
      { [MARKER]: MARKER },
      { email: 1, password: 2, contentType: 3, byteSize: MARKER },
    ];
    for (const { method, path } of routes().filter((r) => r.method === "POST")) {
      for (const b of bodies)
        await expect4xx(
          await api.app.request(path, jsonInit(method, typeof b === "string" ? b : JSON.stringify(b), auth())),
        );
    }
  });

  it("unknown and repeated query parameters on every read", async () => {
    for (const { path } of routes().filter((r) => r.method === "GET")) {
      await expect4xx(await api.app.request(`${path}?${MARKER}=${MARKER}`, { headers: auth() }));
      await expect4xx(await api.app.request(`${path}?limit=1&limit=${MARKER}`, { headers: auth() }));
    }
  });
});
