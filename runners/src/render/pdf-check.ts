// Reads back a written PDF (pdfmake's output: plain page dictionaries, no object streams) and checks
// its page count and page sizes, streaming, so a 40 MB file never sits in memory.

import { createReadStream } from "node:fs";

export interface PdfShape {
  pages: number;
  /** Page size in points. */
  width: number;
  height: number;
}

export class PrintCheckError extends Error {
  override name = "PrintCheckError";
}

const PAGE = /\/Type \/Page\s*\/Parent \d+ 0 R\s*\/MediaBox \[([-0-9. ]+)\]/g;
const PAGES = /\/Type \/Pages\s*\/Count (\d+)/g;
const CARRY = 256;

/** The page count (/Pages /Count) and every page's MediaBox found in the file. */
export async function readPdfShape(file: string): Promise<{ count: number | null; boxes: number[][] }> {
  let carry = "";
  let count: number | null = null;
  const boxes: number[][] = [];
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) {
    const text = carry + (chunk as Buffer).toString("latin1");
    // A match is new when it ends past the carried tail (the tail is longer than any match).
    for (const m of text.matchAll(PAGE)) {
      if (m.index + m[0].length > carry.length) boxes.push(m[1]!.trim().split(/\s+/).map(Number));
    }
    for (const m of text.matchAll(PAGES)) {
      if (m.index + m[0].length > carry.length) count = Number(m[1]);
    }
    carry = text.slice(-CARRY);
  }
  return { count, boxes };
}

/** Refuses a PDF whose page count or any page size differs from what was asked (0.01 pt tolerance). */
export async function checkPdf(file: string, expected: PdfShape): Promise<void> {
  const { count, boxes } = await readPdfShape(file);
  if (count !== expected.pages || boxes.length !== expected.pages) {
    throw new PrintCheckError(`${file}: ${boxes.length} pages (count ${count}), expected ${expected.pages}`);
  }
  boxes.forEach((box, i) => {
    const [x0 = Number.NaN, y0 = Number.NaN, x1 = Number.NaN, y1 = Number.NaN] = box;
    const w = x1 - x0;
    const h = y1 - y0;
    if (!(Math.abs(w - expected.width) < 0.01 && Math.abs(h - expected.height) < 0.01)) {
      throw new PrintCheckError(
        `${file}: page ${i + 1} is ${w}×${h} pt, expected ${expected.width}×${expected.height}`,
      );
    }
  });
}
