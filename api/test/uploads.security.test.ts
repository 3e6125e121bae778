import { PutObjectCommand } from "@aws-sdk/client-s3";
import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { AppError } from "@faceapp/core";
import { headObject } from "../src/services/storage.ts";
import { getReadyUpload } from "../src/services/uploads.ts";
import {
  bearer,
  body,
  image,
  jsonInit,
  signUp,
  useApi,
  complete,
  createTicket,
  pngBomb,
  postToBucket,
  type Ticket,
  truncatedJpeg,
} from "@faceapp/testkit/api";

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
      await expect(getReadyUpload(api.pg.db, intruder.user.id, ticket.id)).rejects.toMatchObject({ code: "not_found" });
    }
    // the intruder's attempt did not complete the owner's pending upload
    const view = await body(await api.app.request(`/v1/uploads/${pending.id}`, { headers: bearer(owner.token) }));
    expect(view.status).toBe("pending");
    expect((await getReadyUpload(api.pg.db, owner.user.id, ready.id)).id).toBe(ready.id);
    await expect(getReadyUpload(api.pg.db, owner.user.id, pending.id)).rejects.toBeInstanceOf(AppError);
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

async function rejected(token: string, ticket: Ticket, reasonPrefix: string) {
  const res = await complete(api.app, token, ticket.id);
  expect(res.status).toBe(200);
  const done = await body(res);
  expect(done.status).toBe("rejected");
  expect(done.rejectReason).toMatch(new RegExp(`^${reasonPrefix}`));
  expect(done.width).toBeNull();
  // the object is gone, and the preview offers nothing
  expect(await headObject(api.bucket, ticket.fields.key!)).toBeNull();
  const view = await body(await api.app.request(`/v1/uploads/${ticket.id}`, { headers: bearer(token) }));
  expect(view).toMatchObject({ status: "rejected", url: null });
}

describe("upload hazards: the check after upload keeps out what the bucket let in", () => {
  it("an HTML file renamed .png", async () => {
    const { token } = await signUp(api.app);
    const html = Buffer.from("<!doctype html><html><body><script>alert(1)</script></body></html>");
    const ticket = await createTicket(api.app, token, "image/png", html.length);
    expect((await postToBucket(ticket, html, "cute.png")).status).toBeLessThan(300);
    await rejected(token, ticket, "not_an_image");
  });

  it("a truncated JPEG", async () => {
    const { token } = await signUp(api.app);
    const bytes = await truncatedJpeg();
    const ticket = await createTicket(api.app, token, "image/jpeg", bytes.length);
    await postToBucket(ticket, bytes);
    await rejected(token, ticket, "undecodable");
  });

  it("a 20000×20000 PNG decompression bomb", async () => {
    const { token } = await signUp(api.app);
    const bomb = pngBomb();
    expect(bomb.length).toBeLessThan(1024 * 1024);
    const ticket = await createTicket(api.app, token, "image/png", bomb.length);
    await postToBucket(ticket, bomb, "bomb.png");
    await rejected(token, ticket, "too_many_pixels");
  });

  it("a file over the size limit put straight into the bucket", async () => {
    const { token } = await signUp(api.app);
    const ticket = await createTicket(api.app, token, "image/jpeg", 1000);
    const big = Buffer.concat([await image("jpeg"), Buffer.alloc(15 * 1024 * 1024 + 1, 0x20)]);
    await api.bucket.client.send(
      new PutObjectCommand({
        Bucket: api.s3Config.bucket,
        Key: ticket.fields.key,
        Body: big,
        ContentType: "image/jpeg",
      }),
    );
    await rejected(token, ticket, "too_large");
  });

  it("a PNG declared as a JPEG", async () => {
    const { token } = await signUp(api.app);
    const png = await image("png");
    const ticket = await createTicket(api.app, token, "image/jpeg", png.length);
    await postToBucket(ticket, png);
    await rejected(token, ticket, "type_mismatch");
  });
});

/** A JPEG with `segments` APP1 XMP blocks of ~64 KB each after its start marker. */
async function jpegWithHugeMetadata(segments: number): Promise<Buffer> {
  const jpeg = await image("jpeg", 96, 64);
  const header = Buffer.from("http://ns.adobe.com/xap/1.0/\0", "latin1");
  const payload = Buffer.alloc(65_000, "x");
  const segment = Buffer.concat([Buffer.from([0xff, 0xe1, 0, 0]), header, payload]);
  segment.writeUInt16BE(segment.length - 2, 2);
  return Buffer.concat([jpeg.subarray(0, 2), ...Array(segments).fill(segment), jpeg.subarray(2)]);
}

/** Completes an upload of `bytes` and returns its record and the bytes the owner is served. */
async function completeAndFetch(token: string, ticket: Ticket, bytes: Buffer) {
  expect((await postToBucket(ticket, bytes)).status).toBeLessThan(300);
  const done = await body(await complete(api.app, token, ticket.id));
  const view = await body(await api.app.request(`/v1/uploads/${ticket.id}`, { headers: bearer(token) }));
  const served = view.url ? Buffer.from(await (await fetch(view.url)).arrayBuffer()) : null;
  return { done, served };
}

describe("upload hazards: what is kept is the decoded picture, encoded again", () => {
  it("a JPEG/HTML polyglot and a PNG/ZIP polyglot lose what followed the image", async () => {
    const { token } = await signUp(api.app);
    for (const [type, trailer] of [
      ["jpeg", Buffer.from("<html><body><script>alert(document.cookie)</script></body></html>")],
      ["png", Buffer.concat([Buffer.from("PK\x03\x04", "latin1"), Buffer.alloc(2000, 7)])],
    ] as const) {
      const polyglot = Buffer.concat([await image(type), trailer]);
      const ticket = await createTicket(api.app, token, `image/${type}`, polyglot.length);
      const { done, served } = await completeAndFetch(token, ticket, polyglot);
      expect(done.status).toBe("ready");
      expect(served!.includes(trailer.subarray(0, 12))).toBe(false);
      expect(served!.length).toBe(done.bytes);
      expect((await sharp(served!).metadata()).format).toBe(type);
    }
  });

  it("13 MB of metadata blocks and EXIF fields (camera, artist) are dropped", async () => {
    const { token } = await signUp(api.app);
    const huge = await jpegWithHugeMetadata(200);
    expect(huge.length).toBeGreaterThan(13_000_000);
    const ticket = await createTicket(api.app, token, "image/jpeg", huge.length);
    const first = await completeAndFetch(token, ticket, huge);
    expect(first.done).toMatchObject({ status: "ready", width: 96, height: 64 });
    expect(first.served!.length).toBeLessThan(20_000);

    const tagged = await sharp({ create: { width: 80, height: 60, channels: 3, background: "#a0b0c0" } })
      .withExif({ IFD0: { Artist: "secret-artist-tag", Make: "PhoneCo" } })
      .jpeg()
      .toBuffer();
    expect(tagged.includes("secret-artist-tag")).toBe(true);
    const second = await completeAndFetch(
      token,
      await createTicket(api.app, token, "image/jpeg", tagged.length),
      tagged,
    );
    expect(second.done.status).toBe("ready");
    expect(second.served!.includes("secret-artist-tag")).toBe(false);
    expect((await sharp(second.served!).metadata()).exif).toBeUndefined();
  });

  it("wrong magic bytes: a GIF, an SVG with script, and text are refused, whatever the type declared", async () => {
    const { token } = await signUp(api.app);
    const gif = await sharp({ create: { width: 8, height: 8, channels: 3, background: "#fff" } })
      .gif()
      .toBuffer();
    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>');
    for (const [bytes, declared] of [
      [gif, "image/png"],
      [svg, "image/webp"],
      [Buffer.from("just some text"), "image/jpeg"],
    ] as const) {
      const ticket = await createTicket(api.app, token, declared, bytes.length);
      await postToBucket(ticket, bytes);
      await rejected(token, ticket, "not_an_image");
    }
  });

  it("a ticket used again after the check cannot replace the verified photo", async () => {
    const { token } = await signUp(api.app);
    const photo = await image("png", 40, 30);
    const ticket = await createTicket(api.app, token, "image/png", photo.length);
    const { done, served } = await completeAndFetch(token, ticket, photo);
    expect(done.status).toBe("ready");
    // The POST is still within its ten minutes: the bucket takes the bytes, but not as the photo.
    const html = Buffer.from("<!doctype html><script>alert(1)</script>");
    expect((await postToBucket(ticket, html, "x.png")).status).toBeLessThan(300);
    const again = await completeAndFetch(token, ticket, html);
    expect(again.done).toEqual(done);
    expect(again.served!.equals(served!)).toBe(true);
    const row = await api.pg.db
      .selectFrom("app.uploads")
      .select("object_key")
      .where("id", "=", ticket.id)
      .executeTakeFirstOrThrow();
    expect(row.object_key).not.toBe(ticket.fields.key);
  });
});
