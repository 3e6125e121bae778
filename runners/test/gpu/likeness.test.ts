// The likeness check of face pages through the real gpu runner tasks: analyze_photo keeps the photo's
// face descriptor, personalize_page draws with the ComfyUI engine against the ComfyUI double, which is
// told whose face to return (the child's face crop, or a stranger's from another fixture photo), and
// the page row, its REST-visible flag and the runner's metrics say what happened.
import { randomUUID } from "node:crypto";
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { createPostgresBus, createS3Client, putObjectBytes, transition } from "@faceapp/core";
import { fixturePath, seedBook, useTestBucket, useTestDatabase } from "@faceapp/testkit";
import { sql } from "kysely";
import pino from "pino";
import { Registry } from "prom-client";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type ComfyDouble, startComfyDouble } from "../../../testkit/src/doubles/comfyui.ts";
import { createGpuCapabilities, faceWorkflowParams } from "../../src/gpu/index.ts";
import {
  euclidean,
  faceRegion,
  LIKENESS_MAX_DISTANCE,
  likenessPages,
  redrawSeed,
  registerLikenessMetrics,
} from "../../src/pipeline/likeness.ts";
import { startHealthServer } from "../../src/runtime/health.ts";
import type { TaskContext } from "../../src/runtime/task.ts";
import analyzePhoto from "../../src/tasks/analyze_photo.ts";
import type { GpuDeps, GpuEngines } from "../../src/tasks/deps.ts";
import personalizePage from "../../src/tasks/personalize_page.ts";
import { gpuEnv } from "./gpu-env.ts";

// Real face-api models on a busy 2-core machine: the limit guards against hangs only.
vi.setConfig({ testTimeout: 180_000, hookTimeout: 180_000 });

const t = useTestDatabase();
const bucket = useTestBucket();
const SLUG = "likeness-book";
const PAGE_SEED = 4242;

let double: ComfyDouble;
let gpu: GpuEngines;
/** Faces the double returns, one per prompt, in order; once empty, the child's face crop it was sent. */
const script: Buffer[] = [];
/** The KSampler seed of each prompt the double ran. */
const seeds: number[] = [];
let stranger: Buffer;
let ownerId = "";
let bookId = "";

beforeAll(async () => {
  double = await startComfyDouble({
    progressSteps: 1,
    render: (graph, input) => {
      seeds.push(Number(graph[faceWorkflowParams.seed.node]?.inputs.seed));
      const child = input(String(graph[faceWorkflowParams.childImage.node]?.inputs.image));
      const face = script.shift() ?? child;
      if (!face) throw new Error("the double was sent no child image");
      return face;
    },
  });
  gpu = await createGpuCapabilities(gpuEnv({ FACE_ENGINE: "comfyui", COMFY_BASE_URL: double.url }));
  // Another person (testkit/fixtures/photos/README.md): the photographer's photo as the "drawn" page.
  stranger = await readFile(fixturePath("face-camera-small.png"));
  await seedBook(t, bucket, { slug: SLUG, facePages: [1] });
  bookId = (await t.db.selectFrom("app.books").select("id").where("slug", "=", SLUG).executeTakeFirstOrThrow()).id;
  ownerId = (
    await t.db
      .insertInto("app.users")
      .values({ email: "likeness@example.com", password_hash: "$scrypt$test" })
      .returning("id")
      .executeTakeFirstOrThrow()
  ).id;
});

afterAll(async () => {
  await gpu?.close();
  await double?.close();
});

function context(over: Partial<GpuDeps> = {}): TaskContext<GpuDeps> {
  const logger = pino({ level: "silent" });
  return {
    deps: {
      pg: t,
      s3: createS3Client(bucket),
      s3Config: bucket,
      bus: createPostgresBus(t.sql),
      logger,
      analyzer: gpu.analyzer,
      faceEngine: gpu.faceEngine,
      likeness: gpu.likeness,
      ...over,
    },
    log: logger,
    signal: new AbortController().signal,
    job: { id: "1", attempt: 1, maxAttempts: 3 },
  };
}

/** A personalisation of the astronaut's photo analysed by analyze_photo, its face page 1 queued. */
async function analysedWithFacePage(ctx = context()) {
  const photoId = randomUUID();
  const key = `uploads/${photoId}`;
  const photo = await readFile(fixturePath("face-astronaut.png"));
  await putObjectBytes(createS3Client(bucket), bucket.bucket, key, photo, "image/png");
  await sql`insert into app.uploads (id, owner_id, object_key, content_type, declared_bytes, status, width, height,
    bytes, sha256, verified_at) values (${photoId}, ${ownerId}, ${key}, 'image/png', ${photo.length}, 'ready', 512,
    512, ${photo.length}, ${"0".repeat(64)}, now())`.execute(t.db);
  const { id } = await t.db
    .insertInto("app.personalizations")
    .values({ owner_id: ownerId, book_id: bookId, photo_upload_id: photoId, seed: 1, status: "analyzing" })
    .returning("id")
    .executeTakeFirstOrThrow();
  await analyzePhoto.run({ personalizationId: id, photoUploadId: photoId }, ctx);
  const row = await t.db
    .selectFrom("app.personalizations")
    .select(["status", "photo_descriptor", "generation"])
    .where("id", "=", id)
    .executeTakeFirstOrThrow();
  expect(row.status).toBe("analyzed");
  await t.db.updateTable("app.personalizations").set({ status: "preview_generating" }).where("id", "=", id).execute();
  await t.db
    .insertInto("app.personalization_pages")
    .values({
      personalization_id: id,
      stage: "preview",
      page: "page_1",
      generation: row.generation,
      needs_face: true,
      seed: PAGE_SEED,
    })
    .execute();
  return {
    descriptor: row.photo_descriptor,
    key: { personalizationId: id, stage: "preview" as const, page: "page_1", generation: row.generation },
  };
}

async function pageRow(personalizationId: string) {
  return t.db
    .selectFrom("app.personalization_pages")
    .select(["status", "background_key", "likeness_distance", "likeness_redrawn", "likeness_flagged"])
    .where("personalization_id", "=", personalizationId)
    .where("page", "=", "page_1")
    .executeTakeFirstOrThrow();
}

async function counted(outcome: string): Promise<number> {
  const metric = await likenessPages.get();
  return metric.values.find((v) => v.labels.outcome === outcome)?.value ?? 0;
}

describe("the likeness check of a face page", () => {
  it("keeps the photo's 128-number descriptor at analysis, and passes a page drawn with the child's face at once", async () => {
    const { descriptor, key } = await analysedWithFacePage();
    expect(descriptor).toHaveLength(128);
    const passed = await counted("passed");
    seeds.length = 0;
    await personalizePage.run(key, context());
    const row = await pageRow(key.personalizationId);
    expect(row).toMatchObject({ status: "rendering", likeness_redrawn: false, likeness_flagged: false });
    expect(row.likeness_distance).toBeLessThan(LIKENESS_MAX_DISTANCE);
    expect(seeds).toEqual([PAGE_SEED]);
    expect(await counted("passed")).toBe(passed + 1);
  });

  it("forgets the photo's descriptor with its analysis when the photo is replaced", async () => {
    const { key } = await analysedWithFacePage();
    await t.db
      .updateTable("app.personalizations")
      .set({ status: "preview_ready" })
      .where("id", "=", key.personalizationId)
      .execute();
    await t.db
      .transaction()
      .execute((tx) => transition(tx, key.personalizationId, "replace_photo", { analysis: null }));
    const row = await t.db
      .selectFrom("app.personalizations")
      .select(["status", "analysis", "photo_descriptor"])
      .where("id", "=", key.personalizationId)
      .executeTakeFirstOrThrow();
    expect(row).toEqual({ status: "analyzing", analysis: null, photo_descriptor: null });
  });

  it("redraws once with the derived seed when the first drawing is a stranger, and keeps the redraw that is the child", async () => {
    const { key } = await analysedWithFacePage();
    const before = await counted("passed_after_redraw");
    seeds.length = 0;
    script.push(stranger);
    await personalizePage.run(key, context());
    const row = await pageRow(key.personalizationId);
    expect(row).toMatchObject({ status: "rendering", likeness_redrawn: true, likeness_flagged: false });
    expect(row.likeness_distance).toBeLessThan(LIKENESS_MAX_DISTANCE);
    expect(seeds).toEqual([PAGE_SEED, redrawSeed(PAGE_SEED)]);
    expect(redrawSeed(PAGE_SEED)).not.toBe(PAGE_SEED);
    expect(await counted("passed_after_redraw")).toBe(before + 1);
  });

  it("keeps and flags a page still a stranger after its redraw, with the stranger's distance", async () => {
    const { key } = await analysedWithFacePage();
    const before = await counted("flagged");
    seeds.length = 0;
    script.push(stranger, stranger);
    await personalizePage.run(key, context());
    const row = await pageRow(key.personalizationId);
    expect(row).toMatchObject({ status: "rendering", likeness_redrawn: true, likeness_flagged: true });
    expect(row.background_key).not.toBeNull();
    expect(row.likeness_distance).toBeGreaterThan(LIKENESS_MAX_DISTANCE);
    expect(seeds).toHaveLength(2);
    expect(await counted("flagged")).toBe(before + 1);
    // Operators read it on the runner's health port.
    const registry = new Registry();
    registerLikenessMetrics(registry);
    const health = await startHealthServer(0, async () => ({}), registry);
    const metrics = await (await fetch(`http://127.0.0.1:${health.port}/metrics`)).text();
    await health.close();
    expect(metrics).toMatch(/faceapp_likeness_distance_count\{draw="redraw"\} [1-9]/);
    expect(metrics).toMatch(/faceapp_likeness_pages_total\{outcome="flagged"\} [1-9]/);
  });

  it("counts a drawing with no face on it as unlike: redrawn, then flagged with no distance", async () => {
    const { key } = await analysedWithFacePage();
    const blank = await sharp({ create: { width: 512, height: 512, channels: 3, background: "#ff00ff" } })
      .png()
      .toBuffer();
    script.push(blank, blank);
    await personalizePage.run(key, context());
    expect(await pageRow(key.personalizationId)).toMatchObject({
      status: "rendering",
      likeness_redrawn: true,
      likeness_flagged: true,
      likeness_distance: null,
    });
  });

  it("keeps a page whose likeness cannot be measured: unmeasured, not flagged, not redrawn, counted", async () => {
    const { key } = await analysedWithFacePage();
    const before = await counted("not_measured");
    seeds.length = 0;
    script.push(stranger);
    const broken = {
      describe: async () => {
        throw new Error("the recogniser broke");
      },
    };
    await personalizePage.run(key, context({ likeness: broken }));
    expect(await pageRow(key.personalizationId)).toMatchObject({
      status: "rendering",
      likeness_redrawn: false,
      likeness_flagged: false,
      likeness_distance: null,
    });
    expect(seeds).toHaveLength(1);
    expect(await counted("not_measured")).toBe(before + 1);
  });
});

describe("the threshold (docs/likeness.md)", () => {
  it("lies between the child's drawn pages and a stranger's, measured as the runner measures", async () => {
    // A page drawn as the demo books draw a child: a flat skin head, hair cap and fringe, dot eyes, a smile.
    const [W, H] = [640, 600];
    const page = await sharp(
      Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}">
<rect width="${W}" height="${H}" fill="#fde0c0"/>
<path d="M 194 260 A 126 132 0 0 1 446 260 Z" fill="#6f4e37"/><circle cx="320" cy="270" r="120" fill="#f2c9a0"/>
<circle cx="278" cy="260" r="11" fill="#222"/><circle cx="362" cy="260" r="11" fill="#222"/>
<path d="M 278 308 q 42 36 84 0" stroke="#9d4b3a" stroke-width="10" fill="none"/>
<path d="M 200 248 Q 320 104 440 248 Q 320 188 200 248 Z" fill="#6f4e37"/></svg>`),
    )
      .removeAlpha()
      .png()
      .toBuffer();
    const mask = await sharp(
      Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}">
<rect width="${W}" height="${H}"/><ellipse cx="320" cy="270" rx="138" ry="156" fill="#fff"/></svg>`),
    )
      .removeAlpha()
      .png()
      .toBuffer();
    const composite = await createGpuCapabilities(gpuEnv());
    const signal = new AbortController().signal;
    const analysed = await composite.analyzer.analyze(await readFile(fixturePath("face-astronaut.png")), { signal });
    if (!analysed.ok) throw new Error(analysed.message);
    // As analyze_photo keeps it, and as personalize_page measures a drawing.
    const photo = (await composite.likeness.describe(analysed.faceCrop))!;
    const strangerPhoto = (await composite.likeness.describe(stranger))!;
    const measure = async (image: Buffer, against: number[]) => {
      const { width, height } = await sharp(image).metadata();
      const found = await composite.likeness.describe(image, await faceRegion(mask, width!, height!));
      return found ? euclidean(against, found) : Number.POSITIVE_INFINITY;
    };
    const same: number[] = [];
    const strangerToDrawn: number[] = [];
    const draw = (seed: number) =>
      composite.faceEngine.personalize({
        photo: Buffer.alloc(0),
        faceCrop: analysed.faceCrop,
        analysis: JSON.parse(JSON.stringify(analysed.analysis)),
        illustration: page,
        mask,
        prompt: analysed.prompt,
        negativePrompt: "",
        seed,
        signal,
        onProgress: () => {},
      });
    /** Of each page seed: its first drawing's distance, and the kept one's (the better of it and its redraw). */
    const kept: number[] = [];
    for (const seed of [1, 2, 3, 4, 5, 6]) {
      const first = await draw(seed);
      const distance = await measure(first, photo);
      same.push(distance);
      strangerToDrawn.push(await measure(first, strangerPhoto));
      kept.push(
        distance <= LIKENESS_MAX_DISTANCE
          ? distance
          : Math.min(distance, await measure(await draw(redrawSeed(seed)), photo)),
      );
    }
    // The double's outputs: the child's face crop, and the stranger's photo.
    const doubleSame = await measure(analysed.faceCrop, photo);
    const doubleStranger = await measure(stranger, photo);
    await composite.close();
    const round = (xs: number[]) => xs.map((x) => Math.round(x * 1000) / 1000);
    console.info("likeness distances (docs/likeness.md):", {
      compositeChild: round(same),
      compositeChildKept: round(kept),
      compositeAgainstStranger: round(strangerToDrawn),
      doubleChild: round([doubleSame]),
      doubleStranger: round([doubleStranger]),
    });
    // The child's kept pages pass; every stranger is over the line (the gap: docs/likeness.md).
    for (const d of [...kept, doubleSame]) expect(d).toBeLessThan(LIKENESS_MAX_DISTANCE);
    for (const d of [...strangerToDrawn, doubleStranger]) expect(d).toBeGreaterThan(LIKENESS_MAX_DISTANCE);
  });
});

/**
 * Whether this thread has loaded tfjs (face-api's node bundle loads it): tfjs-core keeps its engine on
 * the global object (`_tfengine`) once loaded, and Node's module cache holds what was required.
 */
function tfjsInThisThread(): boolean {
  const required = Object.keys(createRequire(import.meta.url).cache);
  return "_tfengine" in globalThis || required.some((file) => /@tensorflow|@vladmandic[/\\]face-api/.test(file));
}

describe("where the recogniser runs", () => {
  it("in face-api's worker thread, never the runner's main thread, and the worker's idle end frees it", async () => {
    const runner = await createGpuCapabilities(
      gpuEnv({ FACE_ENGINE: "comfyui", COMFY_BASE_URL: double.url }),
      undefined,
      { faceApiIdleMs: 500 },
    );
    try {
      const ctx = context({ analyzer: runner.analyzer, faceEngine: runner.faceEngine, likeness: runner.likeness });
      // The photo's detection and descriptor at analysis, then a stranger and the child's redraw measured.
      const { descriptor, key } = await analysedWithFacePage(ctx);
      expect(descriptor).toHaveLength(128);
      script.push(stranger);
      await personalizePage.run(key, ctx);
      const row = await pageRow(key.personalizationId);
      expect(row).toMatchObject({ status: "rendering", likeness_redrawn: true, likeness_flagged: false });
      expect(row.likeness_distance).toBeLessThan(LIKENESS_MAX_DISTANCE);
      expect(runner.faceApi.threads().started).toBeGreaterThan(0);
      // The limit guards against a hang only: the worker ends half a second after its last request.
      await expect.poll(() => runner.faceApi.threads().running, { timeout: 60_000, interval: 100 }).toBe(false);
    } finally {
      await runner.close();
    }
    // Every measurement of this file (the runner's above, the threshold's, the tasks') went to the
    // worker: this thread never loaded tfjs.
    expect(tfjsInThisThread()).toBe(false);
  });
});
