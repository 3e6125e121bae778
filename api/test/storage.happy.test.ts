// Presigned GETs and POSTs are signed once per URL without the SDK's per-command middleware. s3rver does not
// check SigV4 signatures, so each URL is compared with the one the SDK's own getSignedUrl makes at the
// same instant, and fetched from the real S3-compatible server.
import { GetObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { createPresignedPost } from "@aws-sdk/s3-presigned-post";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { createS3Client } from "@faceapp/core";
import { useTestBucket } from "@faceapp/testkit";
import { afterEach, describe, expect, it, vi } from "vitest";
import { presignGet, presignPost, putObject } from "../src/services/storage.ts";

const config = useTestBucket();
const keys = ["personalizations/p/preview/g1/page_1/web.jpg", "odd keys/ä b+c/(1)!*'~%.txt", "a//b/"];

afterEach(() => {
  vi.useRealTimers();
});

describe("presigned GETs", () => {
  it("are the URLs the SDK signs, to the byte, for any key and expiry", async () => {
    const bucket = { client: createS3Client(config), config };
    const other = createS3Client({ ...config, credentials: { accessKeyId: "other", secretAccessKey: "secret" } });
    vi.useFakeTimers({ toFake: ["Date"] });
    for (const [i, key] of keys.entries()) {
      vi.setSystemTime(new Date(Date.UTC(2026, 10, 29, 12, i, i)));
      for (const expiresIn of [60, 900]) {
        for (const client of [bucket.client, other]) {
          const mine = await presignGet({ client, config }, key, expiresIn);
          const sdk = await getSignedUrl(client, new GetObjectCommand({ Bucket: config.bucket, Key: key }), {
            expiresIn,
          });
          expect(mine.url).toBe(sdk);
        }
      }
    }
  });

  it("fetch the object from the store", async () => {
    const bucket = { client: createS3Client(config), config };
    for (const key of keys.slice(0, 2)) {
      // s3rver cannot store a key with an empty segment
      await putObject(bucket, key, Buffer.from(`body of ${key}`), "text/plain");
      const { url, expiresAt } = await presignGet(bucket, key, 60);
      expect(expiresAt.getTime()).toBeGreaterThan(Date.now() + 50_000);
      const res = await fetch(url);
      expect(res.status).toBe(200);
      expect(await res.text()).toBe(`body of ${key}`);
    }
  });
});

describe("presigned POSTs", () => {
  it("are the policy and signature the SDK writes, to the byte, for any key, type, size, expiry and credentials", async () => {
    const bucket = { client: createS3Client(config), config };
    const other = createS3Client({ ...config, credentials: { accessKeyId: "other", secretAccessKey: "secret" } });
    const temporary = new S3Client({
      region: "eu-central-1",
      ...(config.endpoint ? { endpoint: config.endpoint, forcePathStyle: true } : {}),
      credentials: { accessKeyId: "temp", secretAccessKey: "s3cr3t", sessionToken: "token/with+chars=" },
    });
    vi.useFakeTimers({ toFake: ["Date"] });
    for (const [i, key] of ["uploads/u/1", ...keys].entries()) {
      // across midnight too: the signing key is derived per day
      vi.setSystemTime(new Date(Date.UTC(2026, 10, 29 + i, 23, 59, 59 + i)));
      for (const [contentType, maxBytes, expiresSeconds] of [
        ["image/jpeg", 15 * 1024 * 1024, 600],
        ["image/png", 1, 60],
      ] as const) {
        for (const client of [bucket.client, other, temporary]) {
          const options = { key, contentType, maxBytes, expiresSeconds };
          const mine = await presignPost({ client, config }, options);
          const sdk = await createPresignedPost(client, {
            Bucket: config.bucket,
            Key: key,
            Conditions: [
              ["eq", "$key", key],
              ["eq", "$Content-Type", contentType],
              ["content-length-range", 1, maxBytes],
            ],
            Fields: { "Content-Type": contentType },
            Expires: expiresSeconds,
          });
          expect(mine.url).toBe(sdk.url);
          expect(JSON.stringify(mine.fields)).toBe(JSON.stringify(sdk.fields));
          expect(mine.expiresAt.getTime()).toBe(Date.now() + expiresSeconds * 1000);
        }
      }
    }
  });

  it("put the object into the store", async () => {
    const bucket = { client: createS3Client(config), config };
    const key = "uploads/u/posted";
    const post = await presignPost(bucket, { key, contentType: "image/png", maxBytes: 100, expiresSeconds: 60 });
    const form = new FormData();
    for (const [name, value] of Object.entries(post.fields)) form.append(name, value);
    form.append("file", new Blob([Buffer.from("png bytes")], { type: "image/png" }));
    const res = await fetch(post.url, { method: "POST", body: form });
    expect(res.status).toBeLessThan(300);
    const { url } = await presignGet(bucket, key, 60);
    expect(await (await fetch(url)).text()).toBe("png bytes");
  });
});
