// Event-stream responses. Served by Node (server.ts), a stream is written straight to Node's
// ServerResponse: no web ReadableStream, reader or Response body is kept per open stream, and the
// request's Hono context, Request and middlewares are released as soon as the head is written.
// Elsewhere (`app.request()` in tests) it is written into one ReadableStream. Hono's streamSSE pipes a
// TransformStream into a second ReadableStream, with a writer, a reader and a TextEncoder for each:
// about twice the objects per open stream, and an api holds thousands of them (bench:sse).
import { ServerResponse } from "node:http";
import { RESPONSE_ALREADY_SENT } from "@hono/node-server/utils/response";
import type { Context, MiddlewareHandler } from "hono";
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

/** Node's response when @hono/node-server serves the request (its `outgoing` binding). */
function nodeResponse(c: Context): ServerResponse | undefined {
  const outgoing = (c.env as { outgoing?: unknown } | undefined)?.outgoing;
  return outgoing instanceof ServerResponse ? outgoing : undefined;
}

type Produce = (sink: SseSink, signal: AbortSignal) => Promise<void>;

/** Node responses whose stream waits for the head: the app's outermost middleware starts it. */
const waiting = new WeakMap<ServerResponse, (res: Response) => void>();

/**
 * The app's outermost middleware: once every other middleware has added its headers to an event
 * stream's response, writes that head to Node and starts the stream; the adaptor is told the
 * response is already sent. A response that is not the stream's (an error after the route) is
 * answered as usual, and the stream ends unstarted.
 */
export const sendEventStreams: MiddlewareHandler = async (c, next) => {
  await next();
  const outgoing = nodeResponse(c);
  const start = outgoing && waiting.get(outgoing);
  if (!outgoing || !start) return;
  waiting.delete(outgoing);
  const res = c.res;
  start(res);
  if (res.status === 200 && res.headers.get("content-type") === "text/event-stream") {
    // Replaced, not merged: Hono's setter would copy the old headers into a new Response, which the
    // adaptor answers again ("headers already sent"). The adaptor leaves this one alone.
    c.res = undefined;
    c.res = RESPONSE_ALREADY_SENT;
  }
};

/**
 * Answers with `text/event-stream` and runs `produce` until it returns, the client goes, `closing`
 * aborts or `end` is aborted by the caller (`signal` aborts). A write waits while the client is not
 * reading (backpressure); an error ends the stream.
 */
export function sseResponse(
  c: Context,
  produce: Produce,
  onError: (err: unknown) => void,
  closing?: AbortSignal,
  end: AbortController = new AbortController(),
): Response {
  c.header("Content-Type", "text/event-stream");
  c.header("Cache-Control", "no-cache, no-transform");
  c.header("X-Accel-Buffering", "no");
  const outgoing = nodeResponse(c);
  if (outgoing) {
    waiting.set(outgoing, (res) => toNode(outgoing, res, produce, onError, closing, end));
    return c.newResponse(null);
  }
  return toWebStream(c, produce, onError, closing, end);
}

/** Writes the head of `res` and the stream to `out`; ends the stream unstarted if `res` is not it. */
function toNode(
  out: ServerResponse,
  res: Response,
  produce: Produce,
  onError: (err: unknown) => void,
  closing: AbortSignal | undefined,
  gone: AbortController,
): void {
  const forget = closing ? endOnClose(closing, gone) : () => {};
  const ours = res.status === 200 && res.headers.get("content-type") === "text/event-stream";
  let drained: (() => void) | null = null;
  const wake = () => {
    drained?.();
    drained = null;
  };
  if (ours && !out.destroyed) {
    const head: Record<string, string> = {};
    res.headers.forEach((value, name) => {
      head[name] = value;
    });
    out.writeHead(200, head);
    out.flushHeaders();
    out.on("drain", wake);
    out.on("close", () => gone.abort()); // the client went, or the stream ended
    gone.signal.addEventListener("abort", wake); // a write waiting on a slow client gives up
  } else {
    gone.abort();
  }
  const write = async (text: string) => {
    if (gone.signal.aborted) return;
    // Node buffers what the socket does not take yet; past its high-water mark the stream waits.
    if (!out.write(text)) await new Promise<void>((r) => (drained = r));
  };
  const sink: SseSink = { send: (message) => write(format(message)), comment: (text) => write(`: ${text}\n\n`) };
  void produce(sink, gone.signal)
    .catch(onError)
    .finally(() => {
      forget();
      if (ours && !out.writableEnded) out.end();
    });
}

function toWebStream(
  c: Context,
  produce: Produce,
  onError: (err: unknown) => void,
  closing: AbortSignal | undefined,
  gone: AbortController,
): Response {
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
  return c.newResponse(body);
}
