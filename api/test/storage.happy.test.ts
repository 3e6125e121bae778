// Presigned GETs are signed once per URL without the SDK's per-command middleware. s3rver does not
// check SigV4 signatures, so each URL is compared with the one the SDK's own getSignedUrl makes at the
// same instant, and fetched from the real S3-compatible server.
import { GetObjectCommand } from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { createS3Client } from "@faceapp/core";
import { useTestBucket } from "@faceapp/testkit";
import { afterEach, describe, expect, it, vi } from "vitest";
import { presignGet, putObject } from "../src/services/storage.ts";

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
