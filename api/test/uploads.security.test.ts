import { describe, expect, it } from "vitest";
import { AppError } from "@faceapp/core";
import { getReadyUpload } from "../src/services/uploads.ts";
import { bearer, body, image, jsonInit, signUp, useApi } from "./helpers.ts";
import { complete, createTicket, postToBucket } from "./uploads.helpers.ts";

const api = useApi();

describe("another user's upload", () => {
  it("is 404 to read, to complete and to use, whatever its state", async () => {
    const owner = await signUp(api.app, "owner");
    const intruder = await signUp(api.app, "intruder");
    const photo = await image("jpeg");
    const pending = await createTicket(api.app, owner.token, "image/jpeg", photo.length);
    const ready = await createTicket(api.app, owner.token, "image/jpeg", photo.length);
    await postToBucket(pending, photo);
    await postToBucket(ready, photo);
    expect((await body(await complete(api.app, owner.token, ready.id))).status).toBe("ready");

    for (const ticket of [pending, ready]) {
      const read = await api.app.request(`/v1/uploads/${ticket.id}`, { headers: bearer(intruder.token) });
      expect(read.status).toBe(404);
      expect(await read.text()).not.toContain(ticket.fields.key!);
      expect((await complete(api.app, intruder.token, ticket.id)).status).toBe(404);
      // the helper personalisation routes use to take a photo
      await expect(getReadyUpload(api.db.db, intruder.user.id, ticket.id)).rejects.toMatchObject({ code: "not_found" });
    }
    // the intruder's attempt did not complete the owner's pending upload
    const view = await body(await api.app.request(`/v1/uploads/${pending.id}`, { headers: bearer(owner.token) }));
    expect(view.status).toBe("pending");
    expect((await getReadyUpload(api.db.db, owner.user.id, ready.id)).id).toBe(ready.id);
    await expect(getReadyUpload(api.db.db, owner.user.id, pending.id)).rejects.toBeInstanceOf(AppError);
  });

  it("answers 404 for an unknown id exactly as for another user's", async () => {
    const owner = await signUp(api.app);
    const intruder = await signUp(api.app);
    const ticket = await createTicket(api.app, owner.token);
    const theirs = await body(await api.app.request(`/v1/uploads/${ticket.id}`, { headers: bearer(intruder.token) }));
    const none = await body(
      await api.app.request(`/v1/uploads/${crypto.randomUUID()}`, { headers: bearer(intruder.token) }),
    );
    expect(theirs.error.code).toBe(none.error.code);
    expect(theirs.error.message).toBe(none.error.message);
  });
});

describe("the presigned POST", () => {
  it("pins the exact key under the user's folder, the content type, a size range up to 15 MiB and a short expiry", async () => {
    const { token, user } = await signUp(api.app);
    const ticket = await createTicket(api.app, token, "image/webp", 5000);
    const policy = JSON.parse(Buffer.from(ticket.fields.Policy!, "base64").toString()) as {
      expiration: string;
      conditions: unknown[];
    };
    const key = `uploads/${user.id}/${ticket.id}`;
    expect(policy.conditions).toContainEqual(["eq", "$key", key]);
    expect(policy.conditions).toContainEqual(["eq", "$Content-Type", "image/webp"]);
    expect(policy.conditions).toContainEqual(["content-length-range", 1, 15 * 1024 * 1024]);
    expect(policy.conditions).not.toContainEqual(expect.arrayContaining(["starts-with"]));
    const minutes = (Date.parse(policy.expiration) - Date.now()) / 60_000;
    expect(minutes).toBeGreaterThan(0);
    expect(minutes).toBeLessThanOrEqual(10);
  });

  it("cannot name the key: a client-chosen key is an unknown field", async () => {
    const { token } = await signUp(api.app);
    const res = await api.app.request(
      "/v1/uploads",
      jsonInit("POST", { contentType: "image/png", byteSize: 10, key: "uploads/other/x" }, bearer(token)),
    );
    expect(res.status).toBe(400);
  });
});

describe("without credentials", () => {
  it("every upload route answers 401", async () => {
    const id = crypto.randomUUID();
    expect(
      (await api.app.request("/v1/uploads", jsonInit("POST", { contentType: "image/png", byteSize: 10 }))).status,
    ).toBe(401);
    expect((await api.app.request(`/v1/uploads/${id}`)).status).toBe(401);
    expect((await api.app.request(`/v1/uploads/${id}/complete`, { method: "POST" })).status).toBe(401);
  });
});
