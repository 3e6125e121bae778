// The child's name in its grammatical forms. Templates write `{child_name}` (as written) or
// `{child_name.<form>}`: the Ukrainian cases and the English possessive. A form a book's language
// does not have is the name as written.

/** Forms a template may ask for, besides the name as written. */
export const NAME_FORMS = ["gen", "dat", "acc", "ins", "loc", "voc", "poss"] as const;
export type NameForm = (typeof NAME_FORMS)[number];
export type NameForms = Partial<Record<NameForm, string>>;

/** Forms each language makes; any other language prints the name as written everywhere. */
export const LANGUAGE_FORMS: Record<string, readonly NameForm[]> = {
  uk: ["gen", "dat", "acc", "ins", "loc", "voc"],
  en: ["poss"],
};

/** Languages whose forms depend on the child's gender. */
export const GENDERED_LANGUAGES: readonly string[] = ["uk"];

export const isNameForm = (s: string): s is NameForm => (NAME_FORMS as readonly string[]).includes(s);

/** A template's placeholders: `{name}` or `{name.form}`. */
export const PLACEHOLDER = /\{(\w+)(?:\.(\w+))?\}/g;

/** The forms of the name a template uses (`{child_name.gen}` → gen). */
export function formsInTemplate(template: string): NameForm[] {
  const found = new Set<NameForm>();
  for (const m of template.matchAll(PLACEHOLDER))
    if (m[1] === "child_name" && m[2] && isNameForm(m[2])) found.add(m[2]);
  return [...found];
}
