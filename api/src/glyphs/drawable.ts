// Can this book print this text? A character must be in the character map of one of the book's fonts
// or of the fallback fonts every page has (core's FALLBACK_FONTS; their coverage is committed in
// fallback-coverage.json, checked against the installed files by glyphs.test.ts). The book's fonts
// are read from the store once per book and font list, and their coverage kept.
import { readFileSync } from "node:fs";
import { AppError, keys, type Manifest, memoAsync } from "@faceapp/core";
import type { Bucket } from "../deps.ts";
import { readObject } from "../services/storage.ts";
import { fontCodePoints, inRanges, type Ranges, toRanges } from "./coverage.ts";

const FALLBACK: Ranges = JSON.parse(readFileSync(new URL("./fallback-coverage.json", import.meta.url), "utf8"));
const MAX_FONT_BYTES = 40 * 1024 * 1024;
const coverageOf = memoAsync<Ranges>(32);

/** A book's coverage, read once per bucket, book and font list (a few dozen books kept). */
function bookCoverage(bucket: Bucket, manifest: Manifest): Promise<Ranges> {
  return coverageOf(`${bucket.config.bucket}\n${manifest.slug}\n${JSON.stringify(manifest.typography.fonts)}`, () =>
    readCoverage(bucket, manifest),
  );
}

async function readCoverage(bucket: Bucket, manifest: Manifest): Promise<Ranges> {
  const points: number[] = [];
  for (const font of Object.values(manifest.typography.fonts)) {
    const data = await readObject(bucket, keys.bookFile(manifest.slug, font.file), MAX_FONT_BYTES);
    if (!data) throw new Error(`font ${font.file} of ${manifest.slug} is larger than ${MAX_FONT_BYTES} bytes`);
    points.push(...fontCodePoints(data));
  }
  return toRanges(points);
}

/** The distinct characters of `texts` that no font of the book, nor any fallback font, can draw. */
export async function undrawable(bucket: Bucket, manifest: Manifest, texts: string[]): Promise<string[]> {
  const chars = new Set([...texts.join("")].filter((c) => c !== " "));
  const missing = [...chars].filter((c) => !inRanges(FALLBACK, c.codePointAt(0)!));
  if (missing.length === 0) return [];
  const own = await bookCoverage(bucket, manifest);
  return missing.filter((c) => !inRanges(own, c.codePointAt(0)!));
}

/** `U+E000` */
export const codePoint = (c: string) => `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}`;

/** 400 naming each character the book cannot print, before any page is made. */
export async function assertDrawable(bucket: Bucket, manifest: Manifest, texts: string[]): Promise<void> {
  const missing = await undrawable(bucket, manifest, texts);
  if (missing.length === 0) return;
  const named = missing.map((c) => `"${c}" (${codePoint(c)})`).join(", ");
  throw new AppError(
    "invalid_input",
    `This book cannot print ${missing.length === 1 ? "the character" : "the characters"} ${named} of the name: no font of the book has ${missing.length === 1 ? "it" : "them"}`,
    { field: "childName", characters: missing.map((c) => ({ character: c, codePoint: codePoint(c) })) },
  );
}
