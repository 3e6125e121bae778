// A kept ticket cannot place a photo late: s3rver (and any store that does not enforce the POST
// policy's expiration) accepts the bytes, so the api refuses to complete an upload whose ticket ended.
import { HeadObjectCommand } from "@aws-sdk/client-s3";
import { expect, it } from "vitest";
import { record } from "@faceapp/testkit";
import { UPLOAD_COMPLETE_GRACE_SECONDS, UPLOAD_URL_SECONDS } from "../src/services/uploads.ts";
import { body, image, signUp, useApi, complete, createTicket, postToBucket } from "@faceapp/testkit/api";

const api = useApi();

/** A ticket whose bytes are in the bucket, its row made `secondsOld` seconds old. */
async function agedUpload(secondsOld: number) {
  const user = await signUp(api.app);
  const bytes = await image("png");
  const ticket = await createTicket(api.app, user.token, "image/png", bytes.length);
  expect((await postToBucket(ticket, bytes, "photo.png")).status).toBeLessThan(300);
  await api.pg
    .sql`update app.uploads set created_at = now() - make_interval(secs => ${secondsOld}) where id = ${ticket.id}`;
  return { user, ticket };
}

const objectExists = async (key: string) =>
  api.bucket.client
    .send(new HeadObjectCommand({ Bucket: api.s3Config.bucket, Key: key }))
    .then(() => true)
    .catch(() => false);

it("refuses to complete an upload after its ticket (and the grace) ended, in the envelope, and drops the bytes", async () => {
  const { user, ticket } = await agedUpload(UPLOAD_URL_SECONDS + UPLOAD_COMPLETE_GRACE_SECONDS + 5);
  const [row] = await api.pg.sql<{ object_key: string }[]>`select object_key from app.uploads where id = ${ticket.id}`;
  expect(await objectExists(row!.object_key)).toBe(true);
  for (let i = 0; i < 2; i++) {
    const res = await complete(api.app, user.token, ticket.id);
    expect(res.status).toBe(409);
    const error = (await body(res)).error;
    expect(error.code).toBe("invalid_state");
    expect(error.message).toMatch(/expired/);
    expect(typeof error.requestId).toBe("string");
  }
  const [after] = await api.pg.sql<{ status: string }[]>`select status from app.uploads where id = ${ticket.id}`;
  expect(after!.status).toBe("pending");
  expect(await objectExists(row!.object_key)).toBe(false);
  record("upload completed after its ticket", { status: 409, bytesKept: false }, "Defences");
});

it("still completes an upload that arrives within the grace after the ticket's end", async () => {
  const { user, ticket } = await agedUpload(UPLOAD_URL_SECONDS + UPLOAD_COMPLETE_GRACE_SECONDS - 30);
  const res = await complete(api.app, user.token, ticket.id);
  expect(res.status).toBe(200);
  expect((await body(res)).status).toBe("ready");
});
