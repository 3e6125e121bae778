// `npm run bench:render`: the render runner's figures, in one run on this machine.
//   1. Text pages at print size through renderPage, one at a time: the reused browser against a
//      browser launched per page (the original design), pages/s and p95 of each, and their ratio.
//   2. Assembling block.pdf, cover.pdf and pages.zip from the 26 rendered pages, in a child process
//      of its own so its peak memory (the kernel's high-water mark of resident memory) is its alone.
// Prints a table, then one line `RESULTS <json>` ({name, value, unit, target, met}[]) for `npm run bench`.

import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { Manifest, PageId } from "@faceapp/core";
import { generateBooks, readManifest } from "../books/generate.ts";
import { assemblePrint, renderPage, Typesetter } from "../runners/src/render/index.ts";

const here = path.dirname(fileURLToPath(import.meta.url));
const bookDir = path.join(here, "../books/dyvokrai");
const NAME = "Соломія";
const ids = (m: Manifest): PageId[] => [
  ...m.pages.map((p) => `page_${p.page_num}` as PageId),
  "cover_front",
  "cover_back",
];
const artOf = (m: Manifest, p: PageId) =>
  p === "cover_front" ? m.covers.front : p === "cover_back" ? m.covers.back : m.pages[Number(p.slice(5))]!;

const p95 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.ceil(xs.length * 0.95) - 1]!;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

interface Result {
  name: string;
  value: number;
  unit: string;
  target: string;
  met: boolean | null;
}

async function renderRun(manifest: Manifest, typesetter: Typesetter, pages: PageId[], out?: string) {
  const readBookFile = (f: string) => readFile(path.join(bookDir, f));
  const times: number[] = [];
  const started = performance.now();
  for (const p of pages) {
    const background = await readFile(path.join(bookDir, artOf(manifest, p).base_uri));
    const t0 = performance.now();
    const r = await renderPage(typesetter, {
      manifest,
      page: p,
      background,
      variables: { child_name: NAME },
      readBookFile,
    });
    times.push(performance.now() - t0);
    if (out) {
      await writeFile(path.join(out, `${p}.print.png`), r.print);
      await writeFile(path.join(out, `${p}.web.jpg`), r.web);
    }
  }
  const wall = (performance.now() - started) / 1000;
  return { times, pagesPerSecond: pages.length / wall };
}

/** The child process: assembles from files in `dir`, prints its timings and peak memory as JSON. */
async function assembleChild(dir: string) {
  const manifest = await readManifest(bookDir);
  const t0 = performance.now();
  const assembled = await assemblePrint({
    manifest,
    variables: { child_name: NAME },
    readPrint: (p) => readFile(path.join(dir, `${p}.print.png`)),
    readWeb: (p) => readFile(path.join(dir, `${p}.web.jpg`)),
  });
  const seconds = (performance.now() - t0) / 1000;
  await assembled.dispose();
  // maxRSS: the process's peak resident memory in KiB (getrusage), sampled by the kernel, not by us.
  console.log(JSON.stringify({ seconds, peakMb: process.resourceUsage().maxRSS / 1024 }));
}

async function main() {
  if (!existsSync(path.join(bookDir, "art"))) await generateBooks();
  const manifest = await readManifest(bookDir);
  const textPages = ids(manifest).filter((p) => artOf(manifest, p).text_layers.length > 0);
  const out = await mkdtemp(path.join(tmpdir(), "faceapp-bench-render-"));
  const results: Result[] = [];
  try {
    // Reused browser: one warm-up page (the launch), then every page of the book, three rounds.
    const reused = new Typesetter();
    await renderRun(manifest, reused, textPages.slice(0, 1));
    const rounds = [];
    for (let i = 0; i < 3; i++) rounds.push(await renderRun(manifest, reused, textPages, i === 0 ? out : undefined));
    await reused.close();
    const reusedTimes = rounds.flatMap((r) => r.times);
    const reusedRate = median(rounds.map((r) => r.pagesPerSecond));

    // A browser per page: what the original render worker paid for every page.
    const perPage = new Typesetter({ maxRendersPerBrowser: 1 });
    const launched = await renderRun(manifest, perPage, textPages.slice(0, 8));
    await perPage.close();

    const ratio = reusedRate / launched.pagesPerSecond;
    results.push(
      { name: "text page, reused browser: pages/s", value: reusedRate, unit: "pages/s", target: "", met: null },
      {
        name: "text page, reused browser: p95",
        value: p95(reusedTimes) / 1000,
        unit: "s",
        target: "≤ 1",
        met: p95(reusedTimes) <= 1000,
      },
      {
        name: "text page, browser per page: pages/s",
        value: launched.pagesPerSecond,
        unit: "pages/s",
        target: "",
        met: null,
      },
      { name: "text page, browser per page: p95", value: p95(launched.times) / 1000, unit: "s", target: "", met: null },
      { name: "reused vs per-page launch", value: ratio, unit: "×", target: "≥ 4", met: ratio >= 4 },
    );

    // Assembly in a fresh process, three times; the median time and the largest peak.
    const runs = [];
    for (let i = 0; i < 3; i++) {
      const { stdout } = await promisify(execFile)(
        process.execPath,
        [...process.execArgv, fileURLToPath(import.meta.url), "--assemble", out],
        {
          env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
        },
      );
      runs.push(JSON.parse(stdout.trim().split("\n").pop()!) as { seconds: number; peakMb: number });
    }
    const seconds = median(runs.map((r) => r.seconds));
    const peak = Math.max(...runs.map((r) => r.peakMb));
    results.push(
      {
        name: "assemble block (24 pages) + cover + zip: time",
        value: seconds,
        unit: "s",
        target: "≤ 2",
        met: seconds <= 2,
      },
      {
        name: "assemble block (24 pages) + cover + zip: peak RSS",
        value: peak,
        unit: "MB",
        target: "≤ 300",
        met: peak <= 300,
      },
    );
  } finally {
    await rm(out, { recursive: true, force: true });
  }

  console.log("\nrender runner benchmark (demo book dyvokrai, name Соломія)\n");
  for (const r of results) {
    const mark = r.met === null ? "" : r.met ? "met" : "MISSED";
    console.log(
      `${r.name.padEnd(48)} ${r.value.toFixed(2).padStart(8)} ${r.unit.padEnd(8)} ${r.target.padEnd(6)} ${mark}`,
    );
  }
  console.log(`RESULTS ${JSON.stringify(results)}`);
}

if (process.argv[2] === "--assemble") await assembleChild(process.argv[3]!);
else await main();
