import { describe, expect, it } from "vitest";
import type { Personalization } from "../api/client.ts";
import {
  actions,
  applyEvent,
  bookProgress,
  fromView,
  type LiveState,
  sortedPages,
  type StreamEvent,
  withView,
} from "./live.ts";

type ViewPage = Personalization["pages"][number];
const pendingPage = (page: string): ViewPage => ({
  page,
  stage: "preview",
  generation: 1,
  status: "pending",
  webUrl: null,
  failureReason: null,
  likeness: { distance: null, flagged: false },
  text: null,
});

function view(overrides: Partial<Personalization> = {}): Personalization {
  return {
    id: "p1",
    status: "preview_generating",
    book: { slug: "moon", title: "Moon", language: "en" },
    photoUploadId: "u1",
    childName: "Ada",
    childAge: 5,
    childGender: null,
    childNameForms: {},
    analysis: { ok: true, description: { gender: "girl", line: "a girl with curly hair" } },
    failureReason: null,
    regenerationsLeft: 3,
    pages: ["page_1", "cover_front", "page_2"].map(pendingPage),
    files: [],
    queue: null,
    thumbnailUrl: null,
    photoUrl: null,
    createdAt: "2026-01-01T00:00:00Z",
    updatedAt: "2026-01-01T00:00:00Z",
    lastEventId: null,
    ...overrides,
  };
}

const fold = (state: LiveState, events: StreamEvent[]) => events.reduce(applyEvent, state);
const page = (page: string, state: string, extra: Record<string, unknown> = {}): StreamEvent => ({
  type: "page",
  data: { stage: "preview", page, generation: 1, state, ...extra },
});

describe("the live state of a personalisation", () => {
  it("starts from the view, pages in reading order", () => {
    const s = fromView(view());
    expect(sortedPages(s).map((p) => p.page)).toEqual(["cover_front", "page_1", "page_2"]);
    expect(sortedPages(s).every((p) => p.state === "pending")).toBe(true);
  });

  it("shows each page's own progress, then its image, as the events arrive", () => {
    let s = fromView(view());
    s = fold(s, [page("page_1", "started", { step: "drawing" })]);
    expect(s.pages.page_1).toMatchObject({ state: "drawing", percent: 0 });
    s = fold(s, [page("page_1", "progress", { percent: 40 })]);
    expect(s.pages.page_1).toMatchObject({ state: "drawing", percent: 40 });
    s = fold(s, [page("page_1", "progress", { percent: 100 })]);
    expect(s.pages.page_1).toMatchObject({ state: "words" });
    expect(s.pages.page_2?.state).toBe("pending");
    s = fold(s, [page("page_1", "done", { webUrl: "https://s3/p1.jpg" })]);
    expect(s.pages.page_1).toMatchObject({ state: "done", percent: 100, webUrl: "https://s3/p1.jpg" });
    s = fold(s, [page("page_2", "failed", { reason: "the face engine timed out" })]);
    expect(s.pages.page_2).toMatchObject({ state: "failed", failureReason: "the face engine timed out" });
  });

  it("follows status, analysis, files and error events", () => {
    let s = fromView(view({ status: "analyzing", analysis: null, pages: [] }));
    s = fold(s, [
      { type: "analysis", data: { ok: false, code: "no_face", reason: "We could not find a face." } },
      { type: "status", data: { status: "analysis_failed", reason: "We could not find a face." } },
    ]);
    expect(s.status).toBe("analysis_failed");
    expect(s.analysis).toMatchObject({ ok: false, reason: "We could not find a face." });
    expect(s.failureReason).toBe("We could not find a face.");
    // Another photo: the old analysis is gone until the new one arrives.
    s = fold(s, [{ type: "status", data: { status: "analyzing" } }]);
    expect(s.analysis).toBeNull();
    expect(s.failureReason).toBeNull();
    s = fold(s, [{ type: "files", data: { files: ["block.pdf", "cover.pdf", "pages.zip"] } }]);
    expect(s.files).toEqual(["block.pdf", "cover.pdf", "pages.zip"]);
    s = fold(s, [{ type: "error", data: { message: "the print files could not be made" } }]);
    expect(s.error).toBe("the print files could not be made");
    expect(fold(s, [{ type: "unknown", data: {} }])).toBe(s);
  });

  it("merges a fresh view without undoing a page that is further along", () => {
    let s = fold(fromView(view()), [
      page("page_1", "done", { webUrl: "https://s3/p1.jpg" }),
      page("page_2", "progress", { percent: 60 }),
    ]);
    // A view fetched a moment before those events.
    s = withView(s, view({ regenerationsLeft: 2 }));
    expect(s.regenerationsLeft).toBe(2);
    expect(s.pages.page_1).toMatchObject({ state: "done", webUrl: "https://s3/p1.jpg" });
    expect(s.pages.page_2).toMatchObject({ state: "drawing", percent: 60 });
    // A page the view no longer has (a new photo) is dropped; one the events missed is added.
    s = withView(
      s,
      view({
        pages: [
          {
            page: "page_3",
            stage: "preview",
            generation: 1,
            status: "done",
            webUrl: "u3",
            failureReason: null,
            likeness: { distance: null, flagged: false },
            text: null,
          },
        ],
      }),
    );
    expect(Object.keys(s.pages)).toEqual(["page_3"]);
    expect(s.pages.page_3).toMatchObject({ state: "done", webUrl: "u3" });
  });

  it("never moves a tile back: the words being set stay so after the render step starts, and after a reload", () => {
    // Live: the face is drawn (100 %), then the render job says it started its step.
    let s = fold(fromView(view()), [
      page("page_1", "started", { step: "drawing" }),
      page("page_1", "progress", { percent: 100 }),
      page("page_1", "started", { step: "words" }),
    ]);
    expect(s.pages.page_1?.state).toBe("words");
    // A late tick or a replayed start of the drawing changes nothing.
    s = fold(s, [page("page_1", "progress", { percent: 30 }), page("page_1", "started", { step: "drawing" })]);
    expect(s.pages.page_1?.state).toBe("words");
    // A reload: the stored status says the same, and the replay of older events cannot lower it.
    const pages = view().pages.map((p) => (p.page === "page_1" ? { ...p, status: "rendering" } : p));
    const reloaded = fold(fromView(view({ pages })), [page("page_1", "started", { step: "drawing" })]);
    expect(reloaded.pages.page_1?.state).toBe("words");
    expect(fromView(view({ pages: [{ ...pages[0]!, status: "personalizing" }] })).pages.page_1?.state).toBe("drawing");
  });

  it("knows a page the likeness check flagged, from the view and from its done event", () => {
    const flagged = view().pages.map((p) =>
      p.page === "page_1" ? { ...p, status: "done", webUrl: "u", likeness: { distance: 0.8, flagged: true } } : p,
    );
    expect(fromView(view({ pages: flagged })).pages.page_1?.flagged).toBe(true);
    const s = fold(fromView(view()), [
      page("page_1", "done", { webUrl: "a.jpg", likenessFlagged: true }),
      page("page_2", "done", { webUrl: "b.jpg", likenessFlagged: false }),
    ]);
    expect([s.pages.page_1?.flagged, s.pages.page_2?.flagged]).toEqual([true, false]);
  });

  it("starts a page over for a new generation, and ignores a stale one's events", () => {
    let s = fold(fromView(view()), [page("page_1", "done", { webUrl: "old.jpg" })]);
    // A redraw: the view shows generation 2, pending.
    const redraw = view().pages.map((p) => ({ ...p, generation: 2 }));
    s = withView(s, view({ pages: redraw }));
    expect(s.pages.page_1).toMatchObject({ generation: 2, state: "pending", webUrl: null });
    // The replay of generation 1's done event does not bring the old image back.
    s = fold(s, [page("page_1", "done", { webUrl: "old.jpg" })]);
    expect(s.pages.page_1).toMatchObject({ generation: 2, state: "pending", webUrl: null });
    s = fold(s, [page("page_1", "done", { generation: 2, webUrl: "new.jpg" })]);
    expect(s.pages.page_1).toMatchObject({ state: "done", webUrl: "new.jpg" });
  });

  it("counts the whole book, both covers included, the same from the view as from the events", () => {
    const preview = ["cover_front", "page_1", "page_2"];
    const full = [
      "cover_back",
      ...Array.from({ length: 24 }, (_, i) => `page_${i}`).filter((p) => !preview.includes(p)),
    ];
    const pages = [
      ...preview.map((p) => ({
        page: p,
        stage: "preview" as const,
        generation: 1,
        status: "done",
        webUrl: "u",
        failureReason: null,
        likeness: { distance: null, flagged: false },
        text: null,
      })),
      ...full.map((p, i) => ({
        page: p,
        stage: "full" as const,
        generation: 2,
        status: i < 4 ? "done" : "pending",
        webUrl: i < 4 ? "u" : null,
        failureReason: null,
        likeness: { distance: null, flagged: false },
        text: null,
      })),
    ];
    const reloaded = fromView(view({ status: "full_generating", pages }));
    expect(bookProgress(reloaded)).toEqual({ done: 7, total: 26, stage: "full" });
    // Before the reload the same pages came as events onto the earlier view.
    const before = view({
      status: "full_generating",
      pages: pages.map((p) => (p.stage === "full" ? { ...p, status: "pending", webUrl: null } : p)),
    });
    const live = fold(
      fromView(before),
      full
        .slice(0, 4)
        .map((p) => ({ type: "page", data: { stage: "full", page: p, generation: 2, state: "done", webUrl: "u" } })),
    );
    expect(bookProgress(live)).toEqual(bookProgress(reloaded));
    expect(bookProgress(fromView(view()))).toEqual({ done: 0, total: 3, stage: "preview" });
  });

  it("follows the book's place in the gpu queue until it no longer waits", () => {
    let s = fromView(view({ queue: { position: 3, pagesAhead: 5, etaSeconds: 200 } }));
    expect(s.queue).toEqual({ position: 3, pagesAhead: 5, etaSeconds: 200 });
    s = fold(s, [{ type: "queue", data: { position: 2, pagesAhead: 3, etaSeconds: null } }]);
    expect(s.queue).toEqual({ position: 2, pagesAhead: 3, etaSeconds: null });
    s = fold(s, [{ type: "queue", data: { position: null, pagesAhead: null, etaSeconds: null } }]);
    expect(s.queue).toBeNull();
  });

  it("offers what can be done in each status", () => {
    const at = (status: Personalization["status"], extra: Partial<Personalization> = {}) =>
      actions(fromView(view({ status, ...extra })));
    expect(at("analyzed").enterName).toBe(true);
    expect(at("analyzing").enterName).toBe(false);
    expect(at("preview_ready")).toMatchObject({ regenerate: true, confirm: true, replacePhoto: true, cancel: true });
    expect(at("preview_ready", { regenerationsLeft: 0 }).regenerate).toBe(false);
    expect(at("preview_generating")).toMatchObject({
      regenerate: false,
      confirm: false,
      replacePhoto: false,
      cancel: true,
    });
    expect(at("analysis_failed").replacePhoto).toBe(true);
    expect(at("completed", { files: [{ name: "block.pdf", url: "x", fileName: "Moon — Ada.pdf" }] })).toMatchObject({
      download: true,
      cancel: false,
    });
    expect(at("canceled").cancel).toBe(false);
  });

  it("offers each action exactly from the statuses core's table of moves allows it from", async () => {
    const { movesFrom, personalizationStatuses } = await import("@faceapp/core");
    const offered = {
      enterName: "generate",
      replacePhoto: "replace_photo",
      confirm: "confirm",
      cancel: "cancel",
      regenerate: "regenerate",
    } as const;
    for (const status of personalizationStatuses)
      for (const [button, action] of Object.entries(offered))
        expect(
          actions(fromView(view({ status, regenerationsLeft: 1 })))[button as keyof typeof offered],
          `${button} at ${status}`,
        ).toBe(movesFrom(action).includes(status));
  });
});
