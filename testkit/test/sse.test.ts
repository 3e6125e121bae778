import { expect, it } from "vitest";
import { readSse, type SseMessage, sseParser } from "../src/sse.ts";

const stream =
  'id: 7\nevent: status\ndata: {"status":"analyzed"}\n\n: heartbeat\n\nid: 8\nevent: page\ndata: {"n":1}\n\n';

it("parses events and comments however the text is cut into chunks", () => {
  for (const size of [1, 3, 17, stream.length]) {
    const events: SseMessage[] = [];
    const comments: string[] = [];
    const feed = sseParser({ onEvent: (m) => events.push(m), onComment: (c) => comments.push(c) });
    for (let i = 0; i < stream.length; i += size) feed(stream.slice(i, i + size));
    expect(events).toEqual([
      { id: "7", event: "status", data: '{"status":"analyzed"}' },
      { id: "8", event: "page", data: '{"n":1}' },
    ]);
    expect(comments).toEqual(["heartbeat"]);
  }
});

it("reads a body until `more` says stop, and cancels it", async () => {
  let canceled = false;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      // An endless stream: one event each read.
      controller.enqueue(new TextEncoder().encode('event: tick\ndata: "x"\n\n'));
    },
    cancel() {
      canceled = true;
    },
  });
  const events: SseMessage[] = [];
  await readSse(body, { onEvent: (m) => events.push(m) }, () => events.length < 3);
  expect(events.map((e) => e.event)).toEqual(["tick", "tick", "tick"]);
  expect(canceled).toBe(true);
});
