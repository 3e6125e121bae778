import { describe, expect, it } from "vitest";
import { bearer, body, jsonInit, signUp, useApi, book, createPersonalization, readyPhoto } from "@faceapp/testkit/api";

const api = useApi();

describe("personalisations belong to their owner", () => {
  it("another user gets 404 on every route, the event stream included; nobody gets in anonymously", async () => {
    await book(api, { slug: "security-book" });
    const owner = await signUp(api.app, "owner");
    const other = await signUp(api.app, "other");
    const photo = await readyPhoto(api.app, owner.token);
    const created = await body(await createPersonalization(api.app, owner.token, "security-book", photo));
    const id = created.id as string;
    const otherPhoto = await readyPhoto(api.app, other.token);

    const routes: [string, string, unknown?][] = [
      ["GET", `/v1/personalizations/${id}`],
      ["GET", `/v1/personalizations/${id}/events`],
      ["GET", `/v1/personalizations/${id}/files/block.pdf`],
      ["POST", `/v1/personalizations/${id}/generate`, { childName: "Eve" }],
      ["POST", `/v1/personalizations/${id}/regenerate`, {}],
      ["POST", `/v1/personalizations/${id}/confirm`, {}],
      ["POST", `/v1/personalizations/${id}/cancel`, {}],
      ["PUT", `/v1/personalizations/${id}/photo`, { photoUploadId: otherPhoto }],
    ];
    for (const [method, path, payload] of routes) {
      const init =
        payload === undefined
          ? { method, headers: bearer(other.token) }
          : jsonInit(method, payload, bearer(other.token));
      const res = await api.app.request(path, init);
      expect(res.status, `${method} ${path}`).toBe(404);
      expect((await body(res)).error.code).toBe("not_found");
      const anonymous = await api.app.request(path, payload === undefined ? { method } : jsonInit(method, payload));
      expect(anonymous.status, `anonymous ${method} ${path}`).toBe(401);
    }
    // Nor can one start from somebody else's photo, or point one's own at it.
    expect((await createPersonalization(api.app, other.token, "security-book", photo)).status).toBe(404);
    const mine = await body(await createPersonalization(api.app, other.token, "security-book", otherPhoto));
    const stolen = await api.app.request(
      `/v1/personalizations/${mine.id}/photo`,
      jsonInit("PUT", { photoUploadId: photo }, bearer(other.token)),
    );
    expect([404, 409]).toContain(stolen.status);
    // The owner's listing holds only the owner's.
    const list = await body(await api.app.request("/v1/personalizations", { headers: bearer(other.token) }));
    expect(list.items.map((p: { id: string }) => p.id)).toEqual([mine.id]);
    // And the row is untouched.
    const view = await body(await api.app.request(`/v1/personalizations/${id}`, { headers: bearer(owner.token) }));
    expect(view.status).toBe("analyzing");
    expect(view.photoUploadId).toBe(photo);
  });

  it("a cookie request that changes state needs the CSRF check", async () => {
    await book(api, { slug: "csrf-book" });
    const owner = await signUp(api.app, "csrf");
    const photo = await readyPhoto(api.app, owner.token);
    const createFrom = (origin: string) =>
      api.app.request(
        "/v1/personalizations",
        jsonInit("POST", { bookSlug: "csrf-book", photoUploadId: photo }, { cookie: owner.cookie, origin }),
      );
    expect((await createFrom("https://evil.example")).status).toBe(403);
    expect((await createFrom("https://web.example")).status).toBe(202);
  });
});
