// The runners' part of the personalisation state machine, from every status: each action of core's
// table that the runners make (personalizationMoves, `by: "runners"`) is made through the code that
// makes it in production (a task's run and final failure, a page's completion or failure), and the
// personalisation moves exactly where the table says, or stays where it is.
import { randomUUID } from "node:crypto";
import {
  createPostgresBus,
  createS3Client,
  movesTo,
  movesFrom,
  type PersonalizationAction,
  type PersonalizationStatus,
  personalizationMoves,
  personalizationStatuses,
  putObjectBytes,
} from "@faceapp/core";
import { seedBook, useTestBucket, useTestDatabase } from "@faceapp/testkit";
import { sql } from "kysely";
import pino from "pino";
import { beforeAll, describe, expect, it } from "vitest";
import { completePage, failPage } from "../../src/pipeline/pages.ts";
import type { TaskContext } from "../../src/runtime/task.ts";
import analyzePhoto from "../../src/tasks/analyze_photo.ts";
import assemblePrint from "../../src/tasks/assemble_print.ts";
import type { GpuDeps, RenderDeps } from "../../src/tasks/deps.ts";
import { noWebhooks } from "../../src/webhooks/deliver.ts";

const t = useTestDatabase();
const bucket = useTestBucket();

/** Test doubles only for what cannot be real here (the face analysis) or is not what is tested (PDFs). */
function context(): TaskContext<GpuDeps & RenderDeps> {
  const unused = async () => {
    throw new Error("not used by this test");
  };
  const logger = pino({ level: "silent" });
  return {
    deps: {
      pg: t,
      s3: createS3Client(bucket),
      s3Config: bucket,
      bus: createPostgresBus(t.sql),
      logger,
      analyzer: {
        analyze: async () => ({
          ok: true,
          analysis: { face: { score: 0.9 } },
          faceCrop: Buffer.from("crop"),
          prompt: "a child",
        }),
      },
      faceEngine: { name: "unused", personalize: unused },
      likeness: { describe: async () => null },
      renderer: { render: unused, close: async () => {} },
      assembler: { assemble: async () => {} },
      webhooks: noWebhooks,
    },
    log: logger,
    signal: new AbortController().signal,
    job: { id: "1", attempt: 1, maxAttempts: 1 },
  };
}

/** Statuses past analysis hold one (personalizations_analysis_present). */
const HAS_ANALYSIS: PersonalizationStatus[] = [
  "analyzed",
  "preview_generating",
  "preview_ready",
  "full_generating",
  "completed",
];

let ownerId = "";
let bookId = "";
let photoId = "";
beforeAll(async () => {
  await seedBook(t, bucket, { slug: "moves-book" });
  bookId = (await t.db.selectFrom("app.books").select("id").where("slug", "=", "moves-book").executeTakeFirstOrThrow())
    .id;
  ownerId = (
    await t.db
      .insertInto("app.users")
      .values({ email: "moves@example.com", password_hash: "$scrypt$test" })
      .returning("id")
      .executeTakeFirstOrThrow()
  ).id;
  photoId = randomUUID();
  const key = `uploads/${photoId}`;
  await putObjectBytes(createS3Client(bucket), bucket.bucket, key, Buffer.from("a photo"), "image/png");
  await sql`insert into app.uploads (id, owner_id, object_key, content_type, declared_bytes, status, width, height,
    bytes, sha256, verified_at) values (${photoId}, ${ownerId}, ${key}, 'image/png', 7, 'ready', 1, 1, 7,
    ${"0".repeat(64)}, now())`.execute(t.db);
});

/** A personalisation in `status`, with one open page of `stage` when the action works on a page. */
async function inStatus(status: PersonalizationStatus, stage: "preview" | "full") {
  const analysis = HAS_ANALYSIS.includes(status) ? { face: { score: 0.9 } } : null;
  const { id, generation } = await t.db
    .insertInto("app.personalizations")
    .values({ owner_id: ownerId, book_id: bookId, photo_upload_id: photoId, seed: 1, status, analysis })
    .returning(["id", "generation"])
    .executeTakeFirstOrThrow();
  await t.db
    .insertInto("app.personalization_pages")
    .values({
      personalization_id: id,
      stage,
      page: "page_2",
      generation,
      needs_face: false,
      seed: 1,
      status: "rendering",
    })
    .execute();
  return { personalizationId: id, stage, page: "page_2" as const, generation };
}

/** Each runners' action, made as production makes it. */
const MAKE: Record<
  string,
  { stage: "preview" | "full"; make(key: Awaited<ReturnType<typeof inStatus>>): Promise<unknown> }
> = {
  analysis_succeeded: {
    stage: "preview",
    make: (k) => analyzePhoto.run({ personalizationId: k.personalizationId, photoUploadId: photoId }, context()),
  },
  analysis_failed: {
    stage: "preview",
    make: (k) =>
      analyzePhoto.onFinalFailure!(
        { personalizationId: k.personalizationId, photoUploadId: photoId },
        "no face",
        context(),
      ),
  },
  preview_finished: {
    stage: "preview",
    make: (k) => completePage(t, context().deps.bus, k, { printKey: "print.jpg", webKey: "web.jpg" }),
  },
  preview_failed: { stage: "preview", make: (k) => failPage(t, context().deps.bus, k, "the page broke") },
  print_finished: {
    stage: "full",
    // The print files are made from finished pages only.
    make: async (k) => {
      await sql`update app.personalization_pages set status = 'done', print_key = 'p', web_key = 'w'
        where personalization_id = ${k.personalizationId}`.execute(t.db);
      return assemblePrint.run({ personalizationId: k.personalizationId }, context());
    },
  },
  full_failed: { stage: "full", make: (k) => failPage(t, context().deps.bus, k, "the page broke") },
};

/** The same action's other maker: the print files failing for good fail the full stage too. */
const ALSO: Record<string, (typeof MAKE)[string]> = {
  full_failed: {
    stage: "full",
    make: (k) => assemblePrint.onFinalFailure!({ personalizationId: k.personalizationId }, "pdf broke", context()),
  },
};

const statusOf = async (id: string) =>
  (await t.db.selectFrom("app.personalizations").select("status").where("id", "=", id).executeTakeFirstOrThrow())
    .status;

describe("the runners' moves", () => {
  it("are made here, every one the table gives the runners", () => {
    const runners = Object.entries(personalizationMoves)
      .filter(([, m]) => m.by === "runners")
      .map(([action]) => action);
    expect(Object.keys(MAKE).sort()).toEqual(runners.sort());
  });

  const cases = [
    ...Object.entries(MAKE).map(([action, m]) => [action, action, m] as const),
    ...Object.entries(ALSO).map(([action, m]) => [`${action} (print files)`, action, m] as const),
  ];
  describe.each(cases)("%s", (_, action, maker) => {
    it.each(personalizationStatuses)("from %s", async (status) => {
      const key = await inStatus(status, maker.stage);
      await maker.make(key);
      const allowed = movesFrom(action as PersonalizationAction).includes(status);
      expect(await statusOf(key.personalizationId)).toBe(allowed ? movesTo(action as PersonalizationAction) : status);
    });
  });
});
