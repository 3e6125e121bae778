// The contrast arithmetic the keyboard walk's focus checks rely on, against WCAG's own figures.
import { describe, expect, it } from "vitest";
import { contrast, parseColor, seen } from "./contrast.ts";

const ratio = (a: string, b: string) => contrast(parseColor(a), parseColor(b));

describe("focus ring contrast", () => {
  it("gives WCAG's extremes and known pairs", () => {
    expect(ratio("rgb(0, 0, 0)", "rgb(255, 255, 255)")).toBeCloseTo(21, 5);
    expect(ratio("rgb(255, 255, 255)", "rgb(255, 255, 255)")).toBe(1);
    // #767676 on white is the classic 4.54:1 grey.
    expect(ratio("rgb(118, 118, 118)", "rgb(255, 255, 255)")).toBeCloseTo(4.54, 2);
    // Symmetric: which side is the ring does not matter.
    expect(ratio("rgb(163, 82, 0)", "rgb(251, 248, 243)")).toBeCloseTo(ratio("rgb(251, 248, 243)", "rgb(163, 82, 0)"));
  });

  it("passes the app's rings and fails the ones it must not have", () => {
    // --focus on --paper, and --focus-on-dark on the header's --accent and the viewer's dark.
    expect(ratio("rgb(163, 82, 0)", "rgb(251, 248, 243)")).toBeGreaterThanOrEqual(3);
    expect(ratio("rgb(255, 213, 74)", "rgb(59, 42, 120)")).toBeGreaterThanOrEqual(3);
    expect(ratio("rgb(255, 213, 74)", "rgb(34, 29, 53)")).toBeGreaterThanOrEqual(3);
    // The finding: a ring at 2.1:1, and the orange ring on the dark header.
    expect(ratio("rgb(163, 82, 0)", "rgb(59, 42, 120)")).toBeLessThan(3);
    expect(ratio("rgb(255, 213, 74)", "rgb(251, 248, 243)")).toBeLessThan(3);
  });

  it("composites translucent layers over what is below them", () => {
    // The viewer's backdrop (#000c) over the paper is nearly black.
    const backdrop = seen(["rgba(0, 0, 0, 0.8)", "rgb(251, 248, 243)"]);
    expect(backdrop.r).toBeCloseTo(251 * 0.2, 5);
    expect(backdrop.a).toBe(1);
    // Transparent layers show the first opaque one; none at all shows the white canvas.
    expect(seen(["rgba(0, 0, 0, 0)", "rgb(59, 42, 120)"])).toEqual({ r: 59, g: 42, b: 120, a: 1 });
    expect(seen([])).toEqual({ r: 255, g: 255, b: 255, a: 1 });
    // A half-transparent black ring on white is mid-grey, not black.
    expect(contrast(parseColor("rgba(0, 0, 0, 0.5)"), parseColor("rgb(255, 255, 255)"))).toBeLessThan(5);
  });

  it("refuses a colour it cannot read rather than guessing", () => {
    expect(() => parseColor("oklch(0.5 0.1 200)")).toThrow(/not a computed sRGB colour/);
    expect(() => parseColor("")).toThrow();
    expect(parseColor("transparent").a).toBe(0);
    expect(parseColor("rgb(1 2 3 / 50%)")).toEqual({ r: 1, g: 2, b: 3, a: 0.5 });
  });
});
