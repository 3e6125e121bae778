// The object store: presigned POST for uploads, presigned GET for downloads, bounded reads.
// Every presigned URL of the api is made here, so expiry and key rules live in one place.
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  PutObjectCommand,
} from "@aws-sdk/client-s3";
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
  const expiresAt = new Date(Date.now() + options.expiresSeconds * 1000);
  const { url, fields } = await createPresignedPost(bucket.presignClient ?? bucket.client, {
    Bucket: bucket.config.bucket,
    Key: options.key,
    Conditions: [
      ["eq", "$key", options.key],
      ["eq", "$Content-Type", options.contentType],
      ["content-length-range", 1, options.maxBytes],
    ],
    Fields: { "Content-Type": options.contentType },
    Expires: options.expiresSeconds,
  });
  return { url, fields, expiresAt };
}

/** A short-lived GET of one object. */
export async function presignGet(
  bucket: Bucket,
  key: string,
  expiresSeconds: number,
): Promise<{ url: string; expiresAt: Date }> {
  const url = await getSigner(bucket)(key, expiresSeconds);
  return { url, expiresAt: new Date(Date.now() + expiresSeconds * 1000) };
}

type GetSigner = (key: string, expiresSeconds: number) => Promise<string>;
const signers = new WeakMap<Bucket["client"], GetSigner>();

/**
 * Signs GETs of this bucket's objects without a full SDK command each: `getSignedUrl` runs the
 * command's middleware and endpoint resolution per URL, most of the api's CPU on a busy event stream
 * (bench:sse). The SDK resolves the address once, by signing a probe; each URL is then one SigV4
 * presign (the SDK's own S3 presigner) of the object's path under it.
 */
function getSigner(bucket: Bucket): GetSigner {
  const client = bucket.presignClient ?? bucket.client;
  let signer = signers.get(client);
  if (signer) return signer;
  const presigner = new S3RequestPresigner({ ...client.config });
  const probe = "probe";
  const base = getSignedUrl(client, new GetObjectCommand({ Bucket: bucket.config.bucket, Key: probe })).then((url) => {
    const { protocol, hostname, port, pathname } = new URL(url);
    return { protocol, hostname, port: port ? Number(port) : undefined, prefix: pathname.slice(0, -probe.length) };
  });
  signer = async (key, expiresSeconds) => {
    const { prefix, ...address } = await base;
    const path = prefix + key.split("/").map(encodeKeySegment).join("/");
    const query = { "x-id": "GetObject" }; // as the SDK's GetObject writes it
    const signed = await presigner.presign(
      { method: "GET", ...address, path, query, headers: {} },
      {
        expiresIn: expiresSeconds,
      },
    );
    return formatUrl(signed);
  };
  signers.set(client, signer);
  return signer;
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
