// `npm run bench [-- --only api,render]`: runs every benchmark script in its own process, prints one
// table of figures, targets and whether each is met, writes bench/results/latest.json (committed) and
// bench/results/tmp/<time>.json (this machine's history, git-ignored), and draws the history of the
// figures with targets as bench/results/tmp/history.svg. The total duration is a figure of its own.
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import type { Result } from "./lib.ts";

const here = path.dirname(fileURLToPath(import.meta.url));
const resultsDir = path.join(here, "results");
const historyDir = path.join(resultsDir, "tmp");
const scripts = ["api", "sse", "queue", "pipeline", "e2e", "render", "gpu", "decode", "soak"] as const;
const { values: args } = parseArgs({ options: { only: { type: "string" } } });
const chosen = args.only ? scripts.filter((s) => args.only?.split(",").includes(s)) : [...scripts];

/** Runs one script, echoing its output, and returns the figures of its RESULTS line. */
function runScript(name: string): Promise<Result[]> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", path.join(here, `${name}.ts`)], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk;
      process.stdout.write(chunk);
    });
    child.on("exit", (code) => {
      const line = output.split("\n").find((l) => l.startsWith("RESULTS "));
      if (code !== 0 || !line) {
        resolve([
          {
            name: `${name}: the script failed (exit ${code})`,
            value: Number.NaN,
            unit: "",
            target: "runs",
            met: false,
          },
        ]);
        return;
      }
      resolve(
        (JSON.parse(line.slice("RESULTS ".length)) as Result[]).map((r) => ({ ...r, name: `${name}: ${r.name}` })),
      );
    });
  });
}

function table(results: Result[]): string {
  const width = Math.max(...results.map((r) => r.name.length), 10);
  const rows = results.map((r) => {
    const value = Number.isFinite(r.value) ? r.value.toFixed(r.value >= 100 ? 0 : 2) : "—";
    const met = r.met === null ? "" : r.met ? "met" : "MISSED";
    return `${r.name.padEnd(width)}  ${value.padStart(10)} ${r.unit.padEnd(8)} ${(r.target || "").padEnd(10)} ${met}`;
  });
  return [
    `${"figure".padEnd(width)}  ${"value".padStart(10)} ${"unit".padEnd(8)} ${"target".padEnd(10)} met`,
    ...rows,
  ].join("\n");
}

/** One sparkline per figure that has a target, over the last runs. */
function historySvg(runs: { at: string; results: Result[] }[]): string {
  const names = [
    ...new Set(runs.flatMap((r) => r.results.filter((x) => x.target && x.met !== null).map((x) => x.name))),
  ];
  const rowHeight = 36;
  const width = 760;
  const plot = { left: 430, width: 300 };
  const rows = names.map((name, i) => {
    const points = runs
      .map((run) => run.results.find((r) => r.name === name))
      .map((r) => (r && Number.isFinite(r.value) ? r : null));
    const values = points.filter((p) => p !== null).map((p) => p.value);
    const max = Math.max(...values, 1e-9);
    const y0 = 24 + i * rowHeight;
    const coords = points
      .map((p, j) =>
        p ? `${plot.left + (j / Math.max(1, runs.length - 1)) * plot.width},${y0 + 24 - (p.value / max) * 22}` : null,
      )
      .filter(Boolean)
      .join(" ");
    const last = points.at(-1);
    const colour = last?.met ? "#1a7f37" : "#cf222e";
    const label = `${name} (${last ? last.value.toFixed(2) : "—"} ${last?.unit ?? ""}, target ${last?.target ?? ""})`;
    return `<text x="8" y="${y0 + 18}" font-size="11">${label.replace(/&/g, "&amp;").replace(/</g, "&lt;")}</text><polyline fill="none" stroke="${colour}" stroke-width="2" points="${coords}"/>`;
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${30 + names.length * rowHeight}" font-family="sans-serif"><text x="8" y="14" font-size="12" font-weight="bold">faceapp benchmarks, last ${runs.length} runs (green: target met in the latest run)</text>${rows.join("")}</svg>`;
}

const results: Result[] = [];
const started = performance.now();
for (const name of chosen) {
  console.log(`\n== bench:${name}`);
  const t0 = performance.now();
  results.push(...(await runScript(name)));
  console.log(`(bench:${name} took ${((performance.now() - t0) / 1000).toFixed(0)} s)`);
}
const minutes = (performance.now() - started) / 60_000;
results.push(
  chosen.length === scripts.length
    ? { name: "npm run bench: total duration", value: minutes, unit: "min", target: "≤ 15", met: minutes <= 15 }
    : { name: `bench ${chosen.join(",")}: duration`, value: minutes, unit: "min", target: "", met: null },
);
console.log(`\n${table(results)}`);

fs.mkdirSync(historyDir, { recursive: true });
const at = new Date().toISOString();
const file = path.join(historyDir, `${at.replace(/[:.]/g, "-")}.json`);
fs.writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
// With --only, latest.json keeps the other scripts' figures of earlier runs (with the run's duration).
const latestFile = path.join(resultsDir, "latest.json");
const kept =
  chosen.length === scripts.length || !fs.existsSync(latestFile)
    ? []
    : (JSON.parse(fs.readFileSync(latestFile, "utf8")) as Result[]).filter(
        (r) => !chosen.some((name) => r.name.startsWith(`${name}: `)) && !r.name.startsWith("bench "),
      );
fs.writeFileSync(latestFile, `${JSON.stringify([...kept, ...results], null, 2)}\n`);
const runs = fs
  .readdirSync(historyDir)
  .filter((f) => /^\d{4}-.*\.json$/.test(f))
  .sort()
  .slice(-10)
  .map((f) => ({ at: f, results: JSON.parse(fs.readFileSync(path.join(historyDir, f), "utf8")) as Result[] }));
fs.writeFileSync(path.join(historyDir, "history.svg"), historySvg(runs));
console.log(
  `\nresults: ${path.relative(process.cwd(), file)}, chart: ${path.relative(process.cwd(), path.join(historyDir, "history.svg"))}`,
);
const missed = results.filter((r) => r.met === false).length;
console.log(`${results.filter((r) => r.met).length} targets met, ${missed} missed`);
