import { type Affine, warpAffine } from "../../geometry.ts";
import type { Box, RgbImage } from "../types.ts";

/**
 * InsightFace's attribute input: the face box centre mapped to the middle of a `size` square,
 * scaled so 1.5× the box's longer side fills it; RGB, raw 0..255 values (the genderage model
 * normalises inside), NCHW.
 */
export function genderAgeInput(image: RgbImage, box: Box, size = 96): Float32Array {
  const k = size / (Math.max(box.width, box.height) * 1.5);
  const cx = box.x + box.width / 2;
  const cy = box.y + box.height / 2;
  const m: Affine = [k, 0, size / 2 - k * cx, 0, k, size / 2 - k * cy];
  const crop = warpAffine(image, m, size, size);
  const plane = size * size;
  const tensor = new Float32Array(3 * plane);
  for (let i = 0; i < plane; i++) for (let c = 0; c < 3; c++) tensor[c * plane + i] = crop.data[i * 3 + c]!;
  return tensor;
}

/** The model's three outputs: female and male scores, then age / 100. */
export function decodeGenderAge(out: Float32Array): { gender: "female" | "male"; genderScore: number; age: number } {
  const female = out[0]!;
  const male = out[1]!;
  const e0 = Math.exp(female - Math.max(female, male));
  const e1 = Math.exp(male - Math.max(female, male));
  const gender = male > female ? "male" : "female";
  return { gender, genderScore: Math.max(e0, e1) / (e0 + e1), age: Math.round(out[2]! * 100) };
}
