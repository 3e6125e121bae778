// The engines as the job tasks use them: pages rendered from buffers, print files assembled from the
// bucket's objects and written back under the given keys.

import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { createS3Client, getObjectBytes, keys, putObjectBytes } from "@faceapp/core";
import { useTestBucket } from "@faceapp/testkit";
import sharp from "sharp";
import { afterAll, expect, it } from "vitest";
import { background, layer, readBookFile, testManifest } from "./fixtures.ts";
import { createRenderEngines, type PageId } from "./imports.ts";

const bucket = useTestBucket();
const s3 = createS3Client(bucket);
const engines = createRenderEngines({ s3, bucket: bucket.bucket, typesetter: { timeoutMs: 30_000 } });
afterAll(async () => {
  await engines.close();
  s3.destroy();
});

it("renders the pages of a book and assembles its print files from the bucket into the bucket", async () => {
  const manifest = testManifest({
    page_1: [layer({ template: "Hello, {child_name}, age {child_age}!", variables: ["child_name", "child_age"] })],
    cover_front: [layer({ template: "{child_name}", position: "top-center", size: "accent", font: "accent" })],
  });
  const ids: PageId[] = [...manifest.pages.map((p) => `page_${p.page_num}` as PageId), "cover_front", "cover_back"];
  const printKeys = new Map<PageId, string>();
  const webKeys = new Map<PageId, string>();
  const signal = new AbortController().signal;
  for (const page of ids) {
    const out = await engines.renderer.render({
      manifest,
      page,
      background: await background(manifest, page),
      variables: { child_name: "Олеся", child_age: "5" },
      readBookFile,
      signal,
    });
    printKeys.set(page, keys.page("p1", "full", 0, page, "print.jpg"));
    webKeys.set(page, keys.page("p1", "full", 0, page, "web.jpg"));
    await putObjectBytes(s3, bucket.bucket, printKeys.get(page)!, out.print, "image/jpeg");
    await putObjectBytes(s3, bucket.bucket, webKeys.get(page)!, out.web, "image/jpeg");
  }
  const outputKeys = {
    block: keys.printFile("p1", "block.pdf"),
    cover: keys.printFile("p1", "cover.pdf"),
    zip: keys.printFile("p1", "pages.zip"),
  };
  await engines.assembler.assemble({ manifest, childName: "Олеся", printKeys, webKeys, outputKeys, signal });

  const dir = await mkdtemp(path.join(tmpdir(), "faceapp-engines-"));
  try {
    for (const [name, key] of Object.entries(outputKeys)) {
      await writeFile(path.join(dir, name), await getObjectBytes(s3, bucket.bucket, key));
    }
    const info = (file: string) => promisify(execFile)("pdfinfo", [path.join(dir, file)]).then((r) => r.stdout);
    expect(await info("block")).toMatch(/Pages:\s+24[\s\S]*Page size:\s+612\.28 x 612\.28 pts/);
    expect(await info("cover")).toMatch(/Pages:\s+1[\s\S]*Page size:\s+1344 x 720 pts/);
    const zip = await promisify(execFile)("zipinfo", ["-1", path.join(dir, "zip")]);
    // The whole book: both covers and all 24 pages, and the story's words.
    expect(zip.stdout.trim().split("\n")).toHaveLength(27);
    // The front cover's web image is its web crop, at 1200 px.
    const web = await sharp(await getObjectBytes(s3, bucket.bucket, webKeys.get("cover_front")!)).metadata();
    expect([web.width, web.height]).toEqual([1200, 1200]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  // 26 pages rendered and assembled: the limit guards against a hang, it is no performance claim.
}, 120_000);

it("refuses to assemble when a page's image is missing, writing nothing", async () => {
  const manifest = testManifest();
  const signal = new AbortController().signal;
  const outputKeys = { block: "x/block.pdf", cover: "x/cover.pdf", zip: "x/pages.zip" };
  await expect(
    engines.assembler.assemble({
      manifest,
      childName: "A",
      printKeys: new Map(),
      webKeys: new Map(),
      outputKeys,
      signal,
    }),
  ).rejects.toThrow(/no stored image/);
  await expect(getObjectBytes(s3, bucket.bucket, outputKeys.block)).rejects.toThrow();
});
