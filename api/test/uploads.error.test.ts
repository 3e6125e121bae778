import { describe, expect, it } from "vitest";
import {
  bearer,
  body,
  type ErrorEnvelope,
  jsonInit,
  signUp,
  useApi,
  complete,
  createTicket,
} from "@faceapp/testkit/api";

const api = useApi();

describe("completing too early", () => {
  it("answers 409 invalid_state while nothing was uploaded, and stays pending", async () => {
    const { token } = await signUp(api.app);
    const ticket = await createTicket(api.app, token);
    const res = await complete(api.app, token, ticket.id);
    expect(res.status).toBe(409);
    expect(((await body(res)) as ErrorEnvelope).error.code).toBe("invalid_state");
    const view = await body(await api.app.request(`/v1/uploads/${ticket.id}`, { headers: bearer(token) }));
    expect(view.status).toBe("pending");
  });
});

describe("request validation", () => {
  it.each([
    ["an unsupported type", { contentType: "image/gif", byteSize: 100 }],
    ["a size over 15 MiB", { contentType: "image/jpeg", byteSize: 15 * 1024 * 1024 + 1 }],
    ["a zero size", { contentType: "image/jpeg", byteSize: 0 }],
    ["a fractional size", { contentType: "image/jpeg", byteSize: 10.5 }],
    ["a size as a string", { contentType: "image/jpeg", byteSize: "100" }],
    ["a missing type", { byteSize: 100 }],
    ["an unknown field", { contentType: "image/jpeg", byteSize: 100, key: "uploads/someone-else/x" }],
  ])("refuses %s with 400 invalid_input", async (_name, input) => {
    const { token } = await signUp(api.app);
    const res = await api.app.request("/v1/uploads", jsonInit("POST", input, bearer(token)));
    expect(res.status).toBe(400);
    const text = await res.text();
    expect(JSON.parse(text).error.code).toBe("invalid_input");
    expect(text).not.toContain("someone-else");
  });

  it("refuses invalid JSON and non-JSON bodies", async () => {
    const { token } = await signUp(api.app);
    expect((await api.app.request("/v1/uploads", jsonInit("POST", "{", bearer(token)))).status).toBe(400);
    const form = await api.app.request("/v1/uploads", {
      method: "POST",
      body: "contentType=image/png",
      headers: { ...bearer(token), "content-type": "text/plain" },
    });
    expect(form.status).toBe(415);
  });

  it("refuses a body on complete, and unknown query parameters on read", async () => {
    const { token } = await signUp(api.app);
    const ticket = await createTicket(api.app, token);
    const withBody = await api.app.request(
      `/v1/uploads/${ticket.id}/complete`,
      jsonInit("POST", { status: "ready" }, bearer(token)),
    );
    expect(withBody.status).toBe(400);
    const withQuery = await api.app.request(`/v1/uploads/${ticket.id}?x=1`, { headers: bearer(token) });
    expect(withQuery.status).toBe(400);
  });

  it("answers 404 for an id that is not a UUID", async () => {
    const { token } = await signUp(api.app);
    for (const path of ["/v1/uploads/not-a-uuid", "/v1/uploads/1'%20or%201=1/complete"]) {
      const res = await api.app.request(path, {
        method: path.endsWith("complete") ? "POST" : "GET",
        headers: bearer(token),
      });
      expect(res.status).toBe(404);
    }
  });
});
