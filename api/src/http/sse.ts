// An event-stream response written straight into one ReadableStream. Hono's streamSSE pipes a
// TransformStream into a second ReadableStream, with a writer, a reader and a TextEncoder for each:
// about twice the objects per open stream, and an api holds thousands of them (bench:sse).
import type { Context } from "hono";
import type { SseMessage, SseSink } from "../services/event-stream.ts";

const encoder = new TextEncoder();

/** One SSE message; `data` is JSON here, which never holds a line break. */
const format = ({ id, event, data }: SseMessage) =>
  `event: ${event}\ndata: ${data}\n${id === undefined ? "" : `id: ${id}\n`}\n`;

/** The streams open per shutdown signal: one listener ends them all (not one listener per stream). */
const openStreams = new WeakMap<AbortSignal, Set<AbortController>>();

function endOnClose(closing: AbortSignal, stream: AbortController): () => void {
  let open = openStreams.get(closing);
  if (!open) {
    const streams = new Set<AbortController>();
    closing.addEventListener(
      "abort",
      () => {
        for (const s of streams) s.abort();
      },
      { once: true },
    );
    openStreams.set(closing, streams);
    open = streams;
  }
  if (closing.aborted) stream.abort();
  open.add(stream);
  return () => open.delete(stream);
}

/**
 * Answers with `text/event-stream` and runs `produce` until it returns, the client goes, `closing`
 * aborts or `end` is aborted by the caller (`signal` aborts). A write waits while the client is not
 * reading (backpressure); an error ends the stream.
 */
export function sseResponse(
  c: Context,
  produce: (sink: SseSink, signal: AbortSignal) => Promise<void>,
  onError: (err: unknown) => void,
  closing?: AbortSignal,
  end: AbortController = new AbortController(),
): Response {
  const gone = end;
  const forget = closing ? endOnClose(closing, gone) : () => {};
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let cancelled = false; // by the client: nothing to close
  let resume: (() => void) | null = null;
  const wake = () => {
    resume?.();
    resume = null;
  };
  const body = new ReadableStream<Uint8Array>({
    start: (c) => {
      controller = c;
    },
    pull: wake,
    cancel: () => {
      cancelled = true;
      gone.abort();
    },
  });
  gone.signal.addEventListener("abort", wake); // a write waiting on a slow client gives up
  const write = async (text: string) => {
    if (gone.signal.aborted) return;
    controller.enqueue(encoder.encode(text));
    if ((controller.desiredSize ?? 1) <= 0) await new Promise<void>((r) => (resume = r));
  };
  const sink: SseSink = { send: (message) => write(format(message)), comment: (text) => write(`: ${text}\n\n`) };
  void produce(sink, gone.signal)
    .catch(onError)
    .finally(() => {
      forget();
      if (!cancelled) controller.close();
    });
  c.header("Content-Type", "text/event-stream");
  c.header("Cache-Control", "no-cache, no-transform");
  c.header("X-Accel-Buffering", "no");
  return c.newResponse(body);
}
