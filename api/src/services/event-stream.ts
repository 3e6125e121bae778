// The event stream of one personalisation: replay after Last-Event-ID from app.events, then live.
// Persisted events are always read back from the table (in id order, nothing skipped); the bus only
// says when to look, and carries the fine progress ticks that are never stored. While the book waits
// for the gpu, `queue` events (never stored either) say its place whenever it changes (queue-watch.ts).
import type { ProgressBus, ProgressEvent } from "@faceapp/core";
import type { Database } from "@faceapp/sql";
import type { Kysely } from "kysely";
import type { Bucket } from "../deps.ts";
import type { LostEvents } from "./lost-events.ts";
import { PAGE_URL_SECONDS } from "./personalization-views.ts";
import type { QueuePlace, QueueWatch } from "./queue-watch.ts";
import { presignGet } from "./storage.ts";

export interface SseMessage {
  id?: string;
  event: string;
  data: string;
}

export interface SseSink {
  send(message: SseMessage): Promise<void>;
  comment(text: string): Promise<void>;
}

export interface StreamOptions {
  heartbeatMs?: number;
  /** Finds events stored after the last one sent whose publish was lost on the way (Redis down, a runner killed after its commit). */
  lost: LostEvents;
  /** Replay batch size. */
  batch?: number;
  /** Where the book stands while it waits for the gpu; no `queue` events without it. */
  queue?: QueueWatch;
}

/** Live only, never stored: a progress tick, or the book's place in the gpu queue. */
type Tick =
  | ProgressEvent
  | { type: "queue"; data: QueuePlace | { position: null; pagesAhead: null; etaSeconds: null } };

/**
 * Ticks held for a client that is not reading: past this many the oldest are dropped. They are
 * moments of progress, each superseded by the next (persisted events are read from the table, never
 * held here), so a stalled client costs a bounded amount of memory.
 */
export const MAX_PENDING_TICKS = 64;

function hold(ticks: Tick[], tick: Tick): void {
  if (ticks.length >= MAX_PENDING_TICKS) ticks.shift();
  ticks.push(tick);
}

/**
 * How long an idle stream waits for its next heartbeat: between half and all of `heartbeatMs`, drawn
 * afresh each time, so streams opened within a second (every client reconnecting after a restart;
 * bench:sse's 1,000) do not write their heartbeats in one burst every `heartbeatMs` for as long as they
 * are idle (bench/README.md, "SSE latency").
 */
export const heartbeatDelay = (heartbeatMs: number): number => heartbeatMs * (0.5 + Math.random() / 2);

const asId = (value: string | undefined): bigint => (value && /^\d{1,18}$/.test(value) ? BigInt(value) : 0n);

/** Internal keys become short-lived URLs; nothing else changes. */
async function toClient(bucket: Bucket, event: Tick): Promise<SseMessage> {
  let data: Record<string, unknown> = { ...event.data };
  if (typeof data.webKey === "string") {
    const { webKey, ...rest } = data;
    data = { ...rest, webUrl: (await presignGet(bucket, webKey, PAGE_URL_SECONDS)).url };
  }
  return { ...("id" in event && event.id ? { id: event.id } : {}), event: event.type, data: JSON.stringify(data) };
}

/** Streams until `signal` aborts; always unsubscribes. */
export async function streamEvents(
  db: Kysely<Database>,
  bus: ProgressBus,
  bucket: Bucket,
  personalizationId: string,
  lastEventId: string | undefined,
  sink: SseSink,
  signal: AbortSignal,
  options: StreamOptions,
): Promise<void> {
  const heartbeatMs = options.heartbeatMs ?? 15_000;
  const batch = options.batch ?? 500;
  let last = asId(lastEventId);
  const ticks: Tick[] = [];
  let persistedPending = true; // replay first
  let wake: (() => void) | null = null;
  const unsubscribe = bus.subscribe(personalizationId, (event) => {
    if (event.id) persistedPending = true;
    else hold(ticks, event);
    wake?.();
  });
  const unwatch = options.queue?.watch(personalizationId, (place) => {
    hold(ticks, { type: "queue", data: place ?? { position: null, pagesAhead: null, etaSeconds: null } });
    wake?.();
  });
  const forgetLost = options.lost.watch(
    personalizationId,
    () => last,
    () => {
      persistedPending = true;
      wake?.();
    },
  );
  const onAbort = () => wake?.();
  signal.addEventListener("abort", onAbort);

  const catchUp = async () => {
    for (;;) {
      const rows = await db
        .selectFrom("app.events")
        .select(["id", "type", "data"])
        .where("personalization_id", "=", personalizationId)
        .where("id", ">", last.toString())
        .orderBy("id")
        .limit(batch)
        .execute();
      for (const row of rows) {
        if (signal.aborted) return;
        await sink.send(await toClient(bucket, { id: String(row.id), type: row.type, data: row.data }));
        last = BigInt(row.id);
      }
      if (rows.length < batch) return;
    }
  };

  try {
    while (!signal.aborted) {
      if (persistedPending) {
        persistedPending = false;
        await catchUp();
      }
      while (ticks.length && !signal.aborted) await sink.send(await toClient(bucket, ticks.shift() as Tick));
      if (signal.aborted || persistedPending || ticks.length) continue;
      const timedOut = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(true), heartbeatDelay(heartbeatMs));
        wake = () => {
          clearTimeout(timer);
          resolve(false);
        };
      });
      wake = null;
      if (timedOut && !signal.aborted) await sink.comment("heartbeat");
    }
  } finally {
    unsubscribe();
    unwatch?.();
    forgetLost();
    signal.removeEventListener("abort", onAbort);
  }
}
