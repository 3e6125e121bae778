// `npm run bench:decode [-- --concurrent 3]`
// The api's peak memory completing the worst photos the limits allow (POST /v1/uploads/:id/complete):
// for each kind of image, the largest the api accepts (core's PHOTO_LIMITS, and for the kinds decoded
// whole, the most pixels its decode budget takes), made here with sharp, uploaded through the
// presigned POST, then completed while the api's peak resident memory (VmHWM, reset before each case)
// is read; then `concurrent` users complete the costliest one at once (the api takes two at a time,
// and its decode budget lets only one of these decode at a time). Each figure is the peak less
// the api's resident memory just before (after a full GC); target: under 300 MB. The api is the real
// server in its own process, run as deployed (MALLOC_ARENA_MAX=2). Prints a table and a RESULTS line.
import { readFileSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import sharp, { type Sharp } from "sharp";
import { PHOTO_LIMITS } from "@faceapp/core";
import { resolveServices } from "@faceapp/core/local";
import { createPg } from "@faceapp/sql";
import { dataDir, env } from "../api/src/env.ts";
import { DECODE_BUDGET_BYTES, DECODE_FIXED_BYTES, decodeCost } from "../api/src/services/image-check.ts";
import { collectGarbage, printResults, type Result, rssMb, seedUsers, spawnApi, throwawayDatabase } from "./lib.ts";

const { values: args } = parseArgs({ options: { concurrent: { type: "string", default: "3" } } });
const CONCURRENT = Math.max(1, Number(args.concurrent));
const TARGET_MB = 300;
const line = (...cells: string[]) =>
  console.log(cells.map((c, i) => (i === 0 ? c.padEnd(52) : c.padStart(12))).join(" "));

interface Case {
  name: string;
  type: "image/png" | "image/jpeg" | "image/webp";
  make(width: number, height: number): Sharp;
}

const solid = (width: number, height: number, channels: 3 | 4 = 3) =>
  sharp({ create: { width, height, channels, background: { r: 200, g: 120, b: 40, alpha: 1 } } });

const CASES: Case[] = [
  { name: "PNG, 8-bit RGB", type: "image/png", make: (w, h) => solid(w, h).png() },
  { name: "PNG, 16-bit RGBA", type: "image/png", make: (w, h) => solid(w, h, 4).toColourspace("rgb16").png() },
  {
    name: "PNG, 16-bit RGBA, interlaced",
    type: "image/png",
    make: (w, h) => solid(w, h, 4).toColourspace("rgb16").png({ progressive: true }),
  },
  {
    name: "PNG, 8-bit RGB, interlaced, EXIF-rotated",
    type: "image/png",
    make: (w, h) => solid(w, h).png({ progressive: true }).withMetadata({ orientation: 6 }),
  },
  { name: "JPEG, baseline 4:2:0", type: "image/jpeg", make: (w, h) => solid(w, h).jpeg({ quality: 90 }) },
  {
    name: "JPEG, baseline, EXIF-rotated",
    type: "image/jpeg",
    make: (w, h) => solid(w, h).jpeg({ quality: 90 }).withMetadata({ orientation: 6 }),
  },
  {
    name: "JPEG, progressive 4:2:0",
    type: "image/jpeg",
    make: (w, h) => solid(w, h).jpeg({ progressive: true, chromaSubsampling: "4:2:0" }),
  },
  {
    name: "JPEG, progressive 4:4:4",
    type: "image/jpeg",
    make: (w, h) => solid(w, h).jpeg({ progressive: true, chromaSubsampling: "4:4:4", quality: 100 }),
  },
  { name: "WebP, lossless", type: "image/webp", make: (w, h) => solid(w, h).webp({ lossless: true }) },
  { name: "WebP, lossy", type: "image/webp", make: (w, h) => solid(w, h).webp({ quality: 90 }) },
];

/** A 4:3 size of at most `pixels`. */
function sizeFor(pixels: number): [number, number] {
  const width = Math.floor(Math.sqrt((pixels * 4) / 3));
  return [width, Math.floor(pixels / width)];
}

/** The largest image of this kind the api accepts: the shape limits, then the decode budget's. */
async function worst(kind: Case): Promise<{ bytes: Buffer; width: number; height: number }> {
  const probe = await kind.make(64, 48).toBuffer();
  const { perPixel } = decodeCost(await sharp(probe).metadata());
  const budgetPixels = (DECODE_BUDGET_BYTES - DECODE_FIXED_BYTES) / perPixel;
  const [width, height] = sizeFor(Math.min(PHOTO_LIMITS.maxPixels, budgetPixels) * 0.995);
  return { bytes: await kind.make(width, height).toBuffer(), width, height };
}

/** The process's peak resident memory (MB) since the last reset. */
function peakMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/^VmHWM:\s+(\d+) kB/m.exec(status)?.[1] ?? 0) / 1024;
}
const resetPeak = (pid: number) => writeFileSync(`/proc/${pid}/clear_refs`, "5");

async function main() {
  const services = await resolveServices(env, dataDir);
  const database = await throwawayDatabase(services.databaseUrl);
  const pg = createPg(database.url, { max: 4, applicationName: "faceapp-bench" });
  const api = await spawnApi(database.url, services.s3, { UPLOAD_RATE_LIMIT_PER_USER: "1000" });
  const results: Result[] = [];
  try {
    const users = await seedUsers(pg.sql, CONCURRENT);
    const call = async (token: string, method: string, route: string, body?: unknown) => {
      const res = await fetch(`${api.url}${route}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body ? { "content-type": "application/json" } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      });
      if (!res.ok) throw new Error(`${method} ${route}: ${res.status} ${await res.text()}`);
      return (await res.json()) as Record<string, unknown>;
    };
    /** Uploads through the presigned POST, as a browser does; the upload id. */
    const upload = async (token: string, type: string, bytes: Buffer) => {
      const ticket = await call(token, "POST", "/v1/uploads", { contentType: type, byteSize: bytes.length });
      const form = new FormData();
      for (const [k, v] of Object.entries(ticket.fields as Record<string, string>)) form.append(k, v);
      form.append("file", new Blob([new Uint8Array(bytes)], { type }));
      const put = await fetch(String(ticket.url), { method: "POST", body: form });
      if (!put.ok) throw new Error(`upload to S3: ${put.status}`);
      return String(ticket.id);
    };
    /** Completes the uploads at once; the peak above the resident memory just before, and the outcomes. */
    const measure = async (ids: { token: string; id: string }[]) => {
      await collectGarbage(api.pid);
      const before = rssMb(api.pid);
      resetPeak(api.pid);
      const t0 = performance.now();
      const done = await Promise.all(ids.map((u) => call(u.token, "POST", `/v1/uploads/${u.id}/complete`)));
      const seconds = (performance.now() - t0) / 1000;
      return { before, above: peakMb(api.pid) - before, seconds, done };
    };

    // Warm-up: the route's code, libvips and the pools, on a small photo.
    const small = await solid(640, 480).jpeg().toBuffer();
    await measure([{ token: users[0]!.token, id: await upload(users[0]!.token, "image/jpeg", small) }]);
    await collectGarbage(api.pid);
    const idle = rssMb(api.pid);
    line("api idle (after a warm-up and a full GC)", `${idle.toFixed(0)} MB`);
    line("case", "size", "file", "outcome", "peak above", "seconds");

    let costliest: { kind: Case; bytes: Buffer; above: number } | null = null;
    for (const kind of CASES) {
      const { bytes, width, height } = await worst(kind);
      const id = await upload(users[0]!.token, kind.type, bytes);
      const { above, seconds, done } = await measure([{ token: users[0]!.token, id }]);
      const outcome = String(done[0]!.status === "ready" ? "ready" : done[0]!.rejectReason).slice(0, 12);
      line(
        kind.name,
        `${width}×${height}`,
        `${(bytes.length / 1024).toFixed(0)} KB`,
        outcome,
        `${above.toFixed(0)} MB`,
        seconds.toFixed(1),
      );
      results.push({
        name: `${kind.name} ${((width * height) / 1e6).toFixed(1)} MP: peak above idle`,
        value: above,
        unit: "MB",
        target: `< ${TARGET_MB}`,
        met: above < TARGET_MB && done[0]!.status === "ready",
      });
      if (!costliest || above > costliest.above) costliest = { kind, bytes, above };
    }

    // The costliest kind, by several users at once: the decode budget makes them take turns.
    const worstKind = costliest!;
    const ids = await Promise.all(
      users.map(async (u) => ({ token: u.token, id: await upload(u.token, worstKind.kind.type, worstKind.bytes) })),
    );
    const together = await measure(ids);
    const ready = together.done.filter((d) => d.status === "ready").length;
    line(
      `${CONCURRENT} × ${worstKind.kind.name} at once`,
      "",
      "",
      `${ready} ready`,
      `${together.above.toFixed(0)} MB`,
      together.seconds.toFixed(1),
    );
    results.push({
      name: `${CONCURRENT} × ${worstKind.kind.name} at once: peak above idle`,
      value: together.above,
      unit: "MB",
      target: `< ${TARGET_MB}`,
      met: together.above < TARGET_MB && ready === CONCURRENT,
    });
    const after = rssMb(api.pid);
    line("api resident memory at the end", `${after.toFixed(0)} MB`);
  } finally {
    await api.stop();
    await pg.close();
    await database.drop();
    await services.stop();
  }
  printResults(results);
}

await main();
