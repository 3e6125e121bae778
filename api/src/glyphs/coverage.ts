// Which code points a set of fonts can draw, as sorted inclusive ranges, read from the fonts' cmaps.
import * as fontkit from "fontkit";

export type Ranges = [first: number, last: number][];

/** The code points one font file (or one face of a collection) maps to a glyph. */
export function fontCodePoints(data: Buffer, postscriptName?: string): number[] {
  const opened = fontkit.create(data, postscriptName);
  const font = "fonts" in opened ? opened.fonts[0]! : opened;
  return font.characterSet;
}

/** Code points as sorted, merged ranges. */
export function toRanges(points: Iterable<number>): Ranges {
  const sorted = [...new Set(points)].sort((a, b) => a - b);
  const ranges: Ranges = [];
  for (const p of sorted) {
    const last = ranges.at(-1);
    if (last && p === last[1] + 1) last[1] = p;
    else ranges.push([p, p]);
  }
  return ranges;
}

export function inRanges(ranges: Ranges, point: number): boolean {
  let lo = 0;
  let hi = ranges.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const [first, last] = ranges[mid]!;
    if (point < first) hi = mid - 1;
    else if (point > last) lo = mid + 1;
    else return true;
  }
  return false;
}
