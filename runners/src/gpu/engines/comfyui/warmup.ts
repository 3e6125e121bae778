import { readFileSync } from "node:fs";
import sharp from "sharp";
import { warmupFace } from "../../workflow/params.ts";

// The warm-up prompt's inputs: the face workflow as a page runs it, at a tiny size and one sampler
// step, so ComfyUI loads the checkpoint, the ControlNets, the preprocessors, IPAdapter FaceID and its
// InsightFace model before the first parent's page, not during it. The child is a real face (the
// FaceID node refuses an image in which InsightFace finds none): a 192-pixel face crop of the public
// domain NASA astronaut photo in testkit/fixtures/photos, made by the runner's own analysis.

/** The illustration's side in pixels: small enough to run in a moment, large enough for every node. */
const SIDE = 256;
/** The face region in the middle of the illustration (the mask's white square). */
const FACE = 112;

export interface WarmUpInputs {
  faceCrop: Buffer;
  illustration: Buffer;
  mask: Buffer;
}

let inputs: Promise<WarmUpInputs> | undefined;

/** The three images the warm-up prompt uploads (made once per process). */
export function warmUpInputs(): Promise<WarmUpInputs> {
  inputs ??= (async () => {
    const square = await sharp({
      create: { width: FACE, height: FACE, channels: 3, background: "#ffffff" },
    })
      .png()
      .toBuffer();
    const offset = Math.round((SIDE - FACE) / 2);
    const [illustration, mask] = await Promise.all([
      sharp({ create: { width: SIDE, height: SIDE, channels: 3, background: "#e9c9a8" } })
        .png()
        .toBuffer(),
      sharp({ create: { width: SIDE, height: SIDE, channels: 3, background: "#000000" } })
        .composite([{ input: square, left: offset, top: offset }])
        .png()
        .toBuffer(),
    ]);
    const faceCrop = readFileSync(warmupFace);
    return { faceCrop, illustration, mask };
  })();
  return inputs;
}

/** What the warm-up prompt asks for (any text works; it only has to run). */
export const warmUpPrompt = "a smiling child, storybook illustration";
