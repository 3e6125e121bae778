// The load generator of bench/sse.ts, in a process of its own (forked with an IPC channel) so that the
// api's memory and event loop are the api's alone. Holds event streams open over plain node:http,
// parses them as a browser would, and notes when each event arrived (wall clock, ms).
//   parent → { type: "open", base, streams: [{ id, token }] }  → { type: "opened", open, failed }
//   parent → { type: "keep", count }                            → { type: "kept", open }
//   parent → { type: "report" }                                 → { type: "received", events: [id, ms][], heartbeats: ms[] }
import http from "node:http";
import { sseParser } from "../testkit/src/sse.ts";
import { wallMs } from "./lib.ts";

interface Stream {
  req: http.ClientRequest;
  res?: http.IncomingMessage;
}

const streams: Stream[] = [];
/** Event id → when it was parsed, for every event after each stream's first (the replayed one). */
let received: [string, number][] = [];
/** When each heartbeat comment was parsed (each one is also a catch-up read of app.events in the api). */
let heartbeats: number[] = [];
const agent = new http.Agent({ keepAlive: false, maxSockets: Number.POSITIVE_INFINITY });

/** Opens one stream; resolves once its first event (the replayed status) has been parsed. */
function open(base: string, id: string, token: string): Promise<boolean> {
  return new Promise((resolve) => {
    let first = true;
    const req = http.get(
      `${base}/v1/personalizations/${id}/events`,
      { agent, headers: { authorization: `Bearer ${token}`, accept: "text/event-stream" } },
      (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          resolve(false);
          return;
        }
        stream.res = res;
        res.setEncoding("utf8");
        // Heartbeats are comments, not events: the parser leaves them out.
        const feed = sseParser({
          onEvent: ({ id }) => {
            if (first) {
              first = false;
              resolve(true);
            } else if (id) received.push([id, wallMs()]);
          },
          onComment: () => heartbeats.push(wallMs()),
        });
        res.on("data", feed);
        res.on("error", () => {});
      },
    );
    const stream: Stream = { req };
    req.on("error", () => resolve(false));
    streams.push(stream);
  });
}

process.on("message", async (message: { type: string; [key: string]: unknown }) => {
  if (message.type === "open") {
    const list = message.streams as { id: string; token: string }[];
    let next = 0;
    let ok = 0;
    let failed = 0;
    // At most 200 handshakes at once: the api sees a steady stream of opens, not a SYN flood.
    await Promise.all(
      Array.from({ length: 200 }, async () => {
        while (next < list.length) {
          const s = list[next++]!;
          if (await open(String(message.base), s.id, s.token)) ok += 1;
          else failed += 1;
        }
      }),
    );
    process.send?.({ type: "opened", open: ok, failed });
  } else if (message.type === "keep") {
    const count = Number(message.count);
    for (const s of streams.splice(count)) s.req.destroy();
    process.send?.({ type: "kept", open: streams.length });
  } else if (message.type === "report") {
    process.send?.({ type: "received", events: received, heartbeats });
    received = [];
    heartbeats = [];
  }
});
process.send?.({ type: "ready" });
