import { createHash } from "node:crypto";
import fs from "node:fs";
import { fixturePath } from "@faceapp/testkit";
import sharp from "sharp";
import { expect, it } from "vitest";
import { bearer, body, image, signUp, useApi, complete, createTicket, postToBucket } from "@faceapp/testkit/api";

const api = useApi();

it("presigns a POST, takes the photo straight into the bucket, verifies it and serves the checked copy", async () => {
  const { token, user } = await signUp(api.app);
  const photo = await image("jpeg", 120, 80);
  const ticket = await createTicket(api.app, token, "image/jpeg", photo.length);
  expect(ticket.maxBytes).toBe(15 * 1024 * 1024);
  expect(ticket.fields.key).toBe(`uploads/${user.id}/${ticket.id}`);
  const minutes = (Date.parse(ticket.expiresAt) - Date.now()) / 60_000;
  expect(minutes).toBeGreaterThan(1);
  expect(minutes).toBeLessThanOrEqual(10);

  const stored = await postToBucket(ticket, photo);
  expect(stored.status).toBeLessThan(300);

  const pending = await api.app.request(`/v1/uploads/${ticket.id}`, { headers: bearer(token) });
  expect((await body(pending)).status).toBe("pending");

  const res = await complete(api.app, token, ticket.id);
  expect(res.status).toBe(200);
  const done = await body(res);
  expect(done).toMatchObject({
    id: ticket.id,
    status: "ready",
    contentType: "image/jpeg",
    width: 120,
    height: 80,
    rejectReason: null,
  });

  const view = await body(await api.app.request(`/v1/uploads/${ticket.id}`, { headers: bearer(token) }));
  expect(view.status).toBe("ready");
  const preview = await fetch(view.url);
  expect(preview.status).toBe(200);
  expect(preview.headers.get("content-type")).toBe("image/jpeg");
  // The re-encoded photo, described by the record: the same picture, in a new file.
  const served = Buffer.from(await preview.arrayBuffer());
  expect(served.length).toBe(done.bytes);
  expect(createHash("sha256").update(served).digest("hex")).toBe(done.sha256);
  const [a, b] = await Promise.all([photo, served].map((x) => sharp(x).raw().toBuffer()));
  const meanDifference = a!.reduce((sum, v, i) => sum + Math.abs(v - b![i]!), 0) / a!.length;
  expect(meanDifference).toBeLessThan(3);
  const expiresIn = (Date.parse(view.urlExpiresAt) - Date.now()) / 60_000;
  expect(expiresIn).toBeLessThanOrEqual(5);
});

it.each(["png", "webp"] as const)("accepts %s photos", async (type) => {
  const { token } = await signUp(api.app);
  const photo = await image(type, 50, 40);
  const ticket = await createTicket(api.app, token, `image/${type}`, photo.length);
  await postToBucket(ticket, photo, `photo.${type}`);
  const done = await body(await complete(api.app, token, ticket.id));
  expect(done).toMatchObject({ status: "ready", width: 50, height: 40 });
});

it("records a JPEG with an EXIF rotation in its displayed orientation", async () => {
  const { token } = await signUp(api.app);
  const photo = await image("jpeg", 64, 48, { orientation: 6 }); // stored landscape, shown portrait
  const ticket = await createTicket(api.app, token, "image/jpeg", photo.length);
  await postToBucket(ticket, photo);
  const done = await body(await complete(api.app, token, ticket.id));
  expect(done).toMatchObject({ status: "ready", width: 48, height: 64 });
});

it("answers a repeated complete with the recorded result", async () => {
  const { token } = await signUp(api.app);
  const photo = await image("png");
  const ticket = await createTicket(api.app, token, "image/png", photo.length);
  await postToBucket(ticket, photo, "a.png");
  const first = await body(await complete(api.app, token, ticket.id));
  const again = await complete(api.app, token, ticket.id);
  expect(again.status).toBe(200);
  expect(await body(again)).toEqual(first);
});

it("signs upload and preview URLs for S3_PUBLIC_ENDPOINT_URL when browsers reach the store elsewhere", async () => {
  const app = api.build({ env: { S3_PUBLIC_ENDPOINT_URL: "https://files.example" } });
  const { token } = await signUp(app);
  const ticket = await createTicket(app, token);
  expect(ticket.url).toBe(`https://files.example/${api.s3Config.bucket}`);
});

it("verifies a real photo from the shared fixtures", async () => {
  const { token } = await signUp(api.app);
  const photo = fs.readFileSync(fixturePath("face-astronaut.png"));
  const ticket = await createTicket(api.app, token, "image/png", photo.length);
  await postToBucket(ticket, photo, "astronaut.png");
  const done = await body(await complete(api.app, token, ticket.id));
  expect(done.status).toBe("ready");
  expect(done.width).toBe((await sharp(photo).metadata()).width);
});
