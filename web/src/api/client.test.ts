import { describe, expect, it } from "vitest";
import { ApiError, createApiClient, fillPath } from "./client.ts";

function recorder(status = 200, body: unknown = {}, headers: Record<string, string> = {}) {
  const calls: { url: string; init: RequestInit }[] = [];
  const fetch = (async (url: string, init: RequestInit) => {
    calls.push({ url, init });
    return new Response(status === 204 ? null : JSON.stringify(body), {
      status,
      headers: { "content-type": "application/json", ...headers },
    });
  }) as unknown as typeof globalThis.fetch;
  return { calls, fetch };
}

describe("the api client", () => {
  it("fills and encodes path parameters", () => {
    expect(fillPath("/v1/books/{slug}", { slug: "moon" })).toBe("/v1/books/moon");
    expect(fillPath("/v1/p/{id}/files/{name}", { id: "a b", name: "block.pdf" })).toBe("/v1/p/a%20b/files/block.pdf");
    expect(() => fillPath("/v1/books/{slug}")).toThrow(/slug/);
  });

  it("prefixes the base URL (/api behind nginx, '' on the api's own origin)", () => {
    expect(createApiClient({ baseUrl: "/api" }).url("GET /v1/books/{slug}", { slug: "moon" })).toBe(
      "/api/v1/books/moon",
    );
    expect(createApiClient({ baseUrl: "" }).url("GET /v1/books", {}, { q: "moon" })).toBe("/v1/books?q=moon");
    expect(createApiClient({ baseUrl: "http://x/" }).url("GET /v1/me")).toBe("http://x/v1/me");
  });

  it("sends cookies always, and the CSRF header and JSON body on writes", async () => {
    const { calls, fetch } = recorder(201, { token: "t", user: { id: "1", email: "a@b.c", createdAt: "" } });
    const api = createApiClient({ baseUrl: "/api", fetch });
    const result = await api.call("POST /v1/auth/signup", { body: { email: "a@b.c", password: "12345678" } });
    expect(result.user.email).toBe("a@b.c");
    const [call] = calls;
    expect(call!.url).toBe("/api/v1/auth/signup");
    expect(call!.init.method).toBe("POST");
    expect(call!.init.credentials).toBe("include");
    expect(call!.init.headers).toMatchObject({ "x-requested-with": "faceapp-web", "content-type": "application/json" });
    expect(JSON.parse(call!.init.body as string)).toEqual({ email: "a@b.c", password: "12345678" });

    await api.call("GET /v1/me");
    expect(calls[1]!.init.headers).not.toHaveProperty("x-requested-with");
    expect(calls[1]!.init.body).toBeUndefined();
  });

  it("turns the error envelope into an ApiError with the Retry-After seconds", async () => {
    const { fetch } = recorder(
      429,
      { error: { code: "rate_limited", message: "Too many", requestId: "r", details: { retryAfter: 30 } } },
      { "retry-after": "30" },
    );
    const err = await createApiClient({ baseUrl: "", fetch })
      .call("POST /v1/auth/login", { body: { email: "a@b.c", password: "12345678" } })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 429, code: "rate_limited", message: "Too many", retryAfter: 30 });
  });

  it("answers null for an empty 204", async () => {
    const { fetch } = recorder(204);
    expect(await createApiClient({ baseUrl: "", fetch }).call("POST /v1/auth/logout")).toBeNull();
  });

  it("keeps the status text when the body is not the envelope (a proxy's page)", async () => {
    const fetch = (async () =>
      new Response("<html>bad gateway</html>", {
        status: 502,
        statusText: "Bad Gateway",
      })) as unknown as typeof globalThis.fetch;
    const err = await createApiClient({ baseUrl: "", fetch })
      .call("GET /v1/me")
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 502, code: "http_error", message: "Bad Gateway" });
  });
});
