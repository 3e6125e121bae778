// Writes api/src/glyphs/fallback-coverage.json: the code points the fallback fonts (core's
// FALLBACK_FONTS, installed from Debian's packages) can draw. Run after changing that list:
// tsx api/src/cli/fallback-coverage.ts
import fs from "node:fs";
import { FALLBACK_FONTS } from "@faceapp/core";
import { fontCodePoints, toRanges } from "../glyphs/coverage.ts";

const points: number[] = [];
for (const font of FALLBACK_FONTS) points.push(...fontCodePoints(fs.readFileSync(font.file), font.postscriptName));
const out = new URL("../glyphs/fallback-coverage.json", import.meta.url);
const ranges = toRanges(points.filter((p) => p > 0x20));
fs.writeFileSync(out, `${JSON.stringify(ranges)}\n`);
console.log(`${ranges.length} ranges, ${points.length} code points → ${out.pathname}`);
