import { describe, expect, it } from "vitest";
import { bookSpreads, keyTarget, spreadOf, step, swipeDirection, ZOOM_LEVELS, zoomStep } from "./spreads.ts";

describe("the book's spreads (docs/book-format.md)", () => {
  const spreads = bookSpreads();

  it("are the front cover alone, pages 1–22 in pairs, the back cover alone", () => {
    expect(spreads).toHaveLength(13);
    expect(spreads[0]).toEqual(["cover_front"]);
    expect(spreads[1]).toEqual(["page_1", "page_2"]);
    expect(spreads[11]).toEqual(["page_21", "page_22"]);
    expect(spreads[12]).toEqual(["cover_back"]);
    const pages = spreads.flat();
    expect(pages).toHaveLength(24);
    expect(new Set(pages).size).toBe(24);
    // Pages 0 and 23 are print-only.
    expect(pages).not.toContain("page_0");
    expect(pages).not.toContain("page_23");
    for (const spread of spreads.slice(1, -1)) {
      const [left, right] = spread.map((p) => Number(p.split("_")[1]));
      expect(left! % 2).toBe(1);
      expect(right).toBe(left! + 1);
    }
  });

  it("finds the spread of a page", () => {
    expect(spreadOf("cover_front")).toBe(0);
    expect(spreadOf("page_1")).toBe(1);
    expect(spreadOf("page_2")).toBe(1);
    expect(spreadOf("page_22")).toBe(11);
    expect(spreadOf("cover_back")).toBe(12);
    expect(spreadOf("page_0")).toBe(0);
  });

  it("steps and keys stay inside the book", () => {
    expect(step(0, -1)).toBe(0);
    expect(step(12, 1)).toBe(12);
    expect(step(5, 1)).toBe(6);
    expect(keyTarget("ArrowRight", 0)).toBe(1);
    expect(keyTarget("ArrowLeft", 0)).toBe(0);
    expect(keyTarget("PageDown", 3)).toBe(4);
    expect(keyTarget(" ", 3)).toBe(4);
    expect(keyTarget("PageUp", 3)).toBe(2);
    expect(keyTarget("Home", 7)).toBe(0);
    expect(keyTarget("End", 2)).toBe(12);
    expect(keyTarget("a", 2)).toBeNull();
  });

  it("reads a swipe only when it is long enough and mostly sideways", () => {
    expect(swipeDirection(-120, 10)).toBe(1);
    expect(swipeDirection(120, -10)).toBe(-1);
    expect(swipeDirection(-20, 0)).toBe(0);
    expect(swipeDirection(-80, 120)).toBe(0);
  });

  it("zooms through fixed levels and stops at both ends", () => {
    expect(zoomStep(1, 1)).toBe(1.5);
    expect(zoomStep(1.5, 1)).toBe(2);
    expect(zoomStep(ZOOM_LEVELS.at(-1)!, 1)).toBe(ZOOM_LEVELS.at(-1));
    expect(zoomStep(1, -1)).toBe(1);
    expect(zoomStep(2, -1)).toBe(1.5);
  });
});
