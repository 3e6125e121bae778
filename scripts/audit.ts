// `npm run audit:prod` (CI): fails when a production dependency has a known high or critical
// vulnerability. When the registry's advisory endpoint cannot be reached (some mirrors and proxies
// refuse it), it says so plainly and does not pretend the check passed or failed.
import { spawnSync } from "node:child_process";

const run = spawnSync("npm", ["audit", "--omit=dev", "--json"], { encoding: "utf8" });
let report: {
  metadata?: { vulnerabilities: Record<string, number> };
  vulnerabilities?: Record<string, { severity: string; via: unknown[]; range: string }>;
  statusCode?: number;
  message?: string;
};
try {
  report = JSON.parse(run.stdout);
} catch {
  console.error(`npm audit gave no report:\n${run.stdout}${run.stderr}`);
  process.exit(1);
}

if (!report.metadata) {
  console.warn(
    `npm audit: NOT CHECKED, the advisory endpoint is unreachable from here (${report.statusCode ?? "?"} ${report.message ?? ""}).`,
  );
  process.exit(0);
}
const serious = Object.entries(report.vulnerabilities ?? {}).filter(([, v]) =>
  ["high", "critical"].includes(v.severity),
);
console.log(`npm audit (production dependencies): ${JSON.stringify(report.metadata.vulnerabilities)}`);
for (const [name, v] of serious) console.error(`  ${v.severity}: ${name} ${v.range}`);
process.exit(serious.length > 0 ? 1 : 0);
