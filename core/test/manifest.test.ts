// The manifest validator: keep-out areas of the art refuse text boxes over them; name forms in templates.
import * as v from "valibot";
import { describe, expect, it } from "vitest";
import { keepOutViolations, layerRect, Manifest } from "../src/index.ts";

const crop = { left: 25, top: 210, width: 2551, height: 2551 };
function book(page1: Record<string, unknown>) {
  return {
    slug: "keep-out",
    title: "Keep out",
    language: "uk",
    category: "test",
    age_min: 3,
    age_max: 7,
    typography: {
      fonts: { body: { file: "fonts/body.woff2", family: "Body" } },
      body_font: "body",
      accent_font: "body",
      body_size_pt: 20,
      accent_size_pt: 40,
      line_height: 1.3,
      color: "#222222",
    },
    pages: Array.from({ length: 24 }, (_, i) => ({
      page_num: i,
      base_uri: `art/${i}.png`,
      availability: i < 2 ? "prepay" : "postpay",
      ...(i === 1 ? page1 : {}),
    })),
    covers: { front: { base_uri: "art/f.png", web_crop: crop }, back: { base_uri: "art/b.png", web_crop: crop } },
    output: { dpi: 300, page_size_px: 2551, cover_size_px: { width: 2800, height: 3000 }, safe_zone_pt: 24 },
  };
}
const whale = { label: "whale", left: 0.3, top: 0.6, width: 0.5, height: 0.25 };
const text = (over: Record<string, unknown>) => ({
  template: "{child_name} на спині кита",
  variables: ["child_name"],
  position: "top-center",
  box_width: 0.8,
  ...over,
});
const problems = (input: unknown) => {
  const result = v.safeParse(Manifest, input, { abortEarly: false });
  return result.success ? [] : result.issues.map((i) => i.message);
};

describe("keep-out areas", () => {
  it("refuse a text box that covers one, saying which", () => {
    const over = book({ keep_out: [whale], text_layers: [text({ position: "bottom-center", box_height: 0.2 })] });
    expect(problems(over)).toEqual(['a text box covers key art: page_1 text layer 0 overlaps "whale"']);
  });

  it("count a box without a height as reaching the far edge of the safe area", () => {
    expect(problems(book({ keep_out: [whale], text_layers: [text({})] }))).toHaveLength(1);
  });

  it("accept text beside the art", () => {
    const clear = book({ keep_out: [whale], text_layers: [text({ box_height: 0.25 })] });
    expect(problems(clear)).toEqual([]);
    const m = v.parse(Manifest, clear);
    expect(keepOutViolations(m)).toEqual([]);
    // The box is where the typesetter will set the text: from the safe area's top, a quarter page tall.
    expect(layerRect(m, "page_1", m.pages[1]!, m.pages[1]!.text_layers[0]!)).toMatchObject({ top: 100, height: 638 });
  });
});

describe("templates", () => {
  it("may ask for the name's forms, and only those that exist", () => {
    expect(problems(book({ text_layers: [text({ template: "для {child_name.gen}, {child_name.voc}!" })] }))).toEqual(
      [],
    );
    expect(problems(book({ text_layers: [text({ template: "для {child_name.abl}" })] }))).toHaveLength(1);
    expect(
      problems(book({ text_layers: [text({ template: "{child_age.gen}", variables: ["child_age"] })] })),
    ).toHaveLength(1);
  });
});

describe("face colours", () => {
  it("may name the skin, shadow and line a face page is drawn in, each an opaque #rrggbb", () => {
    expect(problems(book({ face_colours: { skin: "#f2c9a0" } }))).toEqual([]);
    expect(problems(book({ face_colours: { skin: "#f2c9a0", shadow: "#c98f6b", line: "#222222" } }))).toEqual([]);
    expect(problems(book({ face_colours: { skin: "#f2c9a080" } }))).toEqual(["must be an opaque #rrggbb colour"]);
    expect(problems(book({ face_colours: { skin: "rgb(242,201,160)", line: "#22" } }))).toEqual([
      "must be an opaque #rrggbb colour",
      "must be an opaque #rrggbb colour",
    ]);
    // The skin is the palette's middle tone: a shadow alone says nothing to draw with.
    expect(problems(book({ face_colours: { shadow: "#c98f6b" } }))).toHaveLength(1);
  });
});
