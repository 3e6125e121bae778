import { describe, expect, it, vi } from "vitest";

// Node resolves solid-js to its server build, where effects never run; use the browser build.
vi.mock("solid-js", () => import(/* @vite-ignore */ `${"../../../node_modules/solid-js/dist/solid.js"}`));

const { createRoot, createSignal } = await import("solid-js");
const { createEventStream, parseEventData, withAfter } = await import("./event-stream.ts");

class FakeEventSource {
  static instances: FakeEventSource[] = [];
  readyState = 0;
  closed = false;
  onopen?: () => void;
  onerror?: () => void;
  listeners = new Map<string, (e: { data: string; lastEventId: string }) => void>();
  constructor(
    readonly url: string,
    readonly init: { withCredentials?: boolean },
  ) {
    FakeEventSource.instances.push(this);
  }
  addEventListener(type: string, fn: (e: { data: string; lastEventId: string }) => void) {
    this.listeners.set(type, fn);
  }
  close() {
    this.closed = true;
    this.readyState = 2;
  }
  emit(type: string, data: string, lastEventId = "") {
    this.listeners.get(type)?.({ data, lastEventId });
  }
}

describe("createEventStream", () => {
  it("opens with cookies, delivers parsed events, follows reconnects, closes in onCleanup", () => {
    FakeEventSource.instances = [];
    const events: unknown[] = [];
    const [url, setUrl] = createSignal<string | null>("/v1/personalizations/1/events");
    let state!: () => string;
    const dispose = createRoot((dispose) => {
      state = createEventStream({
        url,
        onEvent: (e) => events.push(e),
        EventSource: FakeEventSource as unknown as typeof EventSource,
      });
      return dispose;
    });
    const first = FakeEventSource.instances[0]!;
    expect(first.url).toBe("/v1/personalizations/1/events");
    expect(first.init.withCredentials).toBe(true);
    expect(state()).toBe("connecting");
    first.onopen?.();
    expect(state()).toBe("open");

    first.emit("page", '{"page":"page_1","state":"done"}', "42");
    first.emit("status", "not json");
    expect(events).toEqual([{ type: "page", data: { page: "page_1", state: "done" }, id: "42" }]);

    // A dropped connection: the browser retries by itself (readyState CONNECTING).
    first.onerror?.();
    expect(state()).toBe("reconnecting");

    // Another URL: the old stream is closed, a new one opened.
    setUrl("/v1/personalizations/2/events");
    expect(first.closed).toBe(true);
    const second = FakeEventSource.instances[1]!;
    expect(second.url).toBe("/v1/personalizations/2/events");

    dispose();
    expect(second.closed).toBe(true);
    expect(state()).toBe("closed");
  });

  it("opens a fresh stream some time after the browser gave up", () => {
    vi.useFakeTimers();
    try {
      FakeEventSource.instances = [];
      const dispose = createRoot((dispose) => {
        createEventStream({
          url: () => "/events",
          onEvent: () => {},
          EventSource: FakeEventSource as unknown as typeof EventSource,
          retryMs: 1000,
        });
        return dispose;
      });
      const first = FakeEventSource.instances[0]!;
      first.emit("status", '{"status":"preview_ready"}', "41");
      first.emit("page", '{"page":"page_1"}', "42");
      first.readyState = 2; // CLOSED, e.g. after a 429 answer
      first.onerror?.();
      expect(FakeEventSource.instances).toHaveLength(1);
      vi.advanceTimersByTime(1000);
      expect(first.closed).toBe(true);
      expect(FakeEventSource.instances).toHaveLength(2);
      // It asks for what came after the last event it had, not the whole story again.
      expect(FakeEventSource.instances[1]!.url).toBe("/events?after=42");
      dispose();
      expect(FakeEventSource.instances[1]!.closed).toBe(true);
    } finally {
      vi.useRealTimers();
    }
  });

  it("opens nothing without a URL", () => {
    FakeEventSource.instances = [];
    createRoot((dispose) => {
      createEventStream({
        url: () => null,
        onEvent: () => {},
        EventSource: FakeEventSource as unknown as typeof EventSource,
      });
      dispose();
    });
    expect(FakeEventSource.instances).toHaveLength(0);
  });

  it("sets the after parameter on relative and absolute URLs, replacing an old one", () => {
    expect(withAfter("/v1/p/1/events", "7")).toBe("/v1/p/1/events?after=7");
    expect(withAfter("/v1/p/1/events?after=3", "9")).toBe("/v1/p/1/events?after=9");
    expect(withAfter("https://api.example/v1/p/1/events?x=1", "9")).toBe(
      "https://api.example/v1/p/1/events?x=1&after=9",
    );
  });

  it("parses only JSON objects", () => {
    expect(parseEventData('{"a":1}')).toEqual({ a: 1 });
    expect(parseEventData("[1]")).toBeNull();
    expect(parseEventData("nope")).toBeNull();
    expect(parseEventData(undefined)).toBeNull();
  });
});
