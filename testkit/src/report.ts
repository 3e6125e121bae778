// What each scenario of the suite measured, appended as JSON lines to the run's report.
import fs from "node:fs";
import path from "node:path";

/** Long mode (`npm run test:chaos -- --long`): bigger loads, longer outages. */
export const long = process.env.CHAOS_LONG === "1";

/** The JSON-lines file `chaos/run.ts` collects; tests run without it print only. */
const reportFile = process.env.CHAOS_REPORT_FILE;

export interface ScenarioFigures {
  [figure: string]: number | string | boolean;
}

/**
 * Records one scenario's figures (counts, worst recovery times in ms) for the report, under "Scenario
 * figures" or, with `section`, a section of its own (e.g. "Defences").
 */
export function record(scenario: string, figures: ScenarioFigures, section?: string): void {
  console.log(`[chaos] ${scenario} ${JSON.stringify(figures)}`);
  if (!reportFile) return;
  fs.mkdirSync(path.dirname(reportFile), { recursive: true });
  fs.appendFileSync(reportFile, `${JSON.stringify({ scenario, ...(section ? { section } : {}), ...figures })}\n`);
}
