// A small primitive around EventSource: opens when given a URL, closes in onCleanup. The browser
// reconnects by itself after a drop and sends Last-Event-ID, so the api replays what was missed; a
// stream opened anew after the browser gave up asks for what came after the last event it had
// (`after`, which the api takes where no Last-Event-ID is sent).
import { type Accessor, createEffect, createSignal, onCleanup } from "solid-js";
import type { StreamEvent } from "./live.ts";

export const STREAM_EVENT_TYPES = ["status", "analysis", "page", "files", "error"] as const;

export type StreamState = "connecting" | "open" | "reconnecting" | "closed";

export interface EventStreamOptions {
  /** The stream URL, or null for none (closes the current one). */
  url: Accessor<string | null>;
  onEvent: (event: StreamEvent & { id: string | null }) => void;
  /** Tests pass a fake. */
  EventSource?: typeof EventSource;
  /** After the browser gives up (an error answer such as 429 or 503), open anew after this long. */
  retryMs?: number;
}

/** Parses one SSE message's data; null when it is not a JSON object. */
export function parseEventData(data: unknown): Record<string, unknown> | null {
  if (typeof data !== "string") return null;
  try {
    const parsed: unknown = JSON.parse(data);
    return parsed && typeof parsed === "object" && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** The URL with its `after` query parameter set (kept relative when it was). */
export function withAfter(url: string, id: string): string {
  const [path, query = ""] = url.split("?", 2) as [string, string?];
  const params = new URLSearchParams(query);
  params.set("after", id);
  return `${path}?${params}`;
}

export function createEventStream(options: EventStreamOptions): Accessor<StreamState> {
  const [state, setState] = createSignal<StreamState>("closed");
  // Bumped to open a fresh stream after the browser stopped retrying.
  const [attempt, setAttempt] = createSignal(0);
  const Source = options.EventSource ?? globalThis.EventSource;
  // The last event id delivered from the current URL (a new URL starts over).
  let lastId: string | null = null;
  let lastUrl: string | null = null;
  createEffect(() => {
    const url = options.url();
    attempt();
    if (url !== lastUrl) {
      lastUrl = url;
      lastId = null;
    }
    if (!url) {
      setState("closed");
      return;
    }
    const source = new Source(lastId ? withAfter(url, lastId) : url, { withCredentials: true });
    let retry: ReturnType<typeof setTimeout> | undefined;
    setState("connecting");
    source.onopen = () => setState("open");
    source.onerror = () => {
      // CONNECTING after an error: the browser is retrying by itself, with Last-Event-ID.
      if (source.readyState !== 2) return setState("reconnecting");
      // CLOSED: it gave up; try again later.
      setState("reconnecting");
      clearTimeout(retry);
      retry = setTimeout(() => setAttempt((n) => n + 1), options.retryMs ?? 5000);
    };
    for (const type of STREAM_EVENT_TYPES)
      source.addEventListener(type, (e) => {
        const message = e as MessageEvent;
        const data = parseEventData(message.data);
        if (message.lastEventId) lastId = message.lastEventId;
        if (data) options.onEvent({ type, data, id: message.lastEventId || null });
      });
    onCleanup(() => {
      clearTimeout(retry);
      source.close();
      setState("closed");
    });
  });
  return state;
}
