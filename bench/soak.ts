// `npm run bench:soak [-- --renders 1000] [--variants shell-context,chromium-page] [--typeset-only]
//   [--timeout-seconds 20]`
// The render runner under a saturated CPU: one busy-loop process per core runs for the whole soak
// (so the figure does not depend on what else the machine is doing), and `renders` text pages of
// the demo book go through renderPage (typesetting in Chromium, then the composition with sharp) at
// the runner's concurrency (2), one Typesetter per variant, the variants one after another. A stall
// is a render slower than 5 s (the render timeout, 20 s, is the last line of defence). Per variant:
// stalls, retries, p50/p95/max, and memory 4 s after the soak with the browsers still open (this
// process and its browsers: RSS summed over the process tree, and PSS, which counts shared pages once;
// a runner at rest closes its browser after RENDER_BROWSER_IDLE_SECONDS, which bench:e2e measures).
// `--typeset-only` measures the Chromium part alone (no composition), to compare variants quickly.
// Prints a table and a RESULTS line (the first variant's figures are the ones with targets).

import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { type Manifest, type PageId, pageArt } from "@faceapp/core";
import { generateBooks, readManifest } from "../books/generate.ts";
import {
  fontFaceCss,
  type Isolation,
  pageDocument,
  renderPage,
  safeRect,
  Typesetter,
} from "../runners/src/render/index.ts";
import { descendants, percentile, printResults, pssMb, type Result, rssMb } from "./lib.ts";

const VARIANTS: Record<string, { executablePath: string; isolation: Isolation }> = {
  "shell-context": { executablePath: "/usr/lib/chromium/chromium-headless-shell", isolation: "context" },
  "shell-page": { executablePath: "/usr/lib/chromium/chromium-headless-shell", isolation: "page" },
  "shell-browser": { executablePath: "/usr/lib/chromium/chromium-headless-shell", isolation: "browser" },
  "chromium-page": { executablePath: "/usr/bin/chromium", isolation: "page" },
  "chromium-context": { executablePath: "/usr/bin/chromium", isolation: "context" },
  "chromium-browser": { executablePath: "/usr/bin/chromium", isolation: "browser" },
};
const { values: args } = parseArgs({
  options: {
    renders: { type: "string", default: "1000" },
    variants: { type: "string", default: "shell-context" },
    concurrency: { type: "string", default: "2" },
    "typeset-only": { type: "boolean", default: false },
    "timeout-seconds": { type: "string", default: "20" },
  },
});
const RENDERS = Math.max(1, Number(args.renders));
const CONCURRENCY = Math.max(1, Number(args.concurrency));
const STALL_MS = 5_000;
const here = path.dirname(fileURLToPath(import.meta.url));
const bookDir = path.join(here, "../books/dyvokrai");
const NAMES = ["Соломія", "Оксана-Марія Ковальчук", "Тарас", "Іванна Квітка-Основ'яненко", "Ія"];

/** One busy loop per core at the runner's own priority, until `stop`. */
function saturate(): { pids: Set<number>; stop(): void } {
  const loops: ChildProcess[] = Array.from({ length: os.availableParallelism() }, () =>
    spawn(process.execPath, ["-e", "for (;;) {}"], { stdio: "ignore" }),
  );
  const stop = () => {
    for (const loop of loops) loop.kill("SIGKILL");
  };
  process.once("exit", stop);
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      stop();
      process.exit(130);
    });
  }
  return { pids: new Set(loops.map((l) => l.pid!)), stop };
}

/** This process and its browsers' processes (the busy loops left out). */
function memory(exclude: Set<number>) {
  const pids = [process.pid, ...descendants(process.pid).filter((p) => !exclude.has(p))];
  return {
    rss: pids.reduce((sum, p) => sum + rssMb(p), 0),
    pss: pids.reduce((sum, p) => sum + pssMb(p), 0),
    processes: pids.length,
  };
}

async function soak(manifest: Manifest, pages: PageId[], typesetter: Typesetter, count: number) {
  const readBookFile = (f: string) => readFile(path.join(bookDir, f));
  const fontCss = await fontFaceCss(manifest, readBookFile);
  const backgrounds = new Map<PageId, Buffer>();
  for (const p of pages) backgrounds.set(p, await readFile(path.join(bookDir, pageArt(manifest, p).base_uri)));
  const times: number[] = [];
  let next = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < count) {
      const i = next++;
      const page = pages[i % pages.length]!;
      const variables = { child_name: NAMES[i % NAMES.length]! };
      const t0 = performance.now();
      if (args["typeset-only"]) {
        const art = pageArt(manifest, page);
        await typesetter.typeset(pageDocument(manifest, page, art, variables, fontCss), safeRect(manifest, page, art));
      } else {
        await renderPage(typesetter, {
          manifest,
          page,
          background: backgrounds.get(page)!,
          variables,
          readBookFile,
        });
      }
      times.push(performance.now() - t0);
      if (count >= 100 && times.length % 100 === 0) console.error(`  ${times.length}/${count}`);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return { times: times.sort((a, b) => a - b), seconds: (performance.now() - started) / 1000 };
}

async function main() {
  if (!existsSync(path.join(bookDir, "art"))) await generateBooks();
  const manifest = await readManifest(bookDir);
  const pages = [
    ...manifest.pages.map((p) => `page_${p.page_num}` as PageId),
    "cover_front" as const,
    "cover_back" as const,
  ].filter((p) => pageArt(manifest, p).text_layers.length > 0);
  const variants = String(args.variants).split(",");
  const what = args["typeset-only"] ? "typeset" : "render";
  const results: Result[] = [];
  for (const [v, name] of variants.entries()) {
    const variant = VARIANTS[name];
    if (!variant) throw new Error(`unknown variant ${name}: one of ${Object.keys(VARIANTS).join(", ")}`);
    const typesetter = new Typesetter({
      idleMs: 0,
      ...variant,
      maxPages: CONCURRENCY,
      timeoutMs: Number(args["timeout-seconds"]) * 1000,
    });
    await soak(manifest, pages, typesetter, CONCURRENCY); // launch and warm up, unloaded
    const load = saturate();
    const { times, seconds } = await soak(manifest, pages, typesetter, RENDERS);
    load.stop();
    // After the soak: its garbage collected, the browsers idle but open.
    await new Promise((r) => setTimeout(r, 3000));
    globalThis.gc?.();
    await new Promise((r) => setTimeout(r, 1000));
    const mem = memory(load.pids);
    await typesetter.close();
    const stalls = times.filter((t) => t > STALL_MS).length;
    const prefix = `${name}, ${RENDERS} ${what}s × ${CONCURRENCY} under load`;
    const targets = v === 0;
    results.push(
      {
        name: `${prefix}: stalls (> 5 s)`,
        value: stalls,
        unit: "",
        target: targets ? "0" : "",
        met: targets ? stalls === 0 : null,
      },
      { name: `${prefix}: retries`, value: typesetter.stats.retries, unit: "", target: "", met: null },
      { name: `${prefix}: p50`, value: percentile(times, 0.5) / 1000, unit: "s", target: "", met: null },
      { name: `${prefix}: p95`, value: percentile(times, 0.95) / 1000, unit: "s", target: "", met: null },
      { name: `${prefix}: max`, value: times.at(-1)! / 1000, unit: "s", target: "", met: null },
      { name: `${prefix}: throughput`, value: RENDERS / seconds, unit: "pages/s", target: "", met: null },
      {
        name: `${prefix}: browser open, RSS (${mem.processes} processes)`,
        value: mem.rss,
        unit: "MB",
        target: "",
        met: null,
      },
      { name: `${prefix}: browser open, PSS`, value: mem.pss, unit: "MB", target: "", met: null },
    );
    console.log(
      results
        .slice(-8)
        .map((r) => `${r.name.padEnd(72)} ${r.value.toFixed(2)} ${r.unit}`)
        .join("\n"),
    );
  }
  printResults(results);
}

await main();
process.exit(0);
