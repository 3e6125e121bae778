// `npm run bench:e2e [-- --book land-of-wonders] [--previews 3] [--photo face-astronaut.png]`
// The product as deployed on one machine: the real api, one gpu runner and one render runner, each a
// process of its own (composite face engine), on a throwaway database with the demo book imported
// (books/generate.ts, then the import CLI), driven over HTTP like the web app: a fixture photo
// uploaded to S3 through the presigned POST, verified, analysed.
//   1. time from `POST …/generate` to the first preview page done (its event parsed by the client),
//      the slowest of `previews` personalisations made one after another (each is printed);
//   2. time from `POST …/confirm` to the print files (block.pdf and cover.pdf) of one of them;
//   3. memory at rest after that work (35 s later, as a runner between books): the api, the gpu
//      runner, the render runner with its Chromium (the resident memory of the runner and of every
//      process under it, and their PSS), after a garbage collection.
// Prints a table and a RESULTS line.
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { resolveServices } from "@faceapp/core/local";
import { createPg } from "@faceapp/sql";
import { dataDir, env } from "../api/src/env.ts";
import { generateBooks } from "../books/generate.ts";
import { fixturePath } from "../testkit/src/fixtures.ts";
import { serviceEnv, spawnRunner, type Spawned } from "../testkit/src/processes.ts";
import { readSse } from "../testkit/src/sse.ts";
import {
  BENCH_WEBHOOK_KEY,
  benchNodeOptions,
  deployedEnv,
  benchRedisUrl,
  collectGarbage,
  descendants,
  printResults,
  pssMb,
  type Result,
  rssMb,
  seedUsers,
  spawnApi,
  throwawayDatabase,
} from "./lib.ts";

const { values: args } = parseArgs({
  options: {
    book: { type: "string", default: "land-of-wonders" },
    previews: { type: "string", default: "3" },
    photo: { type: "string", default: "face-astronaut.png" },
  },
});
const PREVIEWS = Math.min(10, Math.max(1, Number(args.previews)));
const here = path.dirname(fileURLToPath(import.meta.url));
const bookDir = path.join(here, "../books", String(args.book));
const photoPath = fixturePath(String(args.photo));
const line = (name: string, value: string) => console.log(`${name.padEnd(52)} ${value}`);

interface Received {
  type: string;
  data: Record<string, unknown>;
  at: number;
}

/** One event stream read as a browser would; `until` resolves with the first event that matches. */
function watch(url: string, token: string) {
  const events: Received[] = [];
  const waiters = new Set<() => void>();
  const abort = new AbortController();
  void (async () => {
    const res = await fetch(url, { headers: { authorization: `Bearer ${token}` }, signal: abort.signal });
    if (!res.ok || !res.body) throw new Error(`event stream: ${res.status}`);
    await readSse(res.body, {
      onEvent: ({ event, data }) => {
        if (!event || !data) return;
        events.push({ type: event, data: JSON.parse(data), at: performance.now() });
        for (const wake of waiters) wake();
      },
    });
  })().catch(() => {});
  return {
    until(match: (e: Received) => boolean, what: string, timeoutMs = 600_000): Promise<Received> {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = events.find(match);
          const failed = events.find((e) => e.type === "error" || (e.type === "page" && e.data.state === "failed"));
          if (found || failed) {
            waiters.delete(check);
            clearTimeout(timer);
            if (found) resolve(found);
            else reject(new Error(`${what}: ${JSON.stringify(failed?.data)}`));
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`${what}: not within ${timeoutMs / 1000} s`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    close: () => abort.abort(),
  };
}

const status = (s: string) => (e: Received) => e.type === "status" && e.data.status === s;

async function main() {
  const services = await resolveServices(env, dataDir);
  const database = await throwawayDatabase(services.databaseUrl);
  const pg = createPg(database.url, { max: 2, applicationName: "faceapp-bench" });
  const stores = serviceEnv(database.url, services.s3, benchRedisUrl());
  const children: Spawned[] = [];
  const results: Result[] = [];
  try {
    if (!existsSync(path.join(bookDir, "art"))) await generateBooks();
    await importBook(stores);
    const api = await spawnApi(database.url, services.s3);
    children.push(api.spawned);
    const runnerEnv = {
      ...stores,
      ...deployedEnv,
      NODE_ENV: "production",
      WEBHOOK_ENCRYPTION_KEY: BENCH_WEBHOOK_KEY,
      NODE_OPTIONS: benchNodeOptions,
      RUNNER_HEALTH_PORT: "0",
    };
    const [gpu, render] = await Promise.all([spawnRunner("gpu", runnerEnv), spawnRunner("render", runnerEnv)]);
    children.push(gpu, render);
    const [user] = await seedUsers(pg.sql, 1);
    const token = user!.token;
    const call = async (method: string, route: string, body?: unknown) => {
      const res = await fetch(`${api.url}${route}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body ? { "content-type": "application/json" } : {}) },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      if (!res.ok) throw new Error(`${method} ${route}: ${res.status} ${await res.text()}`);
      return (await res.json()) as Record<string, unknown>;
    };

    // The photo, as the web app sends it: a presigned POST straight to S3, then verified by the api.
    const photo = readFileSync(photoPath);
    const ticket = await call("POST", "/v1/uploads", { contentType: "image/png", byteSize: photo.length });
    const form = new FormData();
    for (const [k, v] of Object.entries(ticket.fields as Record<string, string>)) form.append(k, v);
    form.append("file", new Blob([photo], { type: "image/png" }));
    const put = await fetch(String(ticket.url), { method: "POST", body: form });
    if (!put.ok) throw new Error(`upload to S3: ${put.status} ${await put.text()}`);
    await call("POST", `/v1/uploads/${ticket.id}/complete`);

    const firstPage: number[] = [];
    const made: { id: string; stream: ReturnType<typeof watch> }[] = [];
    for (let i = 0; i < PREVIEWS; i++) {
      const p = await call("POST", "/v1/personalizations", { bookSlug: args.book, photoUploadId: ticket.id });
      const id = String(p.id);
      const stream = watch(`${api.url}/v1/personalizations/${id}/events`, token);
      made.push({ id, stream });
      await stream.until(status("analyzed"), "analysis");
      const t0 = performance.now();
      await call("POST", `/v1/personalizations/${id}/generate`, { childName: "Ada" });
      const first = await stream.until(
        (e) => e.type === "page" && e.data.state === "done" && e.data.stage === "preview",
        "first preview page",
      );
      firstPage.push((first.at - t0) / 1000);
      if (i > 0) {
        // Only the first goes on to the full book: the others are canceled once their first page is
        // in, so the machine is quiet again for the next measurement (and the script stays short).
        await call("POST", `/v1/personalizations/${id}/cancel`);
        await stream.until(status("canceled"), "cancel");
        line(`preview ${i + 1}: first page`, `${firstPage.at(-1)!.toFixed(2)} s`);
        await new Promise((r) => setTimeout(r, 2000));
        continue;
      }
      const ready = await stream.until(status("preview_ready"), "preview");
      line(
        `preview ${i + 1}: first page, whole preview`,
        `${firstPage.at(-1)!.toFixed(2)} s, ${((ready.at - t0) / 1000).toFixed(1)} s`,
      );
    }
    const { id, stream } = made[0]!;
    const t1 = performance.now();
    await call("POST", `/v1/personalizations/${id}/confirm`);
    const files = await stream.until((e) => e.type === "files", "print files");
    const fullSeconds = (files.at - t1) / 1000;
    const names = (files.data.files as string[]) ?? [];
    line("confirm → print files", `${fullSeconds.toFixed(1)} s (${names.join(", ")})`);
    for (const m of made) m.stream.close();

    // At rest: past the render runner's idle browser close (RENDER_BROWSER_IDLE_SECONDS, 30 s) and
    // the gpu runner's idle face-api worker (15 s), as deployed; then collect garbage, read memory.
    await new Promise((r) => setTimeout(r, 35_000));
    await Promise.all([api.pid, gpu.child.pid!, render.child.pid!].map((pid) => collectGarbage(pid)));
    const chromium = descendants(render.child.pid!);
    const memory = {
      api: rssMb(api.pid),
      gpu: rssMb(gpu.child.pid!),
      render: rssMb(render.child.pid!),
      browser: chromium.reduce((sum, pid) => sum + rssMb(pid), 0),
      // Proportional: pages shared between Chromium's processes counted once, split among them.
      browserPss: chromium.reduce((sum, pid) => sum + pssMb(pid), 0),
      renderPss: pssMb(render.child.pid!),
    };
    line(
      "idle resident memory",
      `api ${memory.api.toFixed(0)} MB, gpu runner ${memory.gpu.toFixed(0)} MB, render runner ${memory.render.toFixed(0)} MB + its ${chromium.length} child processes (Chromium when open) ${memory.browser.toFixed(0)} MB; proportional (PSS) ${memory.renderPss.toFixed(0)} + ${memory.browserPss.toFixed(0)} MB`,
    );
    // The slowest, not the first or the median: a stall in any preview is a parent waiting.
    const firstSlowest = Math.max(...firstPage);
    const renderTotal = memory.render + memory.browser;
    results.push(
      {
        name: `generate → first preview page, slowest of ${PREVIEWS} (composite)`,
        value: firstSlowest,
        unit: "s",
        target: "≤ 3",
        met: firstSlowest <= 3,
      },
      {
        name: "confirm → block.pdf and cover.pdf (composite)",
        value: fullSeconds,
        unit: "s",
        target: "≤ 90",
        met: fullSeconds <= 90 && names.includes("block.pdf") && names.includes("cover.pdf"),
      },
      { name: "idle memory: api", value: memory.api, unit: "MB", target: "≤ 120", met: memory.api <= 120 },
      { name: "idle memory: gpu runner", value: memory.gpu, unit: "MB", target: "≤ 300", met: memory.gpu <= 300 },
      {
        name: "idle memory: render runner + Chromium",
        value: renderTotal,
        unit: "MB",
        target: "≤ 500",
        met: renderTotal <= 500,
      },
      {
        name: "idle memory: render runner + Chromium, proportional (PSS)",
        value: memory.renderPss + memory.browserPss,
        unit: "MB",
        target: "",
        met: null,
      },
    );
    printResults(results);
  } finally {
    await Promise.all(children.map((c) => c.stop()));
    await pg.close();
    await database.drop();
    await services.stop();
  }
}

/** The import CLI (api/src/cli/import-book.ts) for the book folder, as `npm run books:import` runs it. */
async function importBook(stores: Record<string, string>): Promise<void> {
  const { execFile } = await import("node:child_process");
  await new Promise<void>((resolve, reject) => {
    execFile(
      process.execPath,
      ["--import", "tsx", "api/src/cli/import-book.ts", bookDir],
      {
        cwd: path.join(here, ".."),
        env: { PATH: process.env.PATH, ...stores, MIGRATE_ON_START: "false", LOG_LEVEL: "warn" },
      },
      (err, _stdout, stderr) => (err ? reject(new Error(`import failed: ${stderr}`)) : resolve()),
    );
  });
}

await main();
process.exit(0);
