// The object store: presigned POST for uploads, presigned GET for downloads, bounded reads.
// Every presigned URL of the api is made here, so expiry and key rules live in one place.
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  PutObjectCommand,
} from "@aws-sdk/client-s3";
import { createHmac } from "node:crypto";
import { formatUrl } from "@aws-sdk/core/util";
import { createPresignedPost } from "@aws-sdk/s3-presigned-post";
import { getSignedUrl, S3RequestPresigner } from "@aws-sdk/s3-request-presigner";
import type { Bucket } from "../deps.ts";

export interface PresignedPost {
  url: string;
  fields: Record<string, string>;
  expiresAt: Date;
}

/** A browser upload of exactly one key, one content type and at most `maxBytes` bytes. */
export async function presignPost(
  bucket: Bucket,
  options: { key: string; contentType: string; maxBytes: number; expiresSeconds: number },
): Promise<PresignedPost> {
  return (await postSigner(bucket))(options);
}

type PostSigner = (options: {
  key: string;
  contentType: string;
  maxBytes: number;
  expiresSeconds: number;
}) => Promise<PresignedPost>;
const postSigners = new WeakMap<Bucket["client"], Promise<PostSigner>>();

/**
 * Presigned POSTs without resolving the bucket's address each time: `createPresignedPost` runs the
 * SDK's endpoint resolution for every upload (with its SigV4 pieces, ≈ 8 % of the api's CPU on
 * POST /v1/uploads, bench:api --cpu-prof). The SDK gives the address once, from a first POST it
 * presigns; each POST after it is the same policy and SigV4 signature the SDK writes
 * (storage.happy.test.ts compares them to the byte), the signing key derived once a day.
 */
function postSigner(bucket: Bucket): Promise<PostSigner> {
  const client = bucket.presignClient ?? bucket.client;
  return oncePerClient(postSigners, client, async () => {
    const { url } = await createPresignedPost(client, { Bucket: bucket.config.bucket, Key: "probe" });
    let signingKey: { id: string; key: Buffer } | undefined;
    return async ({ key, contentType, maxBytes, expiresSeconds }) => {
      const { systemClockOffset } = client.config;
      const now = new Date(Date.now() + systemClockOffset);
      const signingDate = iso8601(now).replace(/[-:]/g, "");
      const shortDate = signingDate.slice(0, 8);
      const region = await client.config.region();
      const credentials = await client.config.credentials();
      const scope = `${shortDate}/${region}/s3/aws4_request`;
      // The order of the SDK's fields and conditions: the policy is signed as written.
      const fields: Record<string, string> = {
        "Content-Type": contentType,
        bucket: bucket.config.bucket,
        "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
        "X-Amz-Credential": `${credentials.accessKeyId}/${scope}`,
        "X-Amz-Date": signingDate,
        ...(credentials.sessionToken ? { "X-Amz-Security-Token": credentials.sessionToken } : {}),
      };
      const conditions: unknown[] = [
        ["eq", "$key", key],
        ["eq", "$Content-Type", contentType],
        ["content-length-range", 1, maxBytes],
        ...Object.entries(fields).map(([k, v]) => ({ [k]: v })),
        { key },
      ];
      const expiresAt = new Date(now.valueOf() + expiresSeconds * 1000);
      const policy = Buffer.from(JSON.stringify({ expiration: iso8601(expiresAt), conditions })).toString("base64");
      const id = `${credentials.accessKeyId}\n${credentials.secretAccessKey}\n${scope}`;
      if (signingKey?.id !== id) {
        const date = hmac(`AWS4${credentials.secretAccessKey}`, shortDate);
        signingKey = { id, key: hmac(hmac(hmac(date, region), "s3"), "aws4_request") };
      }
      const signature = hmac(signingKey.key, policy).toString("hex");
      return { url, fields: { ...fields, key, Policy: policy, "X-Amz-Signature": signature }, expiresAt };
    };
  });
}

/** A signer made once per client; a failed start (credentials not resolvable yet) is tried again by the next call. */
function oncePerClient<T>(
  signers: WeakMap<Bucket["client"], Promise<T>>,
  client: Bucket["client"],
  make: () => Promise<T>,
): Promise<T> {
  let signer = signers.get(client);
  if (!signer) {
    signer = make();
    signer.catch(() => signers.delete(client));
    signers.set(client, signer);
  }
  return signer;
}

/**
 * Makes this bucket's signers now (the SDK's endpoint and credential resolution, 17–50 ms of CPU the
 * first time) instead of inside the first request or event stream that presigns, where it held up
 * everything behind it. A failure is forgotten here and met again by the first presign.
 */
export function prepareSigners(bucket: Bucket): void {
  getSigner(bucket).catch(() => {});
  postSigner(bucket).catch(() => {});
}

const iso8601 = (date: Date) => date.toISOString().replace(/\.\d{3}Z$/, "Z");
const hmac = (key: string | Buffer, data: string) => createHmac("sha256", key).update(data, "utf8").digest();

/**
 * A short-lived GET of one object. `contentDisposition` is signed into the URL as S3's
 * `response-content-disposition`, so the store itself answers with that header (a download, named).
 */
export async function presignGet(
  bucket: Bucket,
  key: string,
  expiresSeconds: number,
  options: { contentDisposition?: string } = {},
): Promise<{ url: string; expiresAt: Date }> {
  const url = await (await getSigner(bucket))(key, expiresSeconds, options.contentDisposition);
  return { url, expiresAt: new Date(Date.now() + expiresSeconds * 1000) };
}

type GetSigner = (key: string, expiresSeconds: number, contentDisposition?: string) => Promise<string>;
const getSigners = new WeakMap<Bucket["client"], Promise<GetSigner>>();

/**
 * Signs GETs of this bucket's objects without a full SDK command each: `getSignedUrl` runs the
 * command's middleware and endpoint resolution per URL, most of the api's CPU on a busy event stream
 * (bench:sse). The SDK resolves the address once, by signing a probe; each URL is then one SigV4
 * presign (the SDK's own S3 presigner) of the object's path under it.
 */
function getSigner(bucket: Bucket): Promise<GetSigner> {
  const client = bucket.presignClient ?? bucket.client;
  return oncePerClient(getSigners, client, async () => {
    const presigner = new S3RequestPresigner({ ...client.config });
    const probe = "probe";
    const url = new URL(await getSignedUrl(client, new GetObjectCommand({ Bucket: bucket.config.bucket, Key: probe })));
    const address = { protocol: url.protocol, hostname: url.hostname, port: url.port ? Number(url.port) : undefined };
    const prefix = url.pathname.slice(0, -probe.length);
    return async (key, expiresSeconds, contentDisposition) => {
      const path = prefix + key.split("/").map(encodeKeySegment).join("/");
      // As the SDK's GetObject writes it (ResponseContentDisposition included).
      const query: Record<string, string> = {
        ...(contentDisposition ? { "response-content-disposition": contentDisposition } : {}),
        "x-id": "GetObject",
      };
      const signed = await presigner.presign(
        { method: "GET", ...address, path, query, headers: {} },
        { expiresIn: expiresSeconds },
      );
      return formatUrl(signed);
    };
  });
}

/** RFC 3986 escaping of one path segment, as the SDK writes an S3 key into the path. */
const encodeKeySegment = (segment: string) =>
  encodeURIComponent(segment).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** Size and type of an object, or null when there is none. */
export async function headObject(
  bucket: Bucket,
  key: string,
): Promise<{ bytes: number; contentType: string | undefined } | null> {
  try {
    const head = await bucket.client.send(new HeadObjectCommand({ Bucket: bucket.config.bucket, Key: key }));
    return { bytes: head.ContentLength ?? 0, contentType: head.ContentType };
  } catch (error) {
    const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if (status === 404 || (error as Error).name === "NotFound" || (error as Error).name === "NoSuchKey") return null;
    throw error;
  }
}

/** Reads an object, refusing (null) as soon as it passes `maxBytes`: never more than that in memory. */
export async function readObject(bucket: Bucket, key: string, maxBytes: number): Promise<Buffer | null> {
  const object = await bucket.client.send(new GetObjectCommand({ Bucket: bucket.config.bucket, Key: key }));
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of object.Body as AsyncIterable<Uint8Array>) {
    total += chunk.byteLength;
    if (total > maxBytes) {
      (object.Body as { destroy?: () => void }).destroy?.();
      return null;
    }
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks);
}

/** Writes an object. */
export async function putObject(bucket: Bucket, key: string, body: Buffer, contentType: string): Promise<void> {
  await bucket.client.send(
    new PutObjectCommand({ Bucket: bucket.config.bucket, Key: key, Body: body, ContentType: contentType }),
  );
}

/** Deletes an object (no error when it is already gone). */
export async function deleteObject(bucket: Bucket, key: string): Promise<void> {
  await bucket.client.send(new DeleteObjectCommand({ Bucket: bucket.config.bucket, Key: key }));
}

/** Whether the bucket answers: the readiness probe. */
export async function pingBucket(bucket: Bucket): Promise<void> {
  await bucket.client.send(new HeadBucketCommand({ Bucket: bucket.config.bucket }));
}

/**
 * Presigned GETs reused while they have more than `minRemainingSeconds` left: for public, rarely
 * changing objects (catalog covers), signing once per key rather than once per response.
 */
export function cachedPresignGet(bucket: Bucket, expiresSeconds: number, minRemainingSeconds: number) {
  const urls = new Map<string, { url: string; reuseUntil: number }>();
  return async (key: string): Promise<string> => {
    const now = Date.now();
    const hit = urls.get(key);
    if (hit && hit.reuseUntil > now) return hit.url;
    const { url } = await presignGet(bucket, key, expiresSeconds);
    if (urls.size >= 10_000) urls.clear();
    urls.set(key, { url, reuseUntil: now + (expiresSeconds - minRemainingSeconds) * 1000 });
    return url;
  };
}
