// The child's name in its grammatical forms. Templates write `{child_name}` (as written) or
// `{child_name.<form>}`: the Ukrainian cases (made by `shevchenko`, which declines first names by
// grammatical gender and guesses the gender from the name) and the English possessive. A form a
// book's language does not have is the name as written.

import type { Manifest } from "./manifest.ts";

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

type Shevchenko = typeof import("shevchenko");
// Loaded on first use: it brings TensorFlow.js (its gender guess), which only naming a child needs.
let shevchenko: Promise<Shevchenko> | undefined;
const library = () => (shevchenko ??= import("shevchenko"));

const CASES: Record<string, keyof Shevchenko> = {
  gen: "inGenitive",
  dat: "inDative",
  acc: "inAccusative",
  ins: "inAblative",
  loc: "inLocative",
  voc: "inVocative",
};

/** The library's guess of a child's gender from a Ukrainian first name; null when it cannot tell. */
export async function guessGender(name: string): Promise<"girl" | "boy" | null> {
  const lib = await library();
  // A double name's first word says it ("Анна-Марія" → Анна).
  const gender = await lib.detectGender({ givenName: name.split(/[ -]/)[0]! });
  return gender === lib.GrammaticalGender.FEMININE ? "girl" : gender === lib.GrammaticalGender.MASCULINE ? "boy" : null;
}

/** Every form `language` has of `name` (none for a language without forms). */
export async function declineName(name: string, language: string, gender: "girl" | "boy" | null): Promise<NameForms> {
  const forms: NameForms = {};
  const wanted = LANGUAGE_FORMS[language] ?? [];
  if (wanted.includes("poss")) forms.poss = `${name}’s`;
  if (language === "uk" && gender) {
    const lib = await library();
    const grammatical = gender === "girl" ? lib.GrammaticalGender.FEMININE : lib.GrammaticalGender.MASCULINE;
    // Each word of a double name declines on its own ("Анна-Марія" → "Анни-Марії").
    for (const form of wanted) {
      const fn = lib[CASES[form]!] as (a: { gender: string; givenName: string }) => Promise<{ givenName?: string }>;
      const words = await Promise.all(
        name
          .split(/([ -])/)
          .map(async (part) =>
            part === " " || part === "-" || part === ""
              ? part
              : ((await fn({ gender: grammatical, givenName: part })).givenName ?? part),
          ),
      );
      forms[form] = words.join("");
    }
  }
  return forms;
}

/** The forms the book's templates use, and those the app's own sentences use ("для {gen}" in Ukrainian). */
export function formsUsed(manifest: Manifest): NameForm[] {
  const used = new Set<NameForm>(manifest.language === "uk" ? ["gen"] : []);
  for (const art of [...manifest.pages, manifest.covers.front, manifest.covers.back])
    for (const layer of art.text_layers) for (const form of formsInTemplate(layer.template)) used.add(form);
  const order = LANGUAGE_FORMS[manifest.language] ?? [];
  return order.filter((f) => used.has(f));
}
