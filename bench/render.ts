// `npm run bench:render`: the render runner's figures, in one run on this machine.
//   1. Text pages at print size through renderPage, one at a time: the reused browser against a
//      browser launched per page (the original design), pages/s and p95 of each, and their ratio.
//   2. Assembling block.pdf, cover.pdf and pages.zip from the 26 rendered pages, in a child process
//      of its own so its peak memory (the kernel's high-water mark of resident memory) is its alone,
//      from the print JPEGs made by renderPage.
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
// Only the type: lib.ts loads postgres, which would weigh on the assembly child's memory.
import type { Result } from "./lib.ts";

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
      await writeFile(path.join(out, `${p}.print.jpg`), r.print);
      await writeFile(path.join(out, `${p}.web.jpg`), r.web);
    }
  }
  const wall = (performance.now() - started) / 1000;
  return { times, pagesPerSecond: pages.length / wall };
}

/** The child process: assembles from files in `dir`, prints its timings and peak memory as JSON. */
async function assembleChild(dir: string) {
  const manifest = await readManifest(bookDir);
  const rss = async (field: string) =>
    Number((await readFile("/proc/self/status", "utf8")).match(new RegExp(`^${field}:\\s+(\\d+) kB`, "m"))![1]) / 1024;
  const beforeMb = await rss("VmRSS");
  const t0 = performance.now();
  const assembled = await assemblePrint({
    manifest,
    variables: { child_name: NAME },
    readPrint: (p) => readFile(path.join(dir, `${p}.print.jpg`)),
    readWeb: (p) => readFile(path.join(dir, `${p}.web.jpg`)),
  });
  const seconds = (performance.now() - t0) / 1000;
  await assembled.dispose();
  // VmHWM: the kernel's high-water mark of this process's resident memory. Not getrusage's maxRSS,
  // which Linux carries over from the parent across fork and exec (the parent holds the renders).
  console.log(JSON.stringify({ seconds, peakMb: await rss("VmHWM"), beforeMb }));
}

async function main() {
  if (!existsSync(path.join(bookDir, "art"))) await generateBooks();
  const manifest = await readManifest(bookDir);
  const textPages = ids(manifest).filter((p) => artOf(manifest, p).text_layers.length > 0);
  const out = await mkdtemp(path.join(tmpdir(), "faceapp-bench-render-"));
  const results: Result[] = [];
  try {
    // Reused browser against a browser per page (what the original render worker paid for every
    // page), interleaved in three rounds so the machine's drift hits both alike; the ratio is the
    // median of the rounds' ratios.
    const reused = new Typesetter();
    const perPage = new Typesetter({ maxRendersPerBrowser: 1 });
    await renderRun(manifest, reused, textPages.slice(0, 1));
    const rounds: { reused: Awaited<ReturnType<typeof renderRun>>; launched: Awaited<ReturnType<typeof renderRun>> }[] =
      [];
    for (let i = 0; i < 3; i++) {
      rounds.push({
        reused: await renderRun(manifest, reused, textPages, i === 0 ? out : undefined),
        launched: await renderRun(manifest, perPage, textPages.slice(i * 3, i * 3 + 3)),
      });
    }
    await reused.close();
    await perPage.close();
    const reusedTimes = rounds.flatMap((r) => r.reused.times);
    const reusedRate = median(rounds.map((r) => r.reused.pagesPerSecond));
    const launched = {
      times: rounds.flatMap((r) => r.launched.times),
      pagesPerSecond: median(rounds.map((r) => r.launched.pagesPerSecond)),
    };
    const ratio = median(rounds.map((r) => r.reused.pagesPerSecond / r.launched.pagesPerSecond));
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

    // Assembly in a fresh process, three times each; the median time and the largest peak. The child
    // runs as the render runner should (compose/ sets it): MALLOC_ARENA_MAX=2, else glibc gives each
    // libvips thread its own arena and resident memory doubles.
    {
      const what = "print JPEGs from renderPage";
      const runs = [];
      for (let i = 0; i < 3; i++) {
        const { stdout } = await promisify(execFile)(
          process.execPath,
          [...process.execArgv, fileURLToPath(import.meta.url), "--assemble", out],
          { env: { ...process.env, MALLOC_ARENA_MAX: "2" } },
        );
        runs.push(
          JSON.parse(stdout.trim().split("\n").pop()!) as { seconds: number; peakMb: number; beforeMb: number },
        );
      }
      const seconds = median(runs.map((r) => r.seconds));
      const peak = Math.max(...runs.map((r) => r.peakMb));
      const before = median(runs.map((r) => r.beforeMb));
      results.push(
        {
          name: `assemble block+cover+zip from ${what}: time`,
          value: seconds,
          unit: "s",
          target: "≤ 2",
          met: seconds <= 2,
        },
        {
          name: `assemble block+cover+zip from ${what}: peak RSS`,
          value: peak,
          unit: "MB",
          target: "≤ 300",
          met: peak <= 300,
        },
        { name: "  of which the process at rest (RSS before)", value: before, unit: "MB", target: "", met: null },
      );
    }
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
