// The name as a book would print it, shown to the parent before generate: the forms its text uses, the
// gender they were made for (the library's guess until the parent says), and any character it cannot draw.
import { AppError, GENDERED_LANGUAGES, type Manifest } from "@faceapp/core";
import type { ChildGender, Database } from "@faceapp/sql";
import type { Kysely } from "kysely";
import type { Bucket } from "../deps.ts";
import { codePoint, undrawable } from "../glyphs/drawable.ts";
import { declineName, formsUsed, guessGender } from "@faceapp/core";

export async function previewName(
  db: Kysely<Database>,
  bucket: Bucket,
  slug: string,
  name: string,
  gender: ChildGender | undefined,
) {
  const row = await db
    .selectFrom("app.books")
    .select("manifest")
    .where("slug", "=", slug)
    .where("published", "=", true)
    .executeTakeFirst();
  if (!row) throw new AppError("not_found", "Book not found");
  // Validated when imported.
  const manifest = row.manifest as Manifest;
  const needsGender = GENDERED_LANGUAGES.includes(manifest.language);
  const given = gender === "girl" || gender === "boy" ? gender : null;
  const guess = needsGender && !given ? await guessGender(name) : null;
  const all = await declineName(name, manifest.language, given ?? guess);
  const forms = Object.fromEntries(formsUsed(manifest).map((f) => [f, all[f] ?? name]));
  const missing = await undrawable(bucket, manifest, [name, ...Object.values(forms)]);
  return {
    language: manifest.language,
    needsGender,
    gender: given ?? guess,
    guessed: !given && guess !== null,
    forms,
    undrawable: missing.map((c) => ({ character: c, codePoint: codePoint(c) })),
  };
}
