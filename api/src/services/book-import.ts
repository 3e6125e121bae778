// Importing a book folder: the manifest is validated here, once, so requests never meet a bad one.
import fs from "node:fs/promises";
import path from "node:path";
import { AppError, keys, Manifest, maskUri } from "@faceapp/core";
import type { Database } from "@faceapp/sql";
import type { Kysely } from "kysely";
import * as v from "valibot";
import type { Bucket } from "../deps.ts";
import { upsertBook } from "./books.ts";
import type { CatalogCache } from "./catalog-cache.ts";
import { putObject } from "./storage.ts";

const contentTypes: Record<string, string> = {
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".webp": "image/webp",
  ".ttf": "font/ttf",
  ".otf": "font/otf",
  ".woff": "font/woff",
  ".woff2": "font/woff2",
  ".svg": "image/svg+xml",
};

/** Every file a manifest refers to, relative to the book folder. */
export function referencedFiles(manifest: Manifest): string[] {
  const files = new Set<string>();
  for (const font of Object.values(manifest.typography.fonts)) files.add(font.file);
  for (const art of [...manifest.pages, manifest.covers.front, manifest.covers.back]) {
    files.add(art.base_uri);
    if (art.mask_uri || art.needs_face_swap) files.add(maskUri(art));
  }
  for (const cover of [manifest.covers.front, manifest.covers.back]) if (cover.logo_uri) files.add(cover.logo_uri);
  return [...files].sort();
}

/** Reads and validates `<folder>/manifest.json`; `invalid_input` lists every problem readably. */
export async function readManifest(folder: string): Promise<Manifest> {
  let raw: unknown;
  try {
    raw = JSON.parse(await fs.readFile(path.join(folder, "manifest.json"), "utf8"));
  } catch (error) {
    throw new AppError(
      "invalid_input",
      `Cannot read ${path.join(folder, "manifest.json")}: ${(error as Error).message}`,
    );
  }
  const result = v.safeParse(Manifest, raw, { abortEarly: false });
  if (!result.success) {
    const problems = result.issues.map((issue) => `${v.getDotPath(issue) ?? "manifest"}: ${issue.message}`);
    throw new AppError("invalid_input", `The manifest is not valid:\n  - ${problems.join("\n  - ")}`, { problems });
  }
  return result.output;
}

/** Validates a book folder, uploads its art and manifest, and publishes it; returns the manifest. */
export async function importBook(
  db: Kysely<Database>,
  bucket: Bucket,
  cache: CatalogCache,
  folder: string,
): Promise<{ manifest: Manifest; files: string[] }> {
  const manifest = await readManifest(folder);
  const files = referencedFiles(manifest);
  const missing: string[] = [];
  for (const file of files) {
    const stat = await fs.stat(path.join(folder, file)).catch(() => null);
    if (!stat?.isFile()) missing.push(file);
  }
  if (missing.length > 0)
    throw new AppError("invalid_input", `Files the manifest names are missing:\n  - ${missing.join("\n  - ")}`, {
      missing,
    });
  for (const file of files) {
    const type = contentTypes[path.extname(file).toLowerCase()] ?? "application/octet-stream";
    await putObject(bucket, keys.bookFile(manifest.slug, file), await fs.readFile(path.join(folder, file)), type);
  }
  // The manifest last: a book is never visible with art still missing.
  await putObject(bucket, keys.bookManifest(manifest.slug), Buffer.from(JSON.stringify(manifest)), "application/json");
  await upsertBook(db, manifest);
  await cache.invalidate();
  return { manifest, files };
}
