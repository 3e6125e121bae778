// Photo uploads: a presigned POST straight to S3, then a verification of what was stored.
import { randomUUID } from "node:crypto";
import { AppError, keys } from "@faceapp/core";
import type { Database, Upload } from "@faceapp/sql";
import type { Kysely } from "kysely";
import type { Bucket } from "../deps.ts";
import type { Upload as UploadView, UploadTicket, UploadWithUrl } from "../schemas.ts";
import { createBudget } from "./decode-budget.ts";
import { checkImage, type UploadType } from "./image-check.ts";
import { deleteObject, headObject, presignGet, presignPost, putObject, readObject } from "./storage.ts";

/** 15 MiB: the most an upload may hold (the policy's content-length-range and the check after). */
export const MAX_UPLOAD_BYTES = 15 * 1024 * 1024;
/** How long a presigned POST stays usable. */
export const UPLOAD_URL_SECONDS = 10 * 60;
/**
 * After its ticket expires an upload may still be completed this long: room for an upload begun just
 * before the end (the store checks the policy when the POST starts). Later, `complete` is refused.
 */
export const UPLOAD_COMPLETE_GRACE_SECONDS = 2 * 60;
/** How long a preview GET stays usable. */
export const PREVIEW_URL_SECONDS = 5 * 60;
/**
 * Completions that hold a file in memory at once, per process (read, checked, re-encoded, stored):
 * with the decode budget (image-check.ts) this bounds what one api process spends on uploads.
 */
export const COMPLETIONS_AT_ONCE = 2;
const completions = createBudget(COMPLETIONS_AT_ONCE);

function view(row: Upload): UploadView {
  return {
    id: row.id,
    status: row.status,
    contentType: row.content_type,
    declaredBytes: row.declared_bytes,
    width: row.width,
    height: row.height,
    bytes: row.bytes,
    sha256: row.sha256,
    rejectReason: row.reject_reason,
    createdAt: row.created_at.toISOString(),
    verifiedAt: row.verified_at?.toISOString() ?? null,
  };
}

/** Records a pending upload and presigns the POST that puts its bytes at `uploads/<owner>/<id>`. */
export async function createUpload(
  db: Kysely<Database>,
  bucket: Bucket,
  ownerId: string,
  input: { contentType: UploadType; byteSize: number },
): Promise<UploadTicket> {
  const id = randomUUID();
  const key = keys.upload(ownerId, id);
  await db
    .insertInto("app.uploads")
    .values({ id, owner_id: ownerId, object_key: key, content_type: input.contentType, declared_bytes: input.byteSize })
    .execute();
  const post = await presignPost(bucket, {
    key,
    contentType: input.contentType,
    maxBytes: MAX_UPLOAD_BYTES,
    expiresSeconds: UPLOAD_URL_SECONDS,
  });
  return {
    id,
    url: post.url,
    fields: post.fields,
    expiresAt: post.expiresAt.toISOString(),
    maxBytes: MAX_UPLOAD_BYTES,
  };
}

/** The owner's upload row; another user's upload, or none, is `not_found` alike. */
export async function findOwnUpload(db: Kysely<Database>, ownerId: string, uploadId: string): Promise<Upload> {
  const row = await db
    .selectFrom("app.uploads")
    .selectAll()
    .where("id", "=", uploadId)
    .where("owner_id", "=", ownerId)
    .executeTakeFirst();
  if (!row) throw new AppError("not_found", "Upload not found");
  return row;
}

/** The owner's verified upload, for routes that use a photo (personalisations): 404 unless it is ready. */
export async function getReadyUpload(db: Kysely<Database>, ownerId: string, uploadId: string): Promise<Upload> {
  const row = await findOwnUpload(db, ownerId, uploadId);
  if (row.status !== "ready")
    throw new AppError("invalid_state", "The photo has not been verified", { status: row.status });
  return row;
}

/** An upload with a preview URL when it is ready. */
export async function getUpload(
  db: Kysely<Database>,
  bucket: Bucket,
  ownerId: string,
  uploadId: string,
): Promise<UploadWithUrl> {
  const row = await findOwnUpload(db, ownerId, uploadId);
  if (row.status !== "ready") return { ...view(row), url: null, urlExpiresAt: null };
  const get = await presignGet(bucket, row.object_key, PREVIEW_URL_SECONDS);
  return { ...view(row), url: get.url, urlExpiresAt: get.expiresAt.toISOString() };
}

async function reject(db: Kysely<Database>, bucket: Bucket, row: Upload, reason: string): Promise<Upload> {
  await deleteObject(bucket, row.object_key);
  const updated = await db
    .updateTable("app.uploads")
    .set({ status: "rejected", reject_reason: reason, verified_at: new Date() })
    .where("id", "=", row.id)
    .where("status", "=", "pending")
    .returningAll()
    .executeTakeFirst();
  return updated ?? (await findOwnUpload(db, row.owner_id, row.id));
}

/**
 * Verifies the stored object (S3 test servers do not enforce the POST policy, so this is the gate):
 * size (an empty object is refused as empty), magic bytes, the photo limits and a full decode. Ready with the re-encoded photo stored
 * under its own key (the POST could otherwise replace it after the check), or rejected; either way
 * the uploaded object is deleted. Completing an upload that is no longer pending returns it as it is.
 */
export async function completeUpload(
  db: Kysely<Database>,
  bucket: Bucket,
  ownerId: string,
  uploadId: string,
): Promise<UploadView> {
  const row = await findOwnUpload(db, ownerId, uploadId);
  if (row.status !== "pending") return view(row);
  // A ticket kept past its end must not place a file: a store that does not enforce the POST policy's
  // expiration (s3rver) would take it, so the api refuses it here, and drops what was stored.
  const closesAt = row.created_at.getTime() + (UPLOAD_URL_SECONDS + UPLOAD_COMPLETE_GRACE_SECONDS) * 1000;
  if (Date.now() > closesAt) {
    await deleteObject(bucket, row.object_key);
    throw new AppError("invalid_state", "This upload's ticket has expired: start a new upload", {
      expiredAt: new Date(row.created_at.getTime() + UPLOAD_URL_SECONDS * 1000).toISOString(),
    });
  }
  const head = await headObject(bucket, row.object_key);
  if (!head) throw new AppError("invalid_state", "Nothing has been uploaded for this id yet");
  if (head.bytes < 1) return view(await reject(db, bucket, row, "empty: the file is empty"));
  if (head.bytes > MAX_UPLOAD_BYTES)
    return view(await reject(db, bucket, row, `too_large: the file is over ${MAX_UPLOAD_BYTES} bytes`));
  const photoKey = keys.photo(ownerId, uploadId);
  // The file and its re-encoded copy are in memory only inside this slot.
  const outcome = await completions.run(1, async () => {
    const bytes = await readObject(bucket, row.object_key, MAX_UPLOAD_BYTES);
    if (!bytes) return `too_large: the file is over ${MAX_UPLOAD_BYTES} bytes`;
    if (bytes.length === 0) return "empty: the file is empty";
    const check = await checkImage(bytes, row.content_type);
    if (!check.ok) return check.reason;
    await putObject(bucket, photoKey, check.clean, check.type);
    return { width: check.width, height: check.height, bytes: check.clean.length, sha256: check.sha256 };
  });
  if (typeof outcome === "string") return view(await reject(db, bucket, row, outcome));
  const updated = await db
    .updateTable("app.uploads")
    .set({
      status: "ready",
      object_key: photoKey,
      ...outcome,
      verified_at: new Date(),
    })
    .where("id", "=", row.id)
    .where("status", "=", "pending")
    .returningAll()
    .executeTakeFirst();
  await deleteObject(bucket, row.object_key);
  return view(updated ?? (await findOwnUpload(db, ownerId, uploadId)));
}
