// `npm run bench:compare -- --ref <commit> [--seconds 3] [--rounds 5] [--concurrency 16]`
// The rule for speed tricks that cost clarity: show the gain against the plain version in one run.
// This runs the api of the working tree and the api of another commit (checked out into a temporary
// git worktree sharing this one's node_modules, so only their own files differ), each in a process
// of its own on one throwaway database, and loads POST /v1/personalizations and POST /v1/uploads on
// each in interleaved rounds (the order swapped every round). Prints per route and side the rate
// (mean and worst round) and the CPU time per request of the api process and of its Postgres
// backends, then the other commit's rate as a share of the working tree's.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { resolveServices } from "@faceapp/core/local";
import { createPg } from "@faceapp/sql";
import { dataDir, env } from "../api/src/env.ts";
import { upsertBook } from "../api/src/services/books.ts";
import {
  type ApiProcess,
  cpuMs,
  load,
  request,
  seedUsers,
  spawnApi,
  syntheticManifest,
  throwawayDatabase,
} from "./lib.ts";

const { values: args } = parseArgs({
  options: {
    ref: { type: "string" },
    seconds: { type: "string", default: "3" },
    rounds: { type: "string", default: "5" },
    concurrency: { type: "string", default: "16" },
  },
});
if (!args.ref) throw new Error("--ref <commit> is required: the api to compare the working tree's with");
const SECONDS = Math.max(1, Number(args.seconds));
const ROUNDS = Math.max(1, Number(args.rounds));
const CONCURRENCY = Math.max(1, Number(args.concurrency));
const git = (...a: string[]) => execFileSync("git", a, { encoding: "utf8" }).trim();
const root = git("rev-parse", "--show-toplevel");
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

const other = fs.mkdtempSync(path.join(os.tmpdir(), "faceapp-compare-"));
git("worktree", "add", "--detach", other, args.ref);
// The same dependencies: every node_modules of this checkout, linked.
for (const dir of ["", "core", "sql", "testkit", "api", "runners", "web"]) {
  const own = path.join(root, dir, "node_modules");
  if (fs.existsSync(own)) fs.symlinkSync(own, path.join(other, dir, "node_modules"));
}
const services = await resolveServices(env, dataDir);
const database = await throwawayDatabase(services.databaseUrl);
const pg = createPg(database.url, { max: 2, applicationName: "faceapp-bench" });
const apis: ApiProcess[] = [];
try {
  for (let i = 0; i < 30; i++) await upsertBook(pg.db, syntheticManifest(i));
  const users = await seedUsers(pg.sql, CONCURRENCY);
  const uploads = await pg.sql<{ id: string; owner_id: string }[]>`
    insert into app.uploads (owner_id, object_key, content_type, declared_bytes, status, width, height, bytes, sha256, verified_at)
    select u, 'uploads/' || u || '/bench', 'image/png', 1000, 'ready', 512, 512, 1000, repeat('0', 64), now()
    from unnest(${pg.sql.array(users.map((u) => u.id))}::uuid[]) u
    returning id, owner_id`;
  const uploadOf = new Map(uploads.map((u) => [u.owner_id, u.id]));
  const apiEnv = { UPLOAD_RATE_LIMIT_PER_USER: "1000000000" };
  const sides = {
    "working tree": await spawnApi(database.url, services.s3, apiEnv, root),
    [args.ref]: await spawnApi(database.url, services.s3, apiEnv, other),
  };
  apis.push(...Object.values(sides));
  const routes: Record<string, (i: number) => string> = {
    "/v1/personalizations": (i) =>
      JSON.stringify({ bookSlug: "bench-book-0", photoUploadId: uploadOf.get(users[i % users.length]!.id) }),
    "/v1/uploads": () => JSON.stringify({ contentType: "image/jpeg", byteSize: 2_000_000 }),
  };
  const send = (api: ApiProcess, route: string) => (i: number) =>
    request(`${api.url}${route}`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${users[i % users.length]!.token}` },
      body: routes[route]!(i),
    });
  const backends = async () =>
    (
      await pg.sql<{ pid: number }[]>`
        select pid from pg_stat_activity where datname = ${new URL(database.url).pathname.slice(1)}
          and application_name = 'faceapp-api'`
    ).map((r) => r.pid);
  const seen: Record<string, { rate: number[]; api: number[]; pg: number[]; errors: number }> = {};
  for (const api of Object.values(sides))
    for (const route of Object.keys(routes)) await load(send(api, route), 1, CONCURRENCY);
  for (let round = 0; round < ROUNDS; round++) {
    for (const route of Object.keys(routes)) {
      const order = Object.entries(sides);
      if (round % 2) order.reverse();
      for (const [side, api] of order) {
        // Both apis name their connections alike: only the loaded one's backends are busy.
        const pids = await backends();
        const before = { api: cpuMs(api.pid), pg: pids.map(cpuMs) };
        const run = await load(send(api, route), SECONDS, CONCURRENCY);
        const after = await backends();
        const pg = after.reduce((sum, pid) => sum + cpuMs(pid) - (before.pg[pids.indexOf(pid)] ?? 0), 0);
        const key = `POST ${route} @ ${side}`;
        seen[key] ??= { rate: [], api: [], pg: [], errors: 0 };
        seen[key].rate.push(run.requests / run.seconds);
        seen[key].api.push((cpuMs(api.pid) - before.api) / run.requests);
        seen[key].pg.push(pg / run.requests);
        seen[key].errors += run.errors;
        console.log(
          `${`${key} (round ${round + 1})`.padEnd(60)} ${(run.requests / run.seconds).toFixed(0)} req/s, ${run.errors} errors`,
        );
      }
    }
  }
  console.log("");
  for (const [key, s] of Object.entries(seen)) {
    console.log(
      `${key.padEnd(48)} mean ${mean(s.rate).toFixed(0)} req/s (worst round ${Math.min(...s.rate).toFixed(0)}), CPU per request: api ${mean(s.api).toFixed(2)} ms, Postgres ${mean(s.pg).toFixed(2)} ms, ${s.errors} errors`,
    );
  }
  for (const route of Object.keys(routes)) {
    const share = mean(seen[`POST ${route} @ ${args.ref}`]!.rate) / mean(seen[`POST ${route} @ working tree`]!.rate);
    console.log(`POST ${route}: ${args.ref} ÷ working tree = ${share.toFixed(3)} (mean of the rounds)`);
  }
} finally {
  for (const api of apis) await api.stop();
  await pg.close();
  await database.drop();
  await services.stop();
  git("worktree", "remove", "--force", other);
}
process.exit(0);
