// `npm run test:chaos [-- --long] [vitest args]`: runs the reliability and security suite and writes
// its report (scenarios, test counts, the figures each scenario recorded) to chaos/results/.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

const here = import.meta.dirname;
const args = process.argv.slice(2);
const long = args.includes("--long");
const vitestArgs = args.filter((a) => a !== "--long");
const mode = long ? "long" : "short";
const results = path.join(here, "results");
const figuresFile = path.join(results, `${mode}.figures.jsonl`);
const vitestFile = path.join(results, `${mode}.vitest.json`);
fs.mkdirSync(results, { recursive: true });
fs.rmSync(figuresFile, { force: true });

const started = Date.now();
const run = spawnSync(
  process.execPath,
  [
    path.join(here, "..", "node_modules", "vitest", "vitest.mjs"),
    "run",
    "--config",
    path.join(here, "vitest.config.ts"),
    "--reporter=default",
    "--reporter=json",
    `--outputFile.json=${vitestFile}`,
    ...vitestArgs,
  ],
  { stdio: "inherit", env: { ...process.env, CHAOS_LONG: long ? "1" : "0", CHAOS_REPORT_FILE: figuresFile } },
);

interface VitestJson {
  testResults: { name: string; assertionResults: { status: string; fullName: string }[] }[];
}
const vitest: VitestJson | null = fs.existsSync(vitestFile) ? JSON.parse(fs.readFileSync(vitestFile, "utf8")) : null;
const figures = fs.existsSync(figuresFile)
  ? fs
      .readFileSync(figuresFile, "utf8")
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>)
  : [];
const files = (vitest?.testResults ?? []).map((f) => {
  const count = (status: string) => f.assertionResults.filter((t) => t.status === status).length;
  return { file: path.relative(path.join(here, ".."), f.name), passed: count("passed"), failed: count("failed") };
});
const report = {
  mode,
  date: new Date().toISOString(),
  seconds: Math.round((Date.now() - started) / 1000),
  exitCode: run.status,
  files,
  scenarios: figures,
};
fs.writeFileSync(path.join(results, `${mode}.json`), `${JSON.stringify(report, null, 2)}\n`);

/** "Scenario figures", then one section per `section` a scenario was recorded under (testkit/src/report.ts, `record`); empty ones left out. */
function sections(all: Record<string, unknown>[]): string[] {
  const names = [
    "Scenario figures",
    ...new Set(all.flatMap((f) => (typeof f.section === "string" ? [f.section] : []))),
  ];
  return names.flatMap((name) => {
    const lines = all
      .filter((f) => (f.section ?? "Scenario figures") === name)
      .map(({ scenario, section: _, ...rest }) => `- **${scenario}**: ${JSON.stringify(rest)}`);
    return lines.length ? [`## ${name}`, "", ...lines, ""] : [];
  });
}

const md = [
  `# Reliability and security suite: ${mode} mode`,
  "",
  `${report.date}, ${report.seconds} s, exit code ${report.exitCode}.`,
  "",
  "| file | passed | failed |",
  "|---|---|---|",
  ...files.map((f) => `| ${f.file} | ${f.passed} | ${f.failed} |`),
  "",
  ...sections(figures),
].join("\n");
fs.writeFileSync(path.join(results, `${mode}.md`), md);
console.log(`\nreport: ${path.relative(process.cwd(), path.join(results, `${mode}.md`))}`);
process.exit(run.status ?? 1);
