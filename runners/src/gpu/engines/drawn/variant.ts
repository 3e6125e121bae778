import { seededRandom } from "@faceapp/core";
import type { OutlineShape } from "./outline.ts";

/** How one drawing of the face differs from another: all of it chosen by the page's seed. */
export interface Variant extends OutlineShape {
  /** Head tilt in radians, within the page's face box. */
  tilt: number;
  /** Size against the page's face box (1 = the eyes where the box's template puts them). */
  scale: number;
  /** Shift of the eyes, as shares of the distance between them. */
  shiftX: number;
  shiftY: number;
  /** Tones of the reduced palette. */
  tones: 3 | 4 | 5;
  /** The shadow tone as a share of the skin's brightness, and whether it leans cool (else warm). */
  shadow: number;
  coolShadow: boolean;
  /** How far the highlight tone goes from the skin towards white. */
  highlight: number;
  /** How much of the photo's own colour (lips, eyes) is kept over the palette. */
  chroma: number;
  /** Ink line weight (a multiple of the base width) and strength. */
  stroke: number;
  ink: number;
  /** Rosy cheeks, 0 for none. */
  blush: number;
}

/** The variant a seed draws. Seeds are page seeds (any integer; only the low 32 bits count). */
export function variantFor(seed: number): Variant {
  const r = seededRandom(Number.isFinite(seed) ? Number(BigInt.asUintN(32, BigInt(Math.trunc(seed)))) : 0);
  const between = (a: number, b: number) => a + (b - a) * r();
  const sign = r() < 0.5 ? -1 : 1;
  return {
    // Never upright: two seeds then differ by at least the turn between their tilts or its direction.
    tilt: sign * between(3, 10) * (Math.PI / 180),
    scale: between(0.9, 1.06),
    shiftX: between(-0.08, 0.08),
    shiftY: between(-0.06, 0.1),
    tones: ([3, 4, 5] as const)[Math.floor(r() * 3)]!,
    shadow: between(0.62, 0.78),
    coolShadow: r() < 0.4,
    highlight: between(0.12, 0.3),
    chroma: between(0.35, 0.6),
    stroke: between(0.8, 1.7),
    ink: between(0.65, 0.95),
    blush: r() < 0.35 ? 0 : between(0.15, 0.35),
    browLift: between(0, 0.2),
    jawInset: between(0.02, 0.08),
  };
}
