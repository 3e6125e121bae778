// assemble_print's work: block.pdf, cover.pdf and pages.zip written to a work folder, checked, then
// streamed to S3. Memory stays bounded: pages pass through one or two at a time as JPEG files.

import { createReadStream, createWriteStream } from "node:fs";
import { mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import { crc32 } from "node:zlib";
import { PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { type Manifest, type PageId, type PrintFile, pageText } from "@faceapp/core";
import pdfmake from "pdfmake";
import type { Content } from "pdfmake";
type TDocumentDefinitions = Parameters<typeof pdfmake.createPdf>[0];
import yazl from "yazl";
import type { Variables } from "./html.ts";
import { checkPdf } from "./pdf-check.ts";

/** The block's trim size, 21.6 cm (docs/book-format.md), in points; its 2551 px images land at 300 dpi. */
export const BLOCK_PAGE_PT = 612.28;

export interface AssemblePrintInput {
  manifest: Manifest;
  /** For the document title ("<book title> — <child_name>"). */
  variables: Variables;
  /** A page's print master (renderPage's JPEG), e.g. read from S3, called once per page; embedded as is. */
  readPrint(page: PageId): Promise<Buffer>;
  /** A page's web image (JPEG), for pages.zip. */
  readWeb(page: PageId): Promise<Buffer>;
  /** The folder to build in (a fresh temporary folder by default; removed by `dispose`). */
  workDir?: string;
  /** Pages read at once (default 2). */
  concurrency?: number;
  signal?: AbortSignal;
}

export interface AssembledPrint {
  /** Local paths of the finished, checked files. */
  files: Record<PrintFile, string>;
  /** Removes the work folder. */
  dispose(): Promise<void>;
}

/**
 * The print master, the only print image kept: high quality and full-resolution chroma (4:4:4), so
 * coloured text keeps its edges; it goes into the PDFs as is.
 */
export const PRINT_JPEG = { quality: 95, chromaSubsampling: "4:4:4" } as const;

const allowedDirs = new Set<string>();
pdfmake.setUrlAccessPolicy(() => false);
// pdfmake may read only the page images of assemblies in progress.
pdfmake.setLocalAccessPolicy((file) => [...allowedDirs].some((dir) => path.resolve(file).startsWith(dir + path.sep)));

const blockPages = (m: Manifest): PageId[] => m.pages.map((p) => `page_${p.page_num}` as PageId);
/**
 * pages.zip is the whole book in reading order: the front cover's crop, every block page (the
 * dedication and the last page included, which the web viewer leaves out), the back cover's crop.
 */
const zipPages = (m: Manifest): PageId[] => ["cover_front", ...blockPages(m), "cover_back"];

/** An entry's name: its place in reading order first, so any file list sorts as the book reads. */
const zipEntryName = (index: number, page: PageId): string => `${String(index).padStart(2, "0")}_${page}.jpg`;

/** Builds and checks block.pdf, cover.pdf and pages.zip; the caller uploads them and disposes. */
export async function assemblePrint(input: AssemblePrintInput): Promise<AssembledPrint> {
  const { manifest } = input;
  const dir = path.resolve(input.workDir ?? (await mkdtemp(path.join(tmpdir(), "faceapp-print-"))));
  allowedDirs.add(dir);
  const dispose = async () => {
    allowedDirs.delete(dir);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const pages = [...blockPages(manifest), "cover_back", "cover_front"] as PageId[];
    const jpeg = (p: PageId) => path.join(dir, `${p}.jpg`);
    await forEachLimit(pages, input.concurrency ?? 2, async (p) => {
      input.signal?.throwIfAborted();
      const image = await input.readPrint(p);
      if (!isJpeg(image)) throw new Error(`the print image of ${p} is not a JPEG`);
      await writeFile(jpeg(p), image);
    });

    const title = `${manifest.title} — ${input.variables.child_name}`;
    const info = { title, creator: "faceapp", producer: "faceapp (pdfmake)", subject: manifest.slug };
    const files: Record<PrintFile, string> = {
      "block.pdf": path.join(dir, "block.pdf"),
      "cover.pdf": path.join(dir, "cover.pdf"),
      "pages.zip": path.join(dir, "pages.zip"),
    };

    const side = BLOCK_PAGE_PT;
    const block: TDocumentDefinitions = {
      info,
      pageSize: { width: side, height: side },
      pageMargins: 0,
      content: blockPages(manifest).map(
        (p, i): Content => ({ image: jpeg(p), width: side, height: side, ...(i > 0 ? { pageBreak: "before" } : {}) }),
      ),
    };
    const { width: cw, height: ch } = manifest.output.cover_size_px;
    const coverW = (cw / manifest.output.dpi) * 72;
    const coverH = (ch / manifest.output.dpi) * 72;
    const cover: TDocumentDefinitions = {
      info,
      pageSize: { width: 2 * coverW, height: coverH },
      pageMargins: 0,
      content: [
        { image: jpeg("cover_back"), width: coverW, height: coverH, absolutePosition: { x: 0, y: 0 } },
        { image: jpeg("cover_front"), width: coverW, height: coverH, absolutePosition: { x: coverW, y: 0 } },
      ],
    };
    input.signal?.throwIfAborted();
    await pdfmake.createPdf(block).write(files["block.pdf"]);
    await pdfmake.createPdf(cover).write(files["cover.pdf"]);
    await checkPdf(files["block.pdf"], { pages: manifest.pages.length, width: side, height: side });
    await checkPdf(files["cover.pdf"], { pages: 1, width: 2 * coverW, height: coverH });

    await writeZip(files["pages.zip"], zipPages(manifest), input.readWeb, storyText(title, manifest, input.variables));
    return { files, dispose };
  } catch (error) {
    await dispose();
    throw error;
  }
}

/** Streams the assembled files to S3 (one PutObject each, body read from disk with a known length). */
export async function uploadPrintFiles(
  s3: S3Client,
  bucket: string,
  keyOf: (file: PrintFile) => string,
  assembled: AssembledPrint,
): Promise<void> {
  const types: Record<PrintFile, string> = {
    "block.pdf": "application/pdf",
    "cover.pdf": "application/pdf",
    "pages.zip": "application/zip",
  };
  for (const [file, local] of Object.entries(assembled.files) as [PrintFile, string][]) {
    const { size } = await stat(local);
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: keyOf(file),
        Body: createReadStream(local),
        ContentLength: size,
        ContentType: types[file],
        // Given up front, the checksum goes in a header: otherwise the SDK frames a streamed body as
        // aws-chunked with a trailing checksum, which s3rver stores verbatim (a corrupt file).
        ChecksumCRC32: await fileCrc32(local),
      }),
    );
  }
}

/** The CRC32 of a file, base64 of its big-endian bytes as S3 expects, read in a stream. */
async function fileCrc32(file: string): Promise<string> {
  let crc = 0;
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) crc = crc32(chunk as Buffer, crc);
  const out = Buffer.alloc(4);
  out.writeUInt32BE(crc >>> 0);
  return out.toString("base64");
}

/** pdfmake embeds JPEG as is (PNG it would decode in JavaScript, slowly). */
const isJpeg = (b: Buffer) => b[0] === 0xff && b[1] === 0xd8;

/** story.txt: the book's words page by page, each under the name of its picture in the zip. */
function storyText(title: string, manifest: Manifest, variables: Variables): string {
  const pages = zipPages(manifest).map((p, i) => ({
    name: zipEntryName(i, p),
    text: pageText(manifest, p, variables),
  }));
  const parts = pages.filter((p) => p.text).map((p) => `[${p.name}]\n${p.text}\n`);
  return `${title}\n\n${parts.join("\n")}`;
}

async function writeZip(file: string, pages: PageId[], read: (p: PageId) => Promise<Buffer>, story: string) {
  const zip = new yazl.ZipFile();
  const done = pipeline(zip.outputStream, createWriteStream(file));
  const mtime = new Date(Date.UTC(2020, 0, 1));
  for (const [i, p] of pages.entries()) {
    // JPEG does not deflate: store as is.
    zip.addBuffer(await read(p), zipEntryName(i, p), { compress: false, mtime });
  }
  zip.addBuffer(Buffer.from(story, "utf8"), "story.txt", { mtime });
  zip.end();
  await done;
}

/**
 * `fn` over `items`, at most `limit` at once. After a failure no further item starts, and it rejects
 * with that failure once the items under way have ended: nothing is left writing into a work folder
 * that the caller then removes.
 */
async function forEachLimit<T>(items: T[], limit: number, fn: (item: T) => Promise<void>) {
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < items.length) {
      try {
        await fn(items[next++]!);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  const ended = await Promise.allSettled(Array.from({ length: Math.min(limit, items.length) }, worker));
  const failure = ended.find((e) => e.status === "rejected");
  if (failure) throw failure.reason;
}
