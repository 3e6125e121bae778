// A book's fonts as @font-face rules with data: URLs, so Chromium never needs to fetch anything.

import { fallbackStack, type Manifest, memoAsync } from "@faceapp/core";

/** Reads a file of the book folder (e.g. `fonts/rubik-latin-400-normal.woff2`) from wherever books are kept. */
export type ReadBookFile = (relative: string) => Promise<Buffer>;

const FORMATS: Record<string, [mime: string, format: string]> = {
  woff2: ["font/woff2", "woff2"],
  woff: ["font/woff", "woff"],
  ttf: ["font/ttf", "truetype"],
  otf: ["font/otf", "opentype"],
};

/** The CSS family name of a font key; keys are `[a-z0-9_-]+` (manifest schema), so this needs no escaping. */
export const cssFamily = (key: string) => `f-${key}`;

/**
 * The font-family list of a layer using font `key`: the key itself, then every other key of the same
 * family and weight. Fontsource ships a family as one file per script subset (latin, cyrillic, …), so a
 * book declares one key per subset file with the same `family`; Chromium picks per character. After
 * them come the installed fallback fonts (core's FALLBACK_FONTS), so a character the book's fonts lack
 * is still drawn by a font that has it: a name in any script the api accepted prints.
 */
export function fontStack(manifest: Manifest, key: string): string {
  const fonts = manifest.typography.fonts;
  const chosen = fonts[key];
  if (!chosen) throw new Error(`font ${key} is not declared in ${manifest.slug}`);
  const siblings = Object.entries(fonts)
    .filter(([k, f]) => k !== key && f.family === chosen.family && f.weight === chosen.weight)
    .map(([k]) => k);
  return `${[key, ...siblings].map((k) => `"${cssFamily(k)}"`).join(", ")}, ${fallbackStack(manifest.language)}`;
}

const cached = memoAsync<string>(16);

/** The @font-face rules of a book's fonts, read once per book and font list and kept (a few books at most). */
export function fontFaceCss(manifest: Manifest, read: ReadBookFile): Promise<string> {
  return cached(`${manifest.slug}\n${JSON.stringify(manifest.typography.fonts)}`, () => buildCss(manifest, read));
}

async function buildCss(manifest: Manifest, read: ReadBookFile): Promise<string> {
  const rules = await Promise.all(
    Object.entries(manifest.typography.fonts).map(async ([key, font]) => {
      const ext = font.file.split(".").pop()!.toLowerCase();
      const format = FORMATS[ext];
      if (!format) throw new Error(`font ${font.file}: unsupported format (woff2, woff, ttf, otf)`);
      const data = (await read(font.file)).toString("base64");
      return `@font-face{font-family:"${cssFamily(key)}";src:url(data:${format[0]};base64,${data}) format("${format[1]}");font-weight:${font.weight};font-style:normal;font-display:block}`;
    }),
  );
  return rules.join("\n");
}
