// Reading a Server-Sent Events stream as a browser's EventSource does, for the tests, the chaos
// scenarios and the benchmarks. eventsource-parser does the parsing (fields, multi-line data, CR/LF,
// events split across chunks); each caller keeps what it needs from the events and comments.
// No vitest here: the benchmarks import this file directly.
import { createParser, type EventSourceMessage } from "eventsource-parser";

export type { EventSourceMessage as SseMessage };

export interface SseHandlers {
  /** Each event that has data, when its closing blank line is parsed; `event` is unset for unnamed ones. */
  onEvent(message: EventSourceMessage): void;
  /** Each comment line (the heartbeat), without its leading colon and space. */
  onComment?(comment: string): void;
}

/** A parser to feed the text of an event stream to, chunk by chunk as it arrives. */
export function sseParser(handlers: SseHandlers): (chunk: string) => void {
  const parser = createParser({ onEvent: handlers.onEvent, onComment: handlers.onComment });
  return (chunk) => parser.feed(chunk);
}

/**
 * Reads a fetch body as an event stream until it ends, or until `more()` (asked before each read;
 * it may throw) says to stop; the body is canceled after, whatever happened.
 */
export async function readSse(
  body: ReadableStream<Uint8Array>,
  handlers: SseHandlers,
  more: () => boolean = () => true,
): Promise<void> {
  const feed = sseParser(handlers);
  const reader = body.getReader();
  const decoder = new TextDecoder();
  try {
    while (more()) {
      const { value, done } = await reader.read();
      if (done) break;
      feed(decoder.decode(value, { stream: true }));
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
}
