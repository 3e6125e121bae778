// The committed coverage of the fallback fonts is what the installed fonts really draw: a font missing
// from the machine (a package not installed) or a list changed without regenerating it fails here.
import fs from "node:fs";
import { FALLBACK_FONTS } from "@faceapp/core";
import { describe, expect, it } from "vitest";
import { fontCodePoints, inRanges, toRanges } from "../src/glyphs/coverage.ts";

const committed = JSON.parse(fs.readFileSync(new URL("../src/glyphs/fallback-coverage.json", import.meta.url), "utf8"));

describe("the fallback fonts' coverage", () => {
  it("equals what the installed fonts draw (tsx api/src/cli/fallback-coverage.ts rewrites it)", () => {
    const points = FALLBACK_FONTS.flatMap((f) => fontCodePoints(fs.readFileSync(f.file), f.postscriptName));
    expect(committed).toEqual(toRanges(points.filter((p) => p > 0x20)));
  });

  it("covers the scripts parents name children in", () => {
    const letters = "ЯїґŁëñÆΩאلअสหญ王さカ한Ա";
    expect([...letters].filter((c) => !inRanges(committed, c.codePointAt(0)!))).toEqual([]);
    expect(inRanges(committed, 0xe000)).toBe(false);
  });
});
