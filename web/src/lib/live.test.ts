import { describe, expect, it } from "vitest";
import type { Personalization } from "../api/client.ts";
import { actions, applyEvent, fromView, type LiveState, sortedPages, type StreamEvent, withView } from "./live.ts";

function view(overrides: Partial<Personalization> = {}): Personalization {
  return {
    id: "p1",
    status: "preview_generating",
    book: { slug: "moon", title: "Moon" },
    photoUploadId: "u1",
    childName: "Ada",
    childAge: 5,
    childGender: null,
    childNameForms: {},
    analysis: { ok: true, description: { gender: "girl", line: "a girl with curly hair" } },
    failureReason: null,
    regenerationsLeft: 3,
    pages: [
      { page: "page_1", stage: "preview", status: "pending", webUrl: null, failureReason: null },
      { page: "cover_front", stage: "preview", status: "pending", webUrl: null, failureReason: null },
      { page: "page_2", stage: "preview", status: "pending", webUrl: null, failureReason: null },
    ],
    files: [],
    thumbnailUrl: null,
    createdAt: "2026-01-01T00:00:00Z",
    updatedAt: "2026-01-01T00:00:00Z",
    ...overrides,
  };
}

const fold = (state: LiveState, events: StreamEvent[]) => events.reduce(applyEvent, state);
const page = (page: string, state: string, extra: Record<string, unknown> = {}): StreamEvent => ({
  type: "page",
  data: { stage: "preview", page, state, ...extra },
});

describe("the live state of a personalisation", () => {
  it("starts from the view, pages in reading order", () => {
    const s = fromView(view());
    expect(sortedPages(s).map((p) => p.page)).toEqual(["cover_front", "page_1", "page_2"]);
    expect(sortedPages(s).every((p) => p.state === "pending")).toBe(true);
  });

  it("shows each page's own progress, then its image, as the events arrive", () => {
    let s = fromView(view());
    s = fold(s, [page("page_1", "started")]);
    expect(s.pages.page_1).toMatchObject({ state: "started", percent: 0 });
    s = fold(s, [page("page_1", "progress", { percent: 40 })]);
    expect(s.pages.page_1).toMatchObject({ state: "progress", percent: 40 });
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
    expect(s.pages.page_2).toMatchObject({ state: "progress", percent: 60 });
    // A page the view no longer has (a new photo) is dropped; one the events missed is added.
    s = withView(
      s,
      view({ pages: [{ page: "page_3", stage: "preview", status: "done", webUrl: "u3", failureReason: null }] }),
    );
    expect(Object.keys(s.pages)).toEqual(["page_3"]);
    expect(s.pages.page_3).toMatchObject({ state: "done", webUrl: "u3" });
  });

  it("offers what can be done in each status", () => {
    const at = (status: string, extra: Partial<Personalization> = {}) => actions(fromView(view({ status, ...extra })));
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
    expect(at("completed", { files: [{ name: "block.pdf", url: "x" }] })).toMatchObject({
      download: true,
      cancel: false,
    });
    expect(at("canceled").cancel).toBe(false);
  });
});
