// The object key layout of the bucket, in one place: deterministic keys make tasks idempotent.

import type { PageId } from "./manifest.ts";

export type Stage = "preview" | "full";
export type PrintFile = "block.pdf" | "cover.pdf" | "pages.zip";

export const keys = {
  /** Where the presigned POST puts a photo; deleted once checked. */
  upload: (userId: string, uploadId: string) => `uploads/${userId}/${uploadId}`,
  /** The checked photo, re-encoded: out of reach of the upload's POST, which stays usable for minutes. */
  photo: (userId: string, uploadId: string) => `photos/${userId}/${uploadId}`,
  bookFile: (slug: string, relative: string) => `books/${slug}/${relative}`,
  bookManifest: (slug: string) => `books/${slug}/manifest.json`,
  faceCrop: (personalizationId: string, uploadId: string) =>
    `personalizations/${personalizationId}/analysis/${uploadId}/face.png`,
  page: (
    personalizationId: string,
    stage: Stage,
    generation: number,
    page: PageId,
    file: "background.png" | "print.jpg" | "web.jpg",
  ) => `personalizations/${personalizationId}/${stage}/g${generation}/${page}/${file}`,
  printFile: (personalizationId: string, file: PrintFile) => `personalizations/${personalizationId}/files/${file}`,
};
