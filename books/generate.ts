// `npm run books:generate`: writes the demo books into books/<slug>/ — manifest.json (committed),
// art/ (vector scenes rendered to PNG by sharp, with face masks) and fonts/ (copied from the
// @fontsource packages with their OFL licence). Art and fonts are git-ignored: this script makes them.
// Each scene says where its key art is (the child, the whale, the house …): the manifest declares
// those keep-out areas, and each text box goes to the first place beside them.

import { copyFile, mkdir, readFile, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import {
  intersects,
  keepOutRect,
  layerRect,
  Manifest,
  type Page,
  type PageId,
  pageArt,
  type TextLayer,
} from "@faceapp/core";
import sharp from "sharp";
import * as v from "valibot";
import { FACE_COLOURS, type Face, type KeepOut, maskSvg, type SceneSpec, scene } from "./scenes.ts";
import { BACK_SCENE, EN, type Edition, PAGE_SCENES, UK } from "./stories.ts";

const require = createRequire(import.meta.url);
export const booksDir = path.dirname(fileURLToPath(import.meta.url));
export const EDITIONS = [UK, EN];

const PAGE = 2551;
const COVER = { width: 2800, height: 3000 };
const SUBSETS = ["latin", "latin-ext", "cyrillic", "cyrillic-ext"] as const;
const FONTS = [
  { pkg: "rubik", family: "Rubik", key: "rubik" },
  { pkg: "rubik-bubbles", family: "Rubik Bubbles", key: "bubbles" },
] as const;

interface ArtFile {
  name: string;
  spec: SceneSpec;
  width: number;
  height: number;
}

/** The block pages' art, shared by the editions. */
const pageArtFiles: ArtFile[] = PAGE_SCENES.map((spec, i) => ({
  name: `page_${String(i).padStart(2, "0")}`,
  spec,
  width: PAGE,
  height: PAGE,
}));
/** Each edition's covers. */
const coverArtFiles = (edition: Edition): ArtFile[] => [
  { name: "cover_front", spec: edition.frontScene, ...COVER },
  { name: "cover_back", spec: BACK_SCENE, ...COVER },
];

/** What rendering a scene found: the face slot and the key art (as shares of the picture). */
export interface Drawn {
  face: Face | null;
  keepOut: KeepOut[];
}

/** How the demo art is written: zlib level 6, no filtering (flat colours compress best unfiltered). */
export const ART_PNG = { compressionLevel: 6, adaptiveFiltering: false } as const;

/**
 * The face mask of a scene as a one-channel grey PNG: the SVG's alpha is flattened away (a mask has
 * no use for it), and a grey PNG decodes in half the time of a grey-and-alpha one at print size.
 */
export function maskPng(width: number, height: number, face: Face): Promise<Buffer> {
  return sharp(Buffer.from(maskSvg(width, height, face)))
    .flatten({ background: "#000000" })
    .greyscale()
    .toColourspace("b-w")
    .png(ART_PNG)
    .toBuffer();
}

/** Renders scenes (and the masks of scenes with a child) into `dir`; returns what each drew. */
async function renderArt(dir: string, art: ArtFile[]): Promise<Map<string, Drawn>> {
  await mkdir(dir, { recursive: true });
  const drawn = new Map<string, Drawn>();
  // Two at a time: one per core; more only thrashes memory.
  let next = 0;
  const one = async (a: ArtFile) => {
    const { svg, face, keepOut } = scene(a.width, a.height, a.spec);
    const share = (k: KeepOut): KeepOut => ({
      label: k.label,
      left: round(Math.max(0, k.left / a.width)),
      top: round(Math.max(0, k.top / a.height)),
      width: round(Math.min(1, k.width / a.width)),
      height: round(Math.min(1, k.height / a.height)),
    });
    drawn.set(a.name, { face, keepOut: keepOut.map(share) });
    await sharp(Buffer.from(svg))
      .png(ART_PNG)
      .toFile(path.join(dir, `${a.name}.png`));
    if (face) await writeFile(path.join(dir, `${a.name}_mask.png`), await maskPng(a.width, a.height, face));
  };
  await Promise.all(
    [0, 1].map(async () => {
      while (next < art.length) await one(art[next++]!);
    }),
  );
  return drawn;
}

const round = (x: number) => Math.round(x * 1000) / 1000;

/** Copies the fonts and their licence from the npm packages; returns the manifest's `fonts`. */
async function copyFonts(dir: string): Promise<Record<string, { file: string; family: string; weight: number }>> {
  await mkdir(dir, { recursive: true });
  const fonts: Record<string, { file: string; family: string; weight: number }> = {};
  for (const f of FONTS) {
    const root = path.dirname(require.resolve(`@fontsource/${f.pkg}/package.json`));
    await copyFile(path.join(root, "LICENSE"), path.join(dir, `${f.pkg}-LICENSE.txt`));
    for (const subset of SUBSETS) {
      const file = `${f.pkg}-${subset}-400-normal.woff2`;
      await copyFile(path.join(root, "files", file), path.join(dir, file));
      fonts[`${f.key}_${subset.replace("-", "_")}`] = { file: `fonts/${file}`, family: f.family, weight: 400 };
    }
  }
  return fonts;
}

/** Where a page's text may go, in order of preference: the first beside every keep-out area wins. */
const STORY_PLACES: Partial<TextLayer>[] = [
  { position: "top-center", box_width: 0.84, box_height: 0.24 },
  { position: "top-left", box_width: 0.56, box_height: 0.3, align: "left" },
  { position: "top-right", box_width: 0.56, box_height: 0.3, align: "right" },
  { position: "bottom-center", box_width: 0.84, box_height: 0.2 },
  { position: "bottom-left", box_width: 0.56, box_height: 0.2, align: "left" },
  { position: "bottom-right", box_width: 0.56, box_height: 0.2, align: "right" },
];
/** The dedication and "The End": centred when the art leaves room, else where the story text goes. */
const CENTRE_PLACES: Partial<TextLayer>[] = [
  { position: "center", box_width: 0.7, box_height: 0.3, size: 30 },
  ...STORY_PLACES.map((p) => ({ ...p, size: 30 })),
];

/** The layer at the first place where its whole box stays off the page's keep-out areas. */
function place(manifest: Manifest, id: PageId, layer: TextLayer, places: Partial<TextLayer>[]): TextLayer {
  const art = pageArt(manifest, id);
  for (const p of places) {
    const candidate = { ...layer, ...p };
    const rect = layerRect(manifest, id, art, candidate);
    if (art.keep_out.every((k) => !intersects(rect, keepOutRect(manifest, id, k)))) return candidate;
  }
  throw new Error(`${manifest.slug} ${id}: no place for the text beside the key art`);
}

const DAY = { color: undefined, text_shadow: undefined };
const NIGHT = { color: "#fff8e7", text_shadow: "0 0 18px #0b1640, 0 0 6px #0b1640" };
const lit = (spec: SceneSpec) => (spec.time === "night" || spec.time === "evening" ? NIGHT : DAY);

function textLayer(template: string, over: Partial<TextLayer>): TextLayer {
  const layer: TextLayer = {
    template,
    variables: /\{child_name(\.\w+)?\}/.test(template) ? ["child_name"] : [],
    position: "top-center",
    box_width: 0.84,
    align: "center",
    offset_x: 0,
    offset_y: 0,
    size: "body",
    ...over,
  };
  for (const k of Object.keys(layer) as (keyof TextLayer)[]) if (layer[k] === undefined) delete layer[k];
  return layer;
}

/** The manifest of an edition: 24 pages, both covers, the face pages marked, text beside the key art. */
export function manifestOf(edition: Edition, drawn: Map<string, Drawn>, fonts: Manifest["typography"]["fonts"]) {
  const body = edition.language === "uk" ? "rubik_cyrillic" : "rubik_latin";
  const accent = edition.language === "uk" ? "bubbles_cyrillic" : "bubbles_latin";
  const prompt = (spec: SceneSpec) =>
    `children's book illustration, flat vector style, a happy child, ${spec.time}, ${spec.ground}`;
  const artOf = (name: string, spec: SceneSpec) => ({
    base_uri: `art/${name}.png`,
    needs_face_swap: drawn.get(name)?.face != null,
    keep_out: drawn.get(name)?.keepOut ?? [],
    ...(drawn.get(name)?.face
      ? {
          prompt: prompt(spec),
          negative_prompt: "photo, realistic, text, watermark, extra fingers",
          face_colours: { ...FACE_COLOURS },
        }
      : {}),
  });
  const manifest = {
    slug: edition.slug,
    title: edition.title,
    description: edition.description,
    language: edition.language,
    category: edition.category,
    age_min: 3,
    age_max: 7,
    typography: {
      fonts,
      body_font: body,
      accent_font: accent,
      body_size_pt: 28,
      accent_size_pt: 64,
      line_height: 1.3,
      color: "#2b2140",
      text_shadow: "0 0 16px #ffffff, 0 0 4px #ffffff",
    },
    pages: PAGE_SCENES.map((spec, i) => ({
      page_num: i,
      ...artOf(`page_${String(i).padStart(2, "0")}`, spec),
      // The preview: the front cover and the first two spreads.
      availability: i >= 1 && i <= 4 ? "prepay" : "postpay",
      text_layers: [] as TextLayer[],
    })),
    covers: {
      front: {
        ...artOf("cover_front", edition.frontScene),
        web_crop: { left: 25, top: 210, width: PAGE, height: PAGE },
        text_layers: [] as TextLayer[],
      },
      back: {
        ...artOf("cover_back", BACK_SCENE),
        web_crop: { left: 210, top: 210, width: PAGE, height: PAGE },
        text_layers: [] as TextLayer[],
      },
    },
    output: { dpi: 300, page_size_px: PAGE, cover_size_px: COVER, safe_zone_pt: 24 },
  };
  // Text goes in once the art and its keep-out areas are in place.
  const draft = manifest as unknown as Manifest;
  PAGE_SCENES.forEach((spec, i) => {
    const places = i === 0 || i === 23 ? CENTRE_PLACES : STORY_PLACES;
    (manifest.pages[i] as Page).text_layers = [
      place(draft, `page_${i}`, textLayer(edition.pages[i]!, lit(spec)), places),
    ];
  });
  manifest.covers.front.text_layers = [
    place(
      draft,
      "cover_front",
      textLayer(`${edition.front.name}\n${edition.front.title}`, { font: accent, size: "accent" }),
      [{ position: "top-center", box_width: 0.9, box_height: 0.3 }],
    ),
  ];
  manifest.covers.back.text_layers = [
    place(draft, "cover_back", textLayer(edition.back, { ...NIGHT, size: 26 }), [
      { position: "center", box_width: 0.75, box_height: 0.4 },
    ]),
  ];
  // The schema is the judge: a generator that writes an invalid book fails here, not at import.
  return v.parse(Manifest, manifest);
}

/** Generates every edition under `root` (books/ by default). Page art is rendered once and copied; covers per edition. */
export async function generateBooks(root = booksDir, editions = EDITIONS): Promise<string[]> {
  const [first] = editions;
  if (!first) return [];
  const firstDir = path.join(root, first.slug);
  const pages = await renderArt(path.join(firstDir, "art"), pageArtFiles);
  const written: string[] = [];
  for (const edition of editions) {
    const dir = path.join(root, edition.slug);
    if (edition !== first) {
      await mkdir(path.join(dir, "art"), { recursive: true });
      for (const a of pageArtFiles) {
        for (const suffix of pages.get(a.name)?.face ? [".png", "_mask.png"] : [".png"]) {
          await copyFile(path.join(firstDir, "art", a.name + suffix), path.join(dir, "art", a.name + suffix));
        }
      }
    }
    const covers = await renderArt(path.join(dir, "art"), coverArtFiles(edition));
    const fonts = await copyFonts(path.join(dir, "fonts"));
    const manifest = manifestOf(edition, new Map([...pages, ...covers]), fonts);
    await writeFile(path.join(dir, "manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`);
    written.push(dir);
  }
  return written;
}

/** Reads a generated book's manifest, validated. */
export async function readManifest(dir: string): Promise<Manifest> {
  return v.parse(Manifest, JSON.parse(await readFile(path.join(dir, "manifest.json"), "utf8")));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const started = performance.now();
  const dirs = await generateBooks();
  console.log(
    `generated ${dirs.map((d) => path.relative(process.cwd(), d)).join(", ")} in ${Math.round(performance.now() - started)} ms`,
  );
}
