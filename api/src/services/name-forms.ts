// The child's name as a book will print it: declined (core's names.ts), with the parent's corrections
// on top; resolved once, when the parent names the child, and stored with the personalisation.
import {
  AppError,
  declineName,
  GENDERED_LANGUAGES,
  guessGender,
  LANGUAGE_FORMS,
  type Manifest,
  type NameForm,
  type NameForms,
} from "@faceapp/core";
import type { ChildGender } from "@faceapp/sql";

export interface ResolvedName {
  /** The gender to store: the parent's, else the library's guess where the language needs one. */
  gender: ChildGender | null;
  /** The language's forms: declined, then the parent's corrections on top. */
  forms: NameForms;
  overrides: NameForms;
}

/** The name as the book will print it; 400 when the language needs a gender nobody can tell. */
export async function resolveName(
  manifest: Manifest,
  input: { childName: string; childGender?: ChildGender | undefined; childNameForms?: NameForms | undefined },
): Promise<ResolvedName> {
  const overrides = input.childNameForms ?? {};
  const allowed = LANGUAGE_FORMS[manifest.language] ?? [];
  const foreign = Object.keys(overrides).filter((f) => !allowed.includes(f as NameForm));
  if (foreign.length > 0)
    throw new AppError(
      "invalid_input",
      `A book in "${manifest.language}" has no form ${foreign.join(", ")} of the name`,
      {
        field: "childNameForms",
        forms: foreign,
      },
    );
  let gender: ChildGender | null = input.childGender ?? null;
  let declineAs: "girl" | "boy" | null = gender === "girl" || gender === "boy" ? gender : null;
  if (GENDERED_LANGUAGES.includes(manifest.language) && !declineAs) {
    declineAs = await guessGender(input.childName);
    const missing = allowed.filter((f) => !overrides[f]);
    if (!declineAs && missing.length > 0)
      throw new AppError(
        "invalid_input",
        "Say whether the child is a girl or a boy: the book's language changes the name's endings by it",
        { field: "childGender" },
      );
    gender ??= declineAs;
  }
  const forms = { ...(await declineName(input.childName, manifest.language, declineAs)), ...overrides };
  return { gender, forms, overrides };
}
