// The fonts every page may fall back to, per glyph, after the book's own: installed from Debian's
// packages by CI and the image (fonts-dejavu-core, fonts-noto-ui-core, fonts-noto-cjk). The typesetter
// lists them in this order after the book's fonts; the api refuses a name with a character that
// neither the book's fonts nor these can draw (their coverage is api/src/glyphs/fallback-coverage.json).

export interface FallbackFont {
  /** The CSS family name fontconfig knows it by. */
  family: string;
  /** Where Debian installs it. */
  file: string;
  /** Inside a collection (.ttc), the PostScript name of the face. */
  postscriptName?: string;
  /** The Debian package that ships it. */
  package: string;
}

const UI = "/usr/share/fonts/truetype/noto";
/** Scripts of fonts-noto-ui-core with a regular face, each `Noto Sans <Script> UI`. */
const UI_SCRIPTS = [
  "Arabic",
  "Bengali",
  "Devanagari",
  "Gujarati",
  "Gurmukhi",
  "Kannada",
  "Khmer",
  "Lao",
  "Malayalam",
  "Myanmar",
  "Oriya",
  "Sinhala",
  "Tamil",
  "Telugu",
  "Thai",
];

export const FALLBACK_FONTS: readonly FallbackFont[] = [
  // Latin with diacritics, Greek, Cyrillic, Hebrew, Armenian, Georgian.
  { family: "DejaVu Sans", file: "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", package: "fonts-dejavu-core" },
  ...UI_SCRIPTS.map((script) => ({
    family: `Noto Sans ${script} UI`,
    file: `${UI}/NotoSans${script}UI-Regular.ttf`,
    package: "fonts-noto-ui-core",
  })),
  // Han, kana and hangul: one collection; the simplified Chinese face is listed, the others share its coverage.
  {
    family: "Noto Sans CJK SC",
    file: "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    postscriptName: "NotoSansCJKsc-Regular",
    package: "fonts-noto-cjk",
  },
];

/** The CJK face a book's language prefers (the glyph shapes of shared Han characters differ by region). */
export function cjkFamily(language: string): string {
  return language === "ja" ? "Noto Sans CJK JP" : language === "ko" ? "Noto Sans CJK KR" : "Noto Sans CJK SC";
}

/** The CSS list of fallback families, after a book's own fonts. */
export function fallbackStack(language: string): string {
  const families = FALLBACK_FONTS.map((f) => (f.postscriptName ? cjkFamily(language) : f.family));
  return `${families.map((f) => `"${f}"`).join(", ")}, sans-serif`;
}
