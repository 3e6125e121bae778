// Shared pieces of the benchmark scripts: throwaway databases, a bounded load loop, percentiles, and
// the RESULTS line that `npm run bench` gathers.
import { randomBytes } from "node:crypto";
import postgres from "postgres";
import { migrate } from "@faceapp/sql";

export interface Result {
  name: string;
  value: number;
  unit: string;
  target: string;
  met: boolean | null;
}

export const percentile = (sorted: number[], p: number) => sorted[Math.max(0, Math.ceil(sorted.length * p) - 1)] ?? 0;

/** Sorted copy plus the usual percentiles, in the input's unit. */
export function summarize(samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    count: sorted.length,
    p50: percentile(sorted, 0.5),
    p95: percentile(sorted, 0.95),
    p99: percentile(sorted, 0.99),
    max: sorted.at(-1) ?? 0,
  };
}

/** A migrated database of its own on the server of `adminUrl`, dropped by `drop()`. */
export async function throwawayDatabase(adminUrl: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `faceapp_bench_${randomBytes(4).toString("hex")}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database "${name}"`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  await migrate(url.toString());
  return {
    url: url.toString(),
    drop: async () => {
      await admin.unsafe(`drop database if exists "${name}" with (force)`);
      await admin.end();
    },
  };
}

export interface LoadRun {
  requests: number;
  errors: number;
  seconds: number;
  latencies: number[];
}

/** `concurrency` loops sending one request after another for `seconds`; latencies in ms. */
export async function load(
  send: (i: number) => Promise<Response>,
  seconds: number,
  concurrency: number,
): Promise<LoadRun> {
  const latencies: number[] = [];
  let errors = 0;
  const start = performance.now();
  const end = start + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      while (performance.now() < end) {
        const t0 = performance.now();
        try {
          const res = await send(worker);
          await res.arrayBuffer();
          if (!res.ok) errors += 1;
        } catch {
          errors += 1;
        }
        latencies.push(performance.now() - t0);
      }
    }),
  );
  return { requests: latencies.length, errors, seconds: (performance.now() - start) / 1000, latencies };
}

/** The machine-readable line `npm run bench` collects. */
export function printResults(results: Result[]): void {
  console.log(`RESULTS ${JSON.stringify(results)}`);
}
