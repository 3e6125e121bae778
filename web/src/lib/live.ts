// The live state of one personalisation: the GET view, then each SSE event folded in. Pure, so the
// component only renders it and the tests drive it with the api's own event shapes.
import type { Personalization } from "../api/client.ts";
import type { QueuePlace } from "./queue.ts";

/**
 * What a page's tile says, in the order a page goes through them: waiting, the face being drawn (with
 * its percent), its words being set, then done (or failed). A page never moves back within one
 * generation; a new generation (a redraw, a new photo) starts it over.
 */
export type PageState = "pending" | "drawing" | "words" | "done" | "failed";

export interface LivePage {
  page: string;
  stage: "preview" | "full";
  generation: number;
  state: PageState;
  percent: number | null;
  webUrl: string | null;
  failureReason: string | null;
  /** Done, but the likeness check says it may not look like the child (docs/likeness.md). */
  flagged: boolean;
}

export interface Analysis {
  ok: boolean;
  /** A refusal's reason, written for the parent. */
  reason?: string;
  code?: string;
  description?: { gender?: string | null; line?: string | null } & Record<string, unknown>;
}

export interface LiveState {
  id: string;
  status: string;
  failureReason: string | null;
  analysis: Analysis | null;
  regenerationsLeft: number;
  childName: string | null;
  /** The name's forms the book prints (`gen` …), for the app's own sentences. */
  childNameForms: Record<string, string>;
  pages: Record<string, LivePage>;
  /** Print files ready to download. */
  files: string[];
  /** The last error event's message. */
  error: string | null;
  /** Its place while it waits for the gpu; null once it no longer waits. */
  queue: QueuePlace | null;
}

export interface StreamEvent {
  type: string;
  data: Record<string, unknown>;
}

/** A page's stored status as a tile state: `rendering` is the words being set over the drawing. */
function pageState(status: string): PageState {
  if (status === "done") return "done";
  if (status === "failed") return "failed";
  if (status === "personalizing") return "drawing";
  if (status === "rendering") return "words";
  return "pending";
}

export function fromView(view: Personalization): LiveState {
  const pages: Record<string, LivePage> = {};
  for (const p of view.pages)
    pages[p.page] = {
      page: p.page,
      stage: p.stage,
      generation: p.generation,
      state: pageState(p.status),
      percent: null,
      webUrl: p.webUrl,
      failureReason: p.failureReason,
      flagged: p.likeness.flagged,
    };
  return {
    id: view.id,
    status: view.status,
    failureReason: view.failureReason,
    analysis: (view.analysis as Analysis | null) ?? null,
    regenerationsLeft: view.regenerationsLeft,
    childName: view.childName,
    childNameForms: view.childNameForms,
    pages,
    files: view.files.map((f) => f.name),
    error: null,
    queue: view.queue,
  };
}

const str = (v: unknown): string | null => (typeof v === "string" ? v : null);

const RANK: Record<PageState, number> = { pending: 0, drawing: 1, words: 2, done: 3, failed: 3 };

/**
 * Of two versions of one page, the one to show: the newer generation, else the further state (the
 * higher percent within one), so neither a view fetched before an event nor a replay can undo it.
 */
function further(a: LivePage, b: LivePage): LivePage {
  if (a.generation !== b.generation) return a.generation > b.generation ? a : b;
  if (RANK[a.state] !== RANK[b.state]) return RANK[a.state] > RANK[b.state] ? a : b;
  return (b.percent ?? -1) > (a.percent ?? -1) ? b : a;
}

/**
 * Merges a fresh GET view into the live state: the view decides which pages exist (a new photo
 * removes them) and the redraws left; of a page's two versions the further one wins.
 */
export function withView(state: LiveState, view: Personalization): LiveState {
  const fresh = fromView(view);
  const pages: Record<string, LivePage> = {};
  for (const [id, viewed] of Object.entries(fresh.pages)) {
    const live = state.pages[id];
    const shown = live ? further(viewed, live) : viewed;
    // The view's image URL is the fresher one when both show the same generation.
    pages[id] = { ...shown, webUrl: (shown.generation === viewed.generation && viewed.webUrl) || shown.webUrl };
  }
  return {
    ...state,
    regenerationsLeft: fresh.regenerationsLeft,
    childName: fresh.childName,
    childNameForms: fresh.childNameForms,
    pages,
    files: fresh.files.length > 0 ? fresh.files : state.files,
    queue: fresh.queue,
  };
}

/** A page event as a tile state: a started step, a tick (100 % means the drawing is done), done or failed. */
function eventState(d: Record<string, unknown>, percent: number | null): PageState | null {
  switch (d.state) {
    case "started":
      return d.step === "words" ? "words" : "drawing";
    case "progress":
      return percent !== null && percent >= 100 ? "words" : "drawing";
    case "done":
      return "done";
    case "failed":
      return "failed";
    default:
      return null;
  }
}

/** Folds one event into the state (returns a new state; the input is not changed). */
export function applyEvent(state: LiveState, event: StreamEvent): LiveState {
  const d = event.data;
  switch (event.type) {
    case "status": {
      const status = str(d.status) ?? state.status;
      const next: LiveState = { ...state, status, failureReason: str(d.reason) };
      // A new photo: its analysis starts over (the pages go with the next view).
      if (status === "analyzing") return { ...next, analysis: null, files: [] };
      return next;
    }
    case "analysis":
      return { ...state, analysis: d as unknown as Analysis };
    case "page": {
      const page = str(d.page);
      if (!page) return state;
      const before = state.pages[page];
      const percent = typeof d.percent === "number" ? d.percent : null;
      const incoming = eventState(d, percent);
      if (!incoming) return state;
      const updated: LivePage = {
        page,
        stage: d.stage === "full" ? "full" : (before?.stage ?? "preview"),
        generation: typeof d.generation === "number" ? d.generation : (before?.generation ?? 0),
        state: incoming,
        percent: incoming === "done" ? 100 : incoming === "drawing" ? (percent ?? 0) : null,
        webUrl: str(d.webUrl),
        failureReason: incoming === "failed" ? (str(d.reason) ?? str(d.error) ?? "") : null,
        flagged: incoming === "done" && d.likenessFlagged === true,
      };
      const shown = before ? further(updated, before) : updated;
      if (shown === before) return state;
      return { ...state, pages: { ...state.pages, [page]: shown } };
    }
    case "files": {
      const files = Array.isArray(d.files)
        ? d.files
            .map((f) => (typeof f === "string" ? f : str((f as { name?: unknown }).name)))
            .filter((f): f is string => !!f)
        : state.files;
      return { ...state, files };
    }
    case "error":
      return { ...state, error: str(d.message) ?? str(d.reason) ?? "error" };
    case "queue":
      return {
        ...state,
        queue:
          typeof d.position === "number"
            ? {
                position: d.position,
                pagesAhead: typeof d.pagesAhead === "number" ? d.pagesAhead : 0,
                etaSeconds: typeof d.etaSeconds === "number" ? d.etaSeconds : null,
              }
            : null,
      };
    default:
      return state;
  }
}

/** Page ids in reading order: front cover, page_1 … page_22, back cover (others after). */
export function pageOrder(page: string): number {
  if (page === "cover_front") return -1;
  if (page === "cover_back") return 1000;
  const n = /^page_(\d+)$/.exec(page);
  return n ? Number(n[1]) : 2000;
}

export function sortedPages(state: LiveState, stage?: "preview" | "full"): LivePage[] {
  return Object.values(state.pages)
    .filter((p) => !stage || p.stage === stage)
    .sort((a, b) => pageOrder(a.page) - pageOrder(b.page));
}

/** What the parent can do now. */
export function actions(state: LiveState) {
  const s = state.status;
  return {
    enterName: s === "analyzed",
    replacePhoto: ["analyzed", "analysis_failed", "preview_ready", "generation_failed"].includes(s),
    regenerate: s === "preview_ready" && state.regenerationsLeft > 0,
    confirm: s === "preview_ready",
    cancel: !["completed", "canceled"].includes(s),
    view: Object.values(state.pages).some((p) => p.webUrl),
    download: s === "completed" && state.files.length > 0,
  };
}

/** Whether the stream still has something to tell (it stays open otherwise only for heartbeats). */
export function isSettled(status: string): boolean {
  return ["completed", "canceled"].includes(status);
}

/**
 * The one count a parent sees while pages are made: the pages of the whole book ready so far (both
 * covers included, preview pages counted once), or of the preview while only it is drawn. Read from
 * the same pages before and after a reload, so it reads the same.
 */
export function bookProgress(state: LiveState): { done: number; total: number; stage: "preview" | "full" } {
  const pages = Object.values(state.pages);
  const stage = pages.some((p) => p.stage === "full") ? "full" : "preview";
  return { done: pages.filter((p) => p.state === "done").length, total: pages.length, stage };
}
