import * as v from "valibot";
import { keepOutViolations } from "./layout.ts";
import { isNameForm, type NameForms, PLACEHOLDER } from "./names.ts";

// A catalog book's manifest (docs/book-format.md): validated when a book is imported, never at request time.

/** Variables a text layer may use, substituted as text (never markup) when a page is rendered. */
export const TemplateVariable = v.picklist(["child_name", "child_age"]);
export type TemplateVariable = v.InferOutput<typeof TemplateVariable>;

const RelativePath = v.pipe(
  v.string(),
  v.regex(/^(?!\/)(?!.*\.\.)[A-Za-z0-9._/-]+$/, "must be a relative path inside the book folder"),
  v.maxLength(200),
);
const Colour = v.pipe(v.string(), v.regex(/^#[0-9a-fA-F]{6}([0-9a-fA-F]{2})?$/, "must be a #rrggbb colour"));
/** An opaque colour the face is drawn in: no alpha. */
const Opaque = v.pipe(v.string(), v.regex(/^#[0-9a-fA-F]{6}$/, "must be an opaque #rrggbb colour"));

/**
 * The colours the face of a page is drawn in by the composite engine (its palette's middle tone, its
 * shadow tone, its ink line); each read from the illustration under the mask when not named.
 */
export const FaceColours = v.strictObject({
  skin: Opaque,
  shadow: v.optional(Opaque),
  line: v.optional(Opaque),
});
export type FaceColours = v.InferOutput<typeof FaceColours>;

export const TextPosition = v.picklist([
  "top-left",
  "top-center",
  "top-right",
  "middle-left",
  "center",
  "middle-right",
  "bottom-left",
  "bottom-center",
  "bottom-right",
]);

export const TextLayer = v.pipe(
  v.strictObject({
    /** e.g. "{child_name} у Дивокраї", "для {child_name.gen}" (names.ts); `\n` breaks lines. */
    template: v.pipe(v.string(), v.minLength(1), v.maxLength(2000)),
    variables: v.optional(v.array(TemplateVariable), []),
    position: TextPosition,
    /** Width of the text box as a share of the page width. */
    box_width: v.pipe(v.number(), v.minValue(0.1), v.maxValue(1)),
    /** The most height the text may take, as a share of the page height (it shrinks to fit); the safe area's when absent. */
    box_height: v.optional(v.pipe(v.number(), v.minValue(0.03), v.maxValue(1))),
    align: v.optional(v.picklist(["left", "center", "right"]), "center"),
    /** Offsets from the anchored position, in points. */
    offset_x: v.optional(v.number(), 0),
    offset_y: v.optional(v.number(), 0),
    /** A key of `typography.fonts`; the body font when absent. */
    font: v.optional(v.string()),
    size: v.optional(
      v.union([v.picklist(["body", "accent"]), v.pipe(v.number(), v.minValue(4), v.maxValue(400))]),
      "body",
    ),
    color: v.optional(Colour),
    text_shadow: v.optional(
      v.pipe(v.string(), v.maxLength(100), v.regex(/^[-#0-9a-zA-Z.,() %]*$/, "must be a plain CSS shadow")),
    ),
  }),
  v.check(
    (layer) =>
      [...layer.template.matchAll(PLACEHOLDER)].every((m) => layer.variables.includes(m[1] as TemplateVariable)),
    "a template uses a variable its layer does not declare",
  ),
  v.check(
    (layer) =>
      [...layer.template.matchAll(PLACEHOLDER)].every((m) => !m[2] || (m[1] === "child_name" && isNameForm(m[2]))),
    "a template asks for a form that does not exist (child_name.gen, .dat, .acc, .ins, .loc, .voc or .poss)",
  ),
);
export type TextLayer = v.InferOutput<typeof TextLayer>;

const Share = v.pipe(v.number(), v.minValue(0), v.maxValue(1));
/** Art no text may cover (a face, a key object), as shares of the page's print size. */
export const KeepOut = v.strictObject({
  label: v.pipe(v.string(), v.minLength(1), v.maxLength(60)),
  left: Share,
  top: Share,
  width: Share,
  height: Share,
});

const Art = {
  /** The illustration, relative to the book folder. */
  base_uri: RelativePath,
  needs_face_swap: v.optional(v.boolean(), false),
  /** The face region (white) of the illustration; `<name>_mask.png` beside it when absent. */
  mask_uri: v.optional(RelativePath),
  text_layers: v.optional(v.array(TextLayer), []),
  keep_out: v.optional(v.array(KeepOut), []),
  prompt: v.optional(v.pipe(v.string(), v.maxLength(2000))),
  face_colours: v.optional(FaceColours),
  negative_prompt: v.optional(v.pipe(v.string(), v.maxLength(2000))),
};

export const Page = v.strictObject({
  page_num: v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(23)),
  ...Art,
  /** prepay: part of the free preview; postpay: only in the full book. */
  availability: v.picklist(["prepay", "postpay"]),
});
export type Page = v.InferOutput<typeof Page>;

const Crop = v.strictObject({
  left: v.pipe(v.number(), v.integer(), v.minValue(0)),
  top: v.pipe(v.number(), v.integer(), v.minValue(0)),
  width: v.pipe(v.number(), v.integer(), v.minValue(1)),
  height: v.pipe(v.number(), v.integer(), v.minValue(1)),
});

export const Cover = v.strictObject({
  ...Art,
  logo_uri: v.optional(RelativePath),
  /** The crop shown on the web (2551×2551 at (25, 210) of the front, (210, 210) of the back). */
  web_crop: Crop,
});
export type Cover = v.InferOutput<typeof Cover>;

export const Font = v.strictObject({
  file: RelativePath,
  family: v.pipe(v.string(), v.regex(/^[A-Za-z0-9 -]+$/)),
  weight: v.optional(v.number(), 400),
});

export const Manifest = v.pipe(
  v.strictObject({
    slug: v.pipe(
      v.string(),
      v.regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, "must be lower-case words joined by hyphens"),
      v.maxLength(80),
    ),
    title: v.pipe(v.string(), v.minLength(1), v.maxLength(200)),
    description: v.optional(v.pipe(v.string(), v.maxLength(4000)), ""),
    language: v.pipe(v.string(), v.regex(/^[a-z]{2}$/)),
    category: v.pipe(v.string(), v.minLength(1), v.maxLength(60)),
    age_min: v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(18)),
    age_max: v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(18)),
    typography: v.strictObject({
      fonts: v.record(v.pipe(v.string(), v.regex(/^[a-z0-9_-]+$/)), Font),
      body_font: v.string(),
      accent_font: v.string(),
      body_size_pt: v.pipe(v.number(), v.minValue(4), v.maxValue(200)),
      accent_size_pt: v.pipe(v.number(), v.minValue(4), v.maxValue(400)),
      line_height: v.pipe(v.number(), v.minValue(0.8), v.maxValue(3)),
      color: Colour,
      text_shadow: v.optional(v.pipe(v.string(), v.maxLength(100), v.regex(/^[-#0-9a-zA-Z.,() %]*$/))),
    }),
    pages: v.pipe(v.array(Page), v.length(24, "a book has exactly 24 block pages")),
    covers: v.strictObject({ front: Cover, back: Cover }),
    output: v.strictObject({
      dpi: v.literal(300),
      page_size_px: v.literal(2551),
      cover_size_px: v.strictObject({ width: v.literal(2800), height: v.literal(3000) }),
      safe_zone_pt: v.pipe(v.number(), v.minValue(0), v.maxValue(200)),
    }),
  }),
  v.check((m) => m.age_min <= m.age_max, "age_min must not exceed age_max"),
  v.check((m) => m.pages.every((p, i) => p.page_num === i), "pages must be numbered 0 to 23 in order"),
  v.check(
    (m) => m.typography.body_font in m.typography.fonts && m.typography.accent_font in m.typography.fonts,
    "body_font and accent_font must name fonts of typography.fonts",
  ),
  v.check(
    (m) =>
      [...m.pages, m.covers.front, m.covers.back].every((p) =>
        p.text_layers.every((l) => !l.font || l.font in m.typography.fonts),
      ),
    "a text layer names a font that typography.fonts does not declare",
  ),
  v.check((m) => m.pages.some((p) => p.availability === "prepay"), "at least one page must be in the preview"),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    for (const problem of keepOutViolations(dataset.value))
      addIssue({ message: `a text box covers key art: ${problem}` });
  }),
);
export type Manifest = v.InferOutput<typeof Manifest>;

/** Page ids as stored in personalization_pages: `page_0` … `page_23`, `cover_front`, `cover_back`. */
export type PageId = `page_${number}` | "cover_front" | "cover_back";

/** The art of one page id in a manifest. */
export function pageArt(manifest: Manifest, page: PageId): Page | Cover {
  if (page === "cover_front") return manifest.covers.front;
  if (page === "cover_back") return manifest.covers.back;
  const art = manifest.pages[Number(page.slice(5))];
  if (!art) throw new Error(`no page ${page} in ${manifest.slug}`);
  return art;
}

/** The values a page's text may use; anything a parent typed is only ever inserted as text. */
export interface TextVariables {
  child_name: string;
  /** The name's grammatical forms (`{child_name.gen}` …), resolved when the parent named the child. */
  child_name_forms?: NameForms | undefined;
  child_age?: number | string | undefined;
}

/** A layer's template with its declared variables filled in (others left as written). */
export function fillTemplate(layer: TextLayer, variables: TextVariables): string {
  return layer.template.replace(PLACEHOLDER, (whole, name: string, form: string | undefined) => {
    if (!layer.variables.includes(name as never)) return whole;
    // A form the name was not given in (a language without it) is the name as written.
    if (form)
      return name === "child_name" && isNameForm(form)
        ? (variables.child_name_forms?.[form] ?? variables.child_name)
        : whole;
    const value = variables[name as "child_name" | "child_age"];
    return value === undefined ? "" : String(value);
  });
}

/**
 * The words printed on a page, in the book's language, as one text (layers on separate lines): what
 * a screen reader reads for the page's picture, and the story file beside the pictures.
 */
export function pageText(manifest: Manifest, page: PageId, variables: TextVariables): string {
  return pageArt(manifest, page)
    .text_layers.map((layer) => fillTemplate(layer, variables).normalize("NFC").trim())
    .filter(Boolean)
    .join("\n");
}

/** The mask of a face page: `mask_uri`, else `<name>_mask.png` beside the illustration. */
export function maskUri(art: Page | Cover): string {
  return art.mask_uri ?? art.base_uri.replace(/\.[a-z0-9]+$/i, "_mask.png");
}

/** The pages a stage produces: the preview is the prepay pages plus the front cover; full is the rest. */
export function stagePages(manifest: Manifest, stage: "preview" | "full"): PageId[] {
  const prepay = manifest.pages.filter((p) => p.availability === "prepay").map((p) => `page_${p.page_num}` as PageId);
  if (stage === "preview") return ["cover_front", ...prepay];
  const rest = manifest.pages.filter((p) => p.availability === "postpay").map((p) => `page_${p.page_num}` as PageId);
  return [...rest, "cover_back"];
}
