// The print files: exact page counts and sizes read back by poppler's pdfinfo, metadata, the web zip,
// a wrong file refused, and the upload streamed to a real S3 (s3rver).

import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { GetObjectCommand, HeadObjectCommand } from "@aws-sdk/client-s3";
import { createS3Client, keys } from "@faceapp/core";
import { useTestBucket } from "@faceapp/testkit";
import pdfmake from "pdfmake";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { background, layer, testManifest } from "./fixtures.ts";
import {
  type AssembledPrint,
  assemblePrint,
  checkPdf,
  type PageId,
  PRINT_JPEG,
  PrintCheckError,
  uploadPrintFiles,
} from "./imports.ts";

const run = promisify(execFile);
const bucket = useTestBucket();
// Words on the dedication, a story page, the last page and the back cover (the story file's pages).
const manifest = testManifest({
  page_0: [layer({ template: "This book belongs to\n{child_name}" })],
  page_5: [layer({ template: "{child_name} finds a key." })],
  page_23: [layer({ template: "The End." })],
  cover_back: [layer({ template: "Starring {child_name}." })],
});
const prints = new Map<PageId, Buffer>();
let assembled: AssembledPrint;

async function pdfinfo(file: string) {
  const { stdout } = await run("pdfinfo", ["-f", "1", "-l", "9999", file]);
  const field = (name: string) => stdout.match(new RegExp(`^${name}:\\s*(.*)$`, "m"))?.[1];
  const sizes = [...stdout.matchAll(/^Page\s+\d+ size:\s+([\d.]+) x ([\d.]+) pts/gm)].map((m) => `${m[1]}x${m[2]}`);
  return { pages: Number(field("Pages")), title: field("Title"), creator: field("Creator"), sizes };
}

beforeAll(async () => {
  const pages: PageId[] = [...manifest.pages.map((p) => `page_${p.page_num}` as PageId), "cover_front", "cover_back"];
  const jpeg = async (p: PageId) =>
    sharp(await background(manifest, p))
      .jpeg(PRINT_JPEG)
      .toBuffer();
  for (const p of pages) prints.set(p, await jpeg(p));
  assembled = await assemblePrint({
    manifest,
    variables: { child_name: "Олеся" },
    readPrint: async (p) => prints.get(p)!,
    readWeb: async (p) => sharp(prints.get(p)!).resize(1200).jpeg().toBuffer(),
  });
});
afterAll(() => assembled?.dispose());

describe("assemblePrint", () => {
  it("writes block.pdf: 24 pages, each exactly 612.28 pt square, with the title and creator", async () => {
    const info = await pdfinfo(assembled.files["block.pdf"]);
    expect(info.pages).toBe(24);
    expect(info.sizes).toEqual(Array(24).fill("612.28x612.28"));
    expect(info.title).toBe("Test Book — Олеся");
    expect(info.creator).toBe("faceapp");
  });

  it("embeds each block page at 300 dpi (2551 px across 21.6 cm)", async () => {
    const { stdout } = await run("pdfimages", ["-list", assembled.files["block.pdf"]]);
    const rows = stdout
      .split("\n")
      .slice(2)
      .filter(Boolean)
      .map((l) => l.trim().split(/\s+/));
    expect(rows).toHaveLength(24);
    for (const r of rows) {
      // page num type width height color comp bpc enc interp object ID x-ppi y-ppi
      expect([r[3], r[4], r[8]]).toEqual(["2551", "2551", "jpeg"]);
      expect(Number(r[12])).toBeCloseTo(300, 0);
    }
  });

  it("writes cover.pdf: one spread, back cover left, front right, at the covers' physical size", async () => {
    const info = await pdfinfo(assembled.files["cover.pdf"]);
    expect(info.pages).toBe(1);
    expect(info.sizes).toEqual(["1344x720"]);
    const { stdout } = await run("pdfimages", ["-list", assembled.files["cover.pdf"]]);
    const rows = stdout.split("\n").slice(2).filter(Boolean);
    expect(rows).toHaveLength(2);
    expect(rows.every((r) => /\b2800\s+3000\b/.test(r))).toBe(true);
  });

  it("writes pages.zip: the whole book, every page and both covers, named in reading order", async () => {
    const { stdout } = await run("zipinfo", ["-1", assembled.files["pages.zip"]]);
    const names = stdout.trim().split("\n");
    // 24 block pages (the dedication page_0 and the last page_23 included) and the two covers.
    expect(names).toEqual([
      "00_cover_front.jpg",
      ...manifest.pages.map((p, i) => `${String(i + 1).padStart(2, "0")}_page_${p.page_num}.jpg`),
      "25_cover_back.jpg",
      "story.txt",
    ]);
    expect(names).toContain("01_page_0.jpg");
    expect(names).toContain("24_page_23.jpg");
    expect([...names].sort()).toEqual(names);
  });

  it("puts the story beside the pictures: each page's words, with the child's name, under its picture's name", async () => {
    const { stdout } = await run("unzip", ["-p", assembled.files["pages.zip"], "story.txt"]);
    expect(stdout).toBe(
      [
        "Test Book — Олеся",
        "",
        "[01_page_0.jpg]",
        "This book belongs to",
        "Олеся",
        "",
        "[06_page_5.jpg]",
        "Олеся finds a key.",
        "",
        "[24_page_23.jpg]",
        "The End.",
        "",
        "[25_cover_back.jpg]",
        "Starring Олеся.",
        "",
      ].join("\n"),
    );
  });

  it("refuses a print image that is not the JPEG master, leaving no work folder behind", async () => {
    const workDir = await mkdtemp(path.join(tmpdir(), "faceapp-png-"));
    // The other pages read slowly: one is still being read when page_3 is refused.
    let reading = 0;
    let read = 0;
    await expect(
      assemblePrint({
        manifest,
        variables: { child_name: "A" },
        workDir,
        readPrint: async (p) => {
          if (p === "page_3") return background(manifest, p);
          reading += 1;
          await new Promise((r) => setTimeout(r, 50));
          reading -= 1;
          read += 1;
          return prints.get(p)!;
        },
        readWeb: async () => Buffer.alloc(0),
      }),
    ).rejects.toThrow(/page_3 is not a JPEG/);
    // Refused once the read under way had ended, and no page was read after it.
    expect(reading).toBe(0);
    const readByThen = read;
    await new Promise((r) => setTimeout(r, 200));
    expect(read).toBe(readByThen);
    await expect(stat(workDir)).rejects.toThrow(/ENOENT/);
  });

  it("refuses a PDF with the wrong page size or count", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "faceapp-wrong-"));
    try {
      const file = path.join(dir, "wrong.pdf");
      await pdfmake.createPdf({ pageSize: "A4", content: [] }).write(file);
      await expect(checkPdf(file, { pages: 1, width: 612.28, height: 612.28 })).rejects.toBeInstanceOf(PrintCheckError);
      await expect(
        checkPdf(assembled.files["block.pdf"], { pages: 23, width: 612.28, height: 612.28 }),
      ).rejects.toBeInstanceOf(PrintCheckError);
      await checkPdf(assembled.files["block.pdf"], { pages: 24, width: 612.28, height: 612.28 });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("uploads the three files to S3 under the personalisation's keys", async () => {
    const s3 = createS3Client(bucket);
    await uploadPrintFiles(s3, bucket.bucket, (f) => keys.printFile("p1", f), assembled);
    for (const f of ["block.pdf", "cover.pdf", "pages.zip"] as const) {
      const head = await s3.send(new HeadObjectCommand({ Bucket: bucket.bucket, Key: keys.printFile("p1", f) }));
      const local = await readFile(assembled.files[f]);
      expect(head.ContentLength).toBe(local.length);
      const body = await s3.send(new GetObjectCommand({ Bucket: bucket.bucket, Key: keys.printFile("p1", f) }));
      expect(Buffer.from(await body.Body!.transformToByteArray()).equals(local)).toBe(true);
    }
  });
});
