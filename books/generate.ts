// `npm run books:generate`: writes the demo books into books/<slug>/ — manifest.json (committed),
// art/ (vector scenes rendered to PNG by sharp, with face masks) and fonts/ (copied from the
// @fontsource packages with their OFL licence). Art and fonts are git-ignored: this script makes them.

import { copyFile, mkdir, readFile, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Manifest, type TextLayer } from "@faceapp/core";
import sharp from "sharp";
import * as v from "valibot";
import { type Face, maskSvg, type SceneSpec, scene } from "./scenes.ts";
import { BACK_SCENE, EN, type Edition, FRONT_SCENE, PAGE_SCENES, UK } from "./stories.ts";

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

const art: ArtFile[] = [
  ...PAGE_SCENES.map((spec, i) => ({ name: `page_${String(i).padStart(2, "0")}`, spec, width: PAGE, height: PAGE })),
  { name: "cover_front", spec: FRONT_SCENE, ...COVER },
  { name: "cover_back", spec: BACK_SCENE, ...COVER },
];

/** Renders every scene (and the masks of scenes with a child) into `dir`; returns the faces found. */
async function renderArt(dir: string): Promise<Map<string, Face | null>> {
  await mkdir(dir, { recursive: true });
  const faces = new Map<string, Face | null>();
  // Two at a time: one per core; more only thrashes memory.
  let next = 0;
  const one = async (a: ArtFile) => {
    const { svg, face } = scene(a.width, a.height, a.spec);
    faces.set(a.name, face);
    const png = { compressionLevel: 6, adaptiveFiltering: false } as const;
    await sharp(Buffer.from(svg))
      .png(png)
      .toFile(path.join(dir, `${a.name}.png`));
    if (face) {
      await sharp(Buffer.from(maskSvg(a.width, a.height, face)))
        .greyscale()
        .toColourspace("b-w")
        .png(png)
        .toFile(path.join(dir, `${a.name}_mask.png`));
    }
  };
  await Promise.all(
    [0, 1].map(async () => {
      while (next < art.length) await one(art[next++]!);
    }),
  );
  return faces;
}

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

const DAY = { color: undefined, text_shadow: undefined };
const NIGHT = { color: "#fff8e7", text_shadow: "0 0 18px #0b1640, 0 0 6px #0b1640" };
const lit = (spec: SceneSpec) => (spec.time === "night" || spec.time === "evening" ? NIGHT : DAY);

function textLayer(template: string, over: Partial<TextLayer>): TextLayer {
  const layer: TextLayer = {
    template,
    variables: template.includes("{child_name}") ? ["child_name"] : [],
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

/** The manifest of an edition: 24 pages, both covers, the face pages marked, text over every page. */
export function manifestOf(edition: Edition, faces: Map<string, Face | null>, fonts: Manifest["typography"]["fonts"]) {
  const body = edition.language === "uk" ? "rubik_cyrillic" : "rubik_latin";
  const accent = edition.language === "uk" ? "bubbles_cyrillic" : "bubbles_latin";
  const prompt = (spec: SceneSpec) =>
    `children's book illustration, flat vector style, a happy child, ${spec.time}, ${spec.ground}`;
  const artOf = (name: string, spec: SceneSpec) => ({
    base_uri: `art/${name}.png`,
    needs_face_swap: faces.get(name) !== null,
    ...(faces.get(name)
      ? { prompt: prompt(spec), negative_prompt: "photo, realistic, text, watermark, extra fingers" }
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
      text_layers: [
        textLayer(edition.pages[i]!, {
          ...lit(spec),
          ...(i === 0 || i === 23 ? { position: "center", size: 30, box_width: 0.7 } : {}),
        }),
      ],
    })),
    covers: {
      front: {
        ...artOf("cover_front", FRONT_SCENE),
        web_crop: { left: 25, top: 210, width: PAGE, height: PAGE },
        text_layers: [
          textLayer(`${edition.front.name}\n${edition.front.title}`, { font: accent, size: "accent", box_width: 0.9 }),
        ],
      },
      back: {
        ...artOf("cover_back", BACK_SCENE),
        web_crop: { left: 210, top: 210, width: PAGE, height: PAGE },
        text_layers: [textLayer(edition.back, { ...NIGHT, position: "center", size: 26, box_width: 0.75 })],
      },
    },
    output: { dpi: 300, page_size_px: PAGE, cover_size_px: COVER, safe_zone_pt: 24 },
  };
  // The schema is the judge: a generator that writes an invalid book fails here, not at import.
  return v.parse(Manifest, manifest);
}

/** Generates every edition under `root` (books/ by default). Art is rendered once and copied. */
export async function generateBooks(root = booksDir, editions = EDITIONS): Promise<string[]> {
  const [first] = editions;
  if (!first) return [];
  const firstDir = path.join(root, first.slug);
  const faces = await renderArt(path.join(firstDir, "art"));
  const written: string[] = [];
  for (const edition of editions) {
    const dir = path.join(root, edition.slug);
    if (edition !== first) {
      await mkdir(path.join(dir, "art"), { recursive: true });
      for (const a of art) {
        for (const suffix of faces.get(a.name) ? [".png", "_mask.png"] : [".png"]) {
          await copyFile(path.join(firstDir, "art", a.name + suffix), path.join(dir, "art", a.name + suffix));
        }
      }
    }
    const fonts = await copyFonts(path.join(dir, "fonts"));
    const manifest = manifestOf(edition, faces, fonts);
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
