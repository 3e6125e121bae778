// Client-side checks before a photo is uploaded: the api and the analysis check again, these only
// save a parent from waiting on an upload that would be refused.

/** What the api's POST /v1/uploads accepts. */
export const PHOTO_TYPES = ["image/jpeg", "image/png", "image/webp"] as const;
export type PhotoType = (typeof PHOTO_TYPES)[number];
export const MAX_PHOTO_BYTES = 15 * 1024 * 1024;
export const MIN_PHOTO_BYTES = 1;

export type PhotoProblem = "type" | "too_large" | "empty";

/** Null when the file may be uploaded, else why not. */
export function checkPhoto(
  file: { type: string; size: number; name?: string },
  maxBytes = MAX_PHOTO_BYTES,
): PhotoProblem | null {
  if (!(PHOTO_TYPES as readonly string[]).includes(file.type)) return "type";
  if (file.size < MIN_PHOTO_BYTES) return "empty";
  if (file.size > maxBytes) return "too_large";
  return null;
}

/** "2.4 MB" */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(0)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}
