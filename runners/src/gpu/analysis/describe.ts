import * as v from "valibot";
import type { DetectedFace } from "./types.ts";

/** What the vision-language model must answer: one JSON object, every field constrained. */
export const VlmDescription = v.strictObject({
  gender: v.picklist(["girl", "boy"]),
  hair_colour: v.picklist(["black", "dark brown", "brown", "light brown", "blonde", "red", "auburn", "grey", "white"]),
  hair_length: v.picklist(["bald", "very short", "short", "medium", "long"]),
  hair_style: v.pipe(v.string(), v.trim(), v.regex(/^[a-z][a-z ,-]{1,39}$/, "a few lower-case words")),
  eye_colour: v.picklist(["brown", "dark brown", "hazel", "green", "blue", "grey"]),
  line: v.pipe(v.string(), v.trim(), v.minLength(3), v.maxLength(200)),
});
export type VlmDescription = v.InferOutput<typeof VlmDescription>;

export type DescriptionField = keyof VlmDescription;
export const descriptionFields: DescriptionField[] = [
  "gender",
  "hair_colour",
  "hair_length",
  "hair_style",
  "eye_colour",
  "line",
];

/** Where a field of the description came from. */
export type DescriptionSource = "vlm" | "detector" | "none";

/** The child's description; a field nobody could tell is null, and `sources` says who told each. */
export interface Description {
  gender: "girl" | "boy" | null;
  hair_colour: string | null;
  hair_length: string | null;
  hair_style: string | null;
  eye_colour: string | null;
  line: string | null;
  sources: Record<DescriptionField, DescriptionSource>;
}

/** The description the detector alone can give: gender (when confident) and a line built from it and the age. */
export function detectorDescription(face: DetectedFace): Description {
  const gender = face.gender && (face.genderScore ?? 0) >= 0.6 ? (face.gender === "female" ? "girl" : "boy") : null;
  const age = face.age === undefined ? undefined : Math.round(face.age);
  // The detector's age is only worth a line for a child; an adult's estimate says nothing useful.
  const line = age !== undefined && age <= 12 ? `a ${age}-year-old ${gender ?? "child"}` : null;
  return {
    gender,
    hair_colour: null,
    hair_length: null,
    hair_style: null,
    eye_colour: null,
    line,
    sources: {
      gender: gender ? "detector" : "none",
      hair_colour: "none",
      hair_length: "none",
      hair_style: "none",
      eye_colour: "none",
      line: line ? "detector" : "none",
    },
  };
}

/** The VLM's answer as a description, every field sourced to it. */
export function vlmDescription(answer: VlmDescription): Description {
  return {
    ...answer,
    sources: Object.fromEntries(descriptionFields.map((f) => [f, "vlm"])) as Record<DescriptionField, "vlm">,
  };
}

/** The positive prompt that keeps the drawn child looking like the photo. */
export function promptFor(d: Description): string {
  const hair = [d.hair_length, d.hair_colour, d.hair_style].filter(Boolean).join(" ");
  const parts = [
    `a ${d.gender ?? "child"}`,
    hair && d.hair_length !== "bald" ? `${hair} hair` : d.hair_length === "bald" ? "bald" : "",
    d.eye_colour ? `${d.eye_colour} eyes` : "",
    d.line && d.line !== `a ${d.gender}` ? d.line : "",
    "children's book illustration, soft colours, friendly face",
  ];
  return parts.filter(Boolean).join(", ");
}

/** A page's prompt: the book's own prompt for the page (scene, style) first, then the child's description. */
export function pagePrompt(childPrompt: string, pagePromptText?: string): string {
  return [pagePromptText?.trim(), childPrompt].filter(Boolean).join(", ");
}
