// The event stream of one personalisation: replay after Last-Event-ID from app.events, then live.
// Persisted events are always read back from the table (in id order, nothing skipped); the bus only
// says when to look, and carries the fine progress ticks that are never stored.
import type { ProgressBus, ProgressEvent } from "@faceapp/core";
import type { Database } from "@faceapp/sql";
import type { Kysely } from "kysely";
import type { Bucket } from "../deps.ts";
import { PAGE_URL_SECONDS } from "./personalization-views.ts";
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
  /** Replay batch size. */
  batch?: number;
}

const asId = (value: string | undefined): bigint => (value && /^\d{1,18}$/.test(value) ? BigInt(value) : 0n);

/** Internal keys become short-lived URLs; nothing else changes. */
async function toClient(bucket: Bucket, event: ProgressEvent): Promise<SseMessage> {
  let data = event.data;
  if (typeof data.webKey === "string") {
    const { webKey, ...rest } = data;
    data = { ...rest, webUrl: (await presignGet(bucket, webKey, PAGE_URL_SECONDS)).url };
  }
  return { ...(event.id ? { id: event.id } : {}), event: event.type, data: JSON.stringify(data) };
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
  options: StreamOptions = {},
): Promise<void> {
  const heartbeatMs = options.heartbeatMs ?? 15_000;
  const batch = options.batch ?? 500;
  let last = asId(lastEventId);
  const ticks: ProgressEvent[] = [];
  let persistedPending = true; // replay first
  let wake: (() => void) | null = null;
  const unsubscribe = bus.subscribe(personalizationId, (event) => {
    if (event.id) persistedPending = true;
    else ticks.push(event);
    wake?.();
  });
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
      while (ticks.length && !signal.aborted) await sink.send(await toClient(bucket, ticks.shift() as ProgressEvent));
      if (signal.aborted || persistedPending || ticks.length) continue;
      const timedOut = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(true), heartbeatMs);
        wake = () => {
          clearTimeout(timer);
          resolve(false);
        };
      });
      wake = null;
      if (timedOut && !signal.aborted) {
        await sink.comment("heartbeat");
        // A publish lost on the way (Redis down, a runner killed after its commit) is found here.
        persistedPending = true;
      }
    }
  } finally {
    unsubscribe();
    signal.removeEventListener("abort", onAbort);
  }
}
