// A name in any script the api accepts prints with real glyphs: the typesetter's font stack falls back
// per character to the installed fallback fonts, and DevTools says which fonts drew each layer; every
// character must be in the character map of a font that drew it, or it was drawn as the missing-glyph box.

import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import * as fontkit from "fontkit";
import { afterAll, describe, expect, it } from "vitest";
import { layer, readBookFile, testManifest } from "./fixtures.ts";
import { fontFaceCss, type PlatformFont, pageArt, pageDocument, Typesetter } from "./imports.ts";

const NAMES: Record<string, string> = {
  cyrillic: "Соломія Ґалаґан",
  "latin with diacritics": "Zoë Łucja Ñúñez-Øvergård",
  greek: "Αλέξανδρος",
  arabic: "ليلى",
  hebrew: "נועה",
  devanagari: "अनन्या",
  thai: "สมชาย",
  chinese: "王小明",
  japanese: "さくら 陽菜",
  korean: "김서연",
};

const manifest = testManifest({ page_1: [layer({ template: "{child_name}" })] });
const art = pageArt(manifest, "page_1");
const typesetter = new Typesetter();
afterAll(() => typesetter.close());

/**
 * Every character of the book's fonts, by PostScript name (custom fonts report the name inside their
 * file; a family's subset files share one, so their characters are pooled).
 */
const bookFonts = new Map<string, Set<number>>();
for (const font of Object.values(manifest.typography.fonts)) {
  const opened = fontkit.create(await readBookFile(font.file)) as fontkit.Font;
  const set = bookFonts.get(opened.postscriptName) ?? new Set();
  for (const c of opened.characterSet) set.add(c);
  bookFonts.set(opened.postscriptName, set);
}

/** The characters of an installed font, found by fontconfig from the PostScript name DevTools gives. */
function characters(font: PlatformFont): Set<number> {
  if (font.isCustomFont) return bookFonts.get(font.postScriptName) ?? new Set();
  const file = execFileSync("fc-list", [`:postscriptname=${font.postScriptName}`, "file"], { encoding: "utf8" })
    .split("\n")[0]!
    .replace(/:\s*$/, "");
  const opened = fontkit.create(readFileSync(file), file.endsWith(".ttc") ? font.postScriptName : undefined);
  return new Set(("fonts" in opened ? opened.fonts[0]! : opened).characterSet);
}

/** The characters of `name` that no font which drew it has: each was drawn as a missing-glyph box. */
async function tofu(name: string): Promise<string[]> {
  const doc = pageDocument(manifest, "page_1", art, { child_name: name }, await fontFaceCss(manifest, readBookFile));
  const [used] = await typesetter.fontsUsed(doc);
  const drawn = used!.filter((f) => f.glyphCount > 0).map(characters);
  return [...name].filter((c) => c.trim() && !drawn.some((set) => set.has(c.codePointAt(0)!)));
}

describe("a name in any script", () => {
  for (const [script, name] of Object.entries(NAMES)) {
    it(`prints ${script} with real glyphs (${name})`, async () => {
      expect(await tofu(name)).toEqual([]);
    });
  }

  it("is caught when a character has no glyph anywhere (the check can fail)", async () => {
    // A private-use code point and an unassigned one: no font installed draws them.
    expect(await tofu("Ada\u{e000}\u{0378}")).toEqual(["\u{e000}", "\u{0378}"]);
  });
});
