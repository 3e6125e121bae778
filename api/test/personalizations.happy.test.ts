import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { ListObjectsV2Command } from "@aws-sdk/client-s3";
import sharp from "sharp";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { getObjectBytes } from "@faceapp/core";
import { redisUrl, serviceEnv, spawnRunner, type Spawned } from "@faceapp/testkit";
import {
  bearer,
  body,
  jsonInit,
  signUp,
  useApi,
  book,
  createPersonalization,
  readEvents,
  readyPhoto,
  waitForStatus,
} from "@faceapp/testkit/api";

// The whole pipeline through real runner processes: the api here, one gpu and one render runner.
// Real work on a busy 2-core machine: the limit guards against hangs, it is no performance claim.
vi.setConfig({ testTimeout: 120_000 });
const api = useApi({ env: { SSE_HEARTBEAT_SECONDS: "1" } });
const runners: Spawned[] = [];

beforeAll(async () => {
  await book(api, { slug: "moon", facePages: [1], previewPages: [1, 2] });
  const env = serviceEnv(api.pg.url, api.s3Config, redisUrl);
  runners.push(...(await Promise.all([spawnRunner("gpu", env), spawnRunner("render", env)])));
}, 120_000);

afterAll(async () => {
  await Promise.all(runners.map((r) => r.stop()));
});

// When a step fails, the runners' last log lines say what they were doing.
afterEach(({ task }) => {
  if (task.result?.state !== "fail") return;
  for (const [i, runner] of runners.entries())
    console.error(`runner ${i} log tail:`, JSON.stringify(runner.logs.slice(-30), null, 1));
});

describe("a personalisation", () => {
  let token: string;
  let id: string;

  it("is analysed after its photo is uploaded", async () => {
    const user = await signUp(api.app);
    token = user.token;
    const photo = await readyPhoto(api.app, token);
    const res = await createPersonalization(api.app, token, "moon", photo);
    expect(res.status).toBe(202);
    const created = await body(res);
    expect(created.status).toBe("analyzing");
    id = created.id;
    const analyzed = await waitForStatus(api.app, token, id, ["analyzed", "analysis_failed"]);
    expect(analyzed.status).toBe("analyzed");
    expect(analyzed.analysis).toMatchObject({ ok: true });
    expect(JSON.stringify(analyzed.analysis)).not.toContain("faceCropKey");
  });

  it("streams its preview pages as they finish, then preview_ready", async () => {
    const stream = await api.app.request(`/v1/personalizations/${id}/events`, { headers: bearer(token) });
    expect(stream.status).toBe(200);
    expect(stream.headers.get("content-type")).toContain("text/event-stream");
    const generate = await api.app.request(
      `/v1/personalizations/${id}/generate`,
      jsonInit("POST", { childName: "Zoë", childAge: 5 }, bearer(token)),
    );
    expect(generate.status).toBe(202);
    const { events } = await readEvents(stream, (evs) =>
      evs.some((e) => e.event === "status" && e.data.status === "preview_ready"),
    );
    const statuses = events.filter((e) => e.event === "status").map((e) => e.data.status);
    expect(statuses).toEqual(["analyzing", "analyzed", "preview_generating", "preview_ready"]);
    const done = events.filter((e) => e.event === "page" && e.data.state === "done");
    expect(done.map((e) => e.data.page).sort()).toEqual(["cover_front", "page_1", "page_2"]);
    expect(events.find((e) => e.event === "analysis")?.data).toMatchObject({ ok: true });
    // Every persisted event has an increasing id; the page image is a real JPEG behind its URL.
    const ids = events.filter((e) => e.id).map((e) => BigInt(e.id as string));
    expect([...ids].sort((a, b) => (a < b ? -1 : 1))).toEqual(ids);
    const image = await fetch(done[0]?.data.webUrl);
    expect(image.status).toBe(200);
    expect(Buffer.from(await image.arrayBuffer()).subarray(0, 3)).toEqual(Buffer.from([0xff, 0xd8, 0xff]));
    expect(JSON.stringify(events)).not.toContain("webKey");

    const view = await body(await api.app.request(`/v1/personalizations/${id}`, { headers: bearer(token) }));
    expect(view.status).toBe("preview_ready");
    expect(view.pages.filter((p: { webUrl: string | null }) => p.webUrl)).toHaveLength(3);
    expect(view.regenerationsLeft).toBe(3);
    // The likeness check (docs/likeness.md): the face page measured against the photo, the others not.
    const likeness = Object.fromEntries(
      view.pages.map((p: { page: string; likeness: unknown }) => [p.page, p.likeness]),
    );
    // The test book's 96-pixel face region is too small to measure: kept unmeasured, never flagged.
    expect(likeness.page_1).toEqual({ distance: null, flagged: false });
    expect(likeness.page_2).toEqual({ distance: null, flagged: false });
    expect(done.find((e) => e.data.page === "page_1")?.data).toMatchObject({ likenessFlagged: false });
  });

  it("replays after Last-Event-ID without missing or repeating anything", async () => {
    const all = await api.pg.db
      .selectFrom("app.events")
      .select(["id", "type"])
      .where("personalization_id", "=", id)
      .orderBy("id")
      .execute();
    expect(all.length).toBeGreaterThan(5);
    const cut = all[2]!.id;
    const resumed = await api.app.request(`/v1/personalizations/${id}/events`, {
      headers: { ...bearer(token), "last-event-id": cut },
    });
    const { events } = await readEvents(resumed, (evs) => evs.filter((e) => e.id).length >= all.length - 3);
    expect(events.filter((e) => e.id).map((e) => e.id)).toEqual(all.slice(3).map((e) => e.id));
    // Caught up: nothing more is sent but heartbeat comments.
    const quiet = await api.app.request(`/v1/personalizations/${id}/events`, {
      headers: { ...bearer(token), "last-event-id": all.at(-1)!.id },
    });
    const idle = await readEvents(quiet, (_evs, comments) => comments.length >= 2);
    expect(idle.events).toEqual([]);
    expect(idle.comments).toEqual(["heartbeat", "heartbeat"]);
  });

  it("names in its view the last event the view shows, and streams only what came after it", async () => {
    const all = await api.pg.db
      .selectFrom("app.events")
      .select(["id"])
      .where("personalization_id", "=", id)
      .orderBy("id")
      .execute();
    const view = await body(await api.app.request(`/v1/personalizations/${id}`, { headers: bearer(token) }));
    expect(view.lastEventId).toBe(all.at(-1)!.id);
    const list = await body(await api.app.request("/v1/personalizations", { headers: bearer(token) }));
    expect(list.items.find((p: { id: string }) => p.id === id)?.lastEventId).toBe(view.lastEventId);
    // Opened after the view's last event: nothing replayed, only heartbeats.
    const after = await api.app.request(`/v1/personalizations/${id}/events?after=${view.lastEventId}`, {
      headers: bearer(token),
    });
    const idle = await readEvents(after, (_evs, comments) => comments.length >= 2);
    expect(idle.events).toEqual([]);
    // Opened after an earlier one: exactly the events after it.
    const cut = all[2]!.id;
    const resumed = await api.app.request(`/v1/personalizations/${id}/events?after=${cut}`, {
      headers: bearer(token),
    });
    const { events } = await readEvents(resumed, (evs) => evs.filter((e) => e.id).length >= all.length - 3);
    expect(events.filter((e) => e.id).map((e) => e.id)).toEqual(all.slice(3).map((e) => e.id));
    // The browser's Last-Event-ID (a resume after a drop) is newer than the page's first view: it wins.
    const dropped = await api.app.request(`/v1/personalizations/${id}/events?after=${cut}`, {
      headers: { ...bearer(token), "last-event-id": all.at(-1)!.id },
    });
    expect((await readEvents(dropped, (_evs, comments) => comments.length >= 2)).events).toEqual([]);
    // Anything but an event id is refused with the error envelope.
    for (const bad of ["abc", "-1", "1".repeat(19), ""]) {
      const res = await api.app.request(`/v1/personalizations/${id}/events?after=${bad}`, { headers: bearer(token) });
      expect(res.status, bad).toBe(400);
      expect((await body(res)).error.code).toBe("invalid_input");
    }
    const unknown = await api.app.request(`/v1/personalizations/${id}/events?since=1`, { headers: bearer(token) });
    expect(unknown.status).toBe(400);
  });

  it("regenerates with new seeds, counting down", async () => {
    const before = await api.pg.db
      .selectFrom("app.personalization_pages")
      .select(["page", "seed", "background_key", "web_key"])
      .where("personalization_id", "=", id)
      .execute();
    // A flag of the likeness check belongs to a drawing: set here on a page no runner measures, it
    // must go with the redraw (docs/likeness.md).
    await api.pg.db
      .updateTable("app.personalization_pages")
      .set({ likeness_flagged: true, likeness_distance: 0.9 })
      .where("personalization_id", "=", id)
      .where("page", "=", "page_2")
      .execute();
    const res = await api.app.request(`/v1/personalizations/${id}/regenerate`, {
      method: "POST",
      headers: bearer(token),
    });
    expect(res.status).toBe(202);
    const ready = await waitForStatus(api.app, token, id, ["preview_ready", "generation_failed"]);
    expect(ready.status).toBe("preview_ready");
    expect(ready.regenerationsLeft).toBe(2);
    expect(ready.pages.find((p: { page: string }) => p.page === "page_2").likeness).toEqual({
      distance: null,
      flagged: false,
    });
    const after = await api.pg.db
      .selectFrom("app.personalization_pages")
      .select(["page", "seed", "generation", "status", "background_key", "web_key"])
      .where("personalization_id", "=", id)
      .execute();
    const { generation } = await api.pg.db
      .selectFrom("app.personalizations")
      .select("generation")
      .where("id", "=", id)
      .executeTakeFirstOrThrow();
    expect(after.every((p) => p.generation === generation && p.status === "done")).toBe(true);
    for (const page of after) expect(page.seed).not.toBe(before.find((b) => b.page === page.page)?.seed);

    // "Draw it again" is a new drawing: the face page's background and web image, as stored, differ
    // visibly from the first generation's inside the face region (the book's mask: a circle of
    // radius 20 around (48, 40) on a 96-pixel page). By how much depends on the two seeds, which the
    // api draws at random: 5.7 % of the region was seen in one run with two alike variants, so the floor
    // here is 1 % (an unchanged drawing differs in none); runners/test/gpu/composite.test.ts holds
    // the 15 % floor at print size for fixed seeds.
    const face = (rows: typeof before) => rows.find((p) => p.page === "page_1")!;
    for (const which of ["background_key", "web_key"] as const) {
      const [first, second] = await Promise.all(
        [face(before), face(after)].map(async (row) => {
          const bytes = await getObjectBytes(api.bucket.client, api.s3Config.bucket, row[which]!);
          return sharp(bytes).removeAlpha().raw().toBuffer({ resolveWithObject: true });
        }),
      );
      const { width, height } = first!.info;
      expect([second!.info.width, second!.info.height]).toEqual([width, height]);
      let region = 0;
      let differing = 0;
      for (let y = 0; y < height; y++) {
        for (let x = 0; x < width; x++) {
          if ((x / width - 0.5) ** 2 + (y / height - 40 / 96) ** 2 > (20 / 96) ** 2) continue;
          region++;
          const i = (y * width + x) * 3;
          const d = Math.max(...[0, 1, 2].map((c) => Math.abs(first!.data[i + c]! - second!.data[i + c]!)));
          if (d > 24) differing++;
        }
      }
      expect(differing / region, which).toBeGreaterThan(0.01);
    }
  }, 120_000);

  it("confirms: every remaining page, then block.pdf, cover.pdf and pages.zip", async () => {
    const early = await api.app.request(`/v1/personalizations/${id}/files/block.pdf`, { headers: bearer(token) });
    expect(early.status).toBe(409);
    const res = await api.app.request(`/v1/personalizations/${id}/confirm`, { method: "POST", headers: bearer(token) });
    expect(res.status).toBe(202);
    const done = await waitForStatus(api.app, token, id, ["completed", "generation_failed"], 180_000);
    expect(done.failureReason).toBeNull();
    expect(done.status).toBe("completed");
    expect(done.pages).toHaveLength(26);
    expect(done.files.map((f: { name: string }) => f.name)).toEqual(["block.pdf", "cover.pdf", "pages.zip"]);
    const redirect = await api.app.request(`/v1/personalizations/${id}/files/block.pdf`, { headers: bearer(token) });
    expect(redirect.status).toBe(302);
    const pdf = Buffer.from(await (await fetch(redirect.headers.get("location") as string)).arrayBuffer());
    expect(pdf.subarray(0, 5).toString()).toBe("%PDF-");
    const file = path.join(os.tmpdir(), `block-${id}.pdf`);
    fs.writeFileSync(file, pdf);
    const info = execFileSync("pdfinfo", [file], { encoding: "utf8" });
    fs.rmSync(file);
    expect(info).toMatch(/Pages:\s+24/);
    expect(info).toMatch(/Page size:\s+612\.2\d x 612\.2\d pts/);
    expect(info).toMatch(/Title:\s+.*Zoë/);
    const events = await api.pg.db
      .selectFrom("app.events")
      .select(["type", "data"])
      .where("personalization_id", "=", id)
      .execute();
    expect(events.filter((e) => e.type === "files")).toHaveLength(1);
    // Only what is read is written: per page the print JPEG (the PDFs' master) and the web image,
    // and for a face page the engine's background.
    const listed = await api.bucket.client.send(
      new ListObjectsV2Command({ Bucket: api.s3Config.bucket, Prefix: `personalizations/${id}/` }),
    );
    const pageFiles = (listed.Contents ?? [])
      .map((o) => o.Key!.split("/"))
      .filter((parts) => parts[2] === "preview" || parts[2] === "full")
      .map((parts) => parts.at(-1));
    expect([...new Set(pageFiles)].sort()).toEqual(["background.png", "print.jpg", "web.jpg"]);
  }, 240_000);

  it("downloads each file as an attachment named after the book and the child, from the store itself", async () => {
    const view = await body(await api.app.request(`/v1/personalizations/${id}`, { headers: bearer(token) }));
    const names = {
      "block.pdf": "Test book moon — Zoë.pdf",
      "cover.pdf": "Test book moon — Zoë — cover.pdf",
      "pages.zip": "Test book moon — Zoë — pages.zip",
    };
    expect(view.files.map((f: { fileName: string }) => f.fileName)).toEqual(Object.values(names));
    // Each page carries its words (for screen readers), the child's name in them, in the book's language.
    const page1 = view.pages.find((p: { page: string }) => p.page === "page_1");
    expect(page1.text).toContain("Zoë");
    expect(view.book.language).toMatch(/^[a-z]{2}$/);
    for (const [file, name] of Object.entries(names)) {
      const redirect = await api.app.request(`/v1/personalizations/${id}/files/${file}`, { headers: bearer(token) });
      expect(redirect.status).toBe(302);
      // What a browser gets from the presigned URL (s3rver answers with the signed override).
      const res = await fetch(redirect.headers.get("location") as string);
      expect(res.status).toBe(200);
      const disposition = res.headers.get("content-disposition") ?? "";
      expect(disposition).toMatch(/^attachment;/);
      const utf8 = /filename\*=UTF-8''([^;]+)/.exec(disposition)?.[1];
      expect(decodeURIComponent(utf8 ?? "")).toBe(name);
      expect(/filename="([^"]+)"/.exec(disposition)?.[1]).toBe(name.replace(/ — /g, " - ").replace("ë", "e"));
      await res.arrayBuffer();
    }
  });

  it("lists newest first with a thumbnail", async () => {
    const list = await body(await api.app.request("/v1/personalizations?limit=1", { headers: bearer(token) }));
    expect(list.items).toHaveLength(1);
    expect(list.items[0].id).toBe(id);
    expect(list.items[0].thumbnailUrl).toMatch(/^http/);
  });
});

describe("a photo the analysis refuses", () => {
  it("ends in analysis_failed with a reason a parent can act on, before any page work", async () => {
    const user = await signUp(api.app);
    const photo = await readyPhoto(api.app, user.token, "noface-coffee.png");
    const { id } = await body(await createPersonalization(api.app, user.token, "moon", photo));
    const failed = await waitForStatus(api.app, user.token, id, ["analyzed", "analysis_failed"]);
    expect(failed.status).toBe("analysis_failed");
    expect(failed.analysis).toMatchObject({ ok: false, code: "no_face" });
    expect(failed.failureReason).toMatch(/face/i);
    // My books shows the refused photo itself (no page is ever drawn for it).
    expect(failed.thumbnailUrl).toBeNull();
    const refusedPhoto = await fetch(failed.photoUrl);
    expect(refusedPhoto.status).toBe(200);
    expect(refusedPhoto.headers.get("content-type")).toMatch(/^image\//);
    const events = await api.pg.db
      .selectFrom("app.events")
      .select(["type", "data"])
      .where("personalization_id", "=", id)
      .orderBy("id")
      .execute();
    expect(events.map((e) => e.type)).toEqual(["status", "status", "analysis"]);
    expect(
      await api.pg.db
        .selectFrom("app.personalization_pages")
        .selectAll()
        .where("personalization_id", "=", id)
        .execute(),
    ).toEqual([]);
    // Another photo can be tried on the same personalisation.
    const again = await api.app.request(
      `/v1/personalizations/${id}/photo`,
      jsonInit("PUT", { photoUploadId: await readyPhoto(api.app, user.token) }, bearer(user.token)),
    );
    expect(again.status).toBe(202);
    expect((await waitForStatus(api.app, user.token, id, ["analyzed", "analysis_failed"])).status).toBe("analyzed");
  });
});
