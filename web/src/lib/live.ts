// The live state of one personalisation: the GET view, then each SSE event folded in. Pure, so the
// component only renders it and the tests drive it with the api's own event shapes.
import type { Personalization } from "../api/client.ts";

export type PageState = "pending" | "started" | "progress" | "done" | "failed";

export interface LivePage {
  page: string;
  stage: "preview" | "full";
  state: PageState;
  percent: number | null;
  webUrl: string | null;
  failureReason: string | null;
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
}

export interface StreamEvent {
  type: string;
  data: Record<string, unknown>;
}

function pageState(status: string): PageState {
  if (status === "done") return "done";
  if (status === "failed") return "failed";
  if (status === "personalizing" || status === "rendering") return "started";
  return "pending";
}

export function fromView(view: Personalization): LiveState {
  const pages: Record<string, LivePage> = {};
  for (const p of view.pages)
    pages[p.page] = {
      page: p.page,
      stage: p.stage,
      state: pageState(p.status),
      percent: null,
      webUrl: p.webUrl,
      failureReason: p.failureReason,
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
  };
}

const str = (v: unknown): string | null => (typeof v === "string" ? v : null);

const RANK: Record<PageState, number> = { pending: 0, started: 1, progress: 2, done: 3, failed: 3 };

/**
 * Merges a fresh GET view into the live state: the view decides which pages exist (a new photo
 * removes them) and the redraws left; of a page's two states the further one wins, so a view
 * fetched just before an event cannot undo it.
 */
export function withView(state: LiveState, view: Personalization): LiveState {
  const fresh = fromView(view);
  const pages: Record<string, LivePage> = {};
  for (const [id, viewed] of Object.entries(fresh.pages)) {
    const live = state.pages[id];
    pages[id] =
      live && RANK[live.state] > RANK[viewed.state]
        ? { ...live, webUrl: live.webUrl ?? viewed.webUrl }
        : {
            ...viewed,
            percent: live?.state === viewed.state ? live.percent : viewed.percent,
            webUrl: viewed.webUrl ?? live?.webUrl ?? null,
          };
  }
  return {
    ...state,
    regenerationsLeft: fresh.regenerationsLeft,
    childName: fresh.childName,
    childNameForms: fresh.childNameForms,
    pages,
    files: fresh.files.length > 0 ? fresh.files : state.files,
  };
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
      const incoming = str(d.state) as PageState | null;
      const percent = typeof d.percent === "number" ? d.percent : null;
      const updated: LivePage = {
        page,
        stage: d.stage === "full" ? "full" : (before?.stage ?? "preview"),
        state: incoming ?? before?.state ?? "pending",
        percent: incoming === "done" ? 100 : incoming === "started" ? 0 : (percent ?? before?.percent ?? null),
        webUrl: str(d.webUrl) ?? before?.webUrl ?? null,
        failureReason: incoming === "failed" ? (str(d.reason) ?? str(d.error) ?? "") : null,
      };
      return { ...state, pages: { ...state.pages, [page]: updated } };
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
