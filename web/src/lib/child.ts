// The child form's checks, the same rules as the api's ChildName schema.

const NAME = /^(?=.*\p{L})[\p{L}\p{M} '’-]+$/u;

export function normalizeName(raw: string): string {
  return raw.normalize("NFC").trim().replace(/\s+/gu, " ");
}

export function validName(raw: string): boolean {
  const name = normalizeName(raw);
  return name.length >= 1 && name.length <= 40 && NAME.test(name);
}

/** The age field: empty is fine (undefined), else a whole number 0–18; NaN when invalid. */
export function parseAge(raw: string): number | undefined {
  if (raw.trim() === "") return undefined;
  const n = Number(raw);
  return Number.isInteger(n) && n >= 0 && n <= 18 ? n : Number.NaN;
}

/**
 * The name as the app's own sentences need it: Ukrainian says "для Соломії" (the genitive the book's
 * forms hold, when the book is Ukrainian); other languages use the name as written.
 */
export function nameAfterFor(lang: string, name: string, forms: Record<string, string> | undefined): string {
  return lang === "uk" ? (forms?.gen ?? name) : name;
}

/** The gender question is asked only when the analysis was not sure. */
export function needsGender(analysis: { description?: { gender?: string | null } } | null): boolean {
  return !analysis?.description?.gender;
}
