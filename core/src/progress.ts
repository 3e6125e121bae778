import { Redis } from "ioredis";
import { type Kysely, sql } from "kysely";
import type { Database } from "./schema.ts";
import type postgres from "postgres";

// Progress: state changes and page results are persisted in app.events (the SSE replay source) and
// published; fine ticks are only published. One subscription per process fans out to local listeners.

export type EventType = "status" | "analysis" | "page" | "files" | "error";

export interface ProgressEvent {
  /** The app.events id of a persisted event; absent for ticks. */
  id?: string;
  type: EventType;
  data: Record<string, unknown>;
}

export interface ProgressMessage {
  personalizationId: string;
  event: ProgressEvent;
}

type Listener = (event: ProgressEvent) => void;

/** Publishes progress and fans incoming messages out to this process's listeners. */
export interface ProgressBus {
  readonly kind: "redis" | "postgres";
  /**
   * Never throws: persisted events are already committed and streams read them back from the table
   * at their next heartbeat, so a publish lost to an outage delays an event, it does not lose it.
   */
  publish(personalizationId: string, events: ProgressEvent[]): Promise<void>;
  /** Listens to one personalisation's events; returns the function that stops listening. */
  subscribe(personalizationId: string, listener: Listener): () => void;
  /** Listeners currently registered (leak checks, metrics). */
  listenerCount(): number;
  close(): Promise<void>;
}

const CHANNEL = "faceapp_progress";

class Fanout {
  private listeners = new Map<string, Set<Listener>>();
  add(id: string, listener: Listener): () => void {
    let set = this.listeners.get(id);
    if (!set) {
      set = new Set();
      this.listeners.set(id, set);
    }
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.listeners.get(id) === set) this.listeners.delete(id);
    };
  }
  deliver(raw: string): void {
    let message: ProgressMessage;
    try {
      message = JSON.parse(raw);
    } catch {
      return;
    }
    for (const listener of this.listeners.get(message.personalizationId) ?? []) listener(message.event);
  }
  count(): number {
    let n = 0;
    for (const set of this.listeners.values()) n += set.size;
    return n;
  }
}

export interface BusOptions {
  channel?: string;
  /** Told about publish failures (the caller's logger). */
  onError?: (error: unknown) => void;
}

/** Progress over Redis pub/sub: one publisher and one subscriber connection per process. */
export function createRedisBus(url: string, options: BusOptions = {}): ProgressBus {
  const channel = options.channel ?? CHANNEL;
  const fanout = new Fanout();
  // Publishing waits for nothing once Redis is lost: a publish queued (or in flight) until ioredis gave
  // up held a runner's page for about 15 s each time, so with Redis down the pages all but stopped.
  // A lost publish only delays an event until the stream's next heartbeat. Publishes made before the
  // first connection (start-up) still wait for it.
  const pub = new Redis(url, { lazyConnect: false, maxRetriesPerRequest: 0, enableOfflineQueue: true });
  const sub = new Redis(url, { maxRetriesPerRequest: null });
  let connectedOnce = false;
  pub.on("ready", () => {
    connectedOnce = true;
  });
  // Errors are retried by ioredis; without a listener they would crash the process.
  pub.on("error", () => {});
  sub.on("error", () => {});
  void sub.subscribe(channel).catch(() => {});
  sub.on("message", (_channel, raw: string) => fanout.deliver(raw));
  return {
    kind: "redis",
    async publish(personalizationId, events) {
      try {
        if (connectedOnce && pub.status !== "ready") throw new Error(`redis is ${pub.status}: progress not published`);
        for (const event of events) await pub.publish(channel, JSON.stringify({ personalizationId, event }));
      } catch (error) {
        options.onError?.(error);
      }
    },
    subscribe: (id, listener) => fanout.add(id, listener),
    listenerCount: () => fanout.count(),
    async close() {
      sub.disconnect();
      pub.disconnect();
    },
  };
}

/** Progress over Postgres LISTEN/NOTIFY, for deployments without Redis. */
export function createPostgresBus(pool: postgres.Sql, options: BusOptions = {}): ProgressBus {
  const channel = options.channel ?? CHANNEL;
  const fanout = new Fanout();
  const listening = pool.listen(channel, (raw) => fanout.deliver(raw));
  listening.catch(() => {});
  return {
    kind: "postgres",
    async publish(personalizationId, events) {
      try {
        for (const event of events)
          await pool`select pg_notify(${channel}, ${JSON.stringify({ personalizationId, event })})`;
      } catch (error) {
        options.onError?.(error);
      }
    },
    subscribe: (id, listener) => fanout.add(id, listener),
    listenerCount: () => fanout.count(),
    async close() {
      await listening.then((l) => l.unlisten()).catch(() => {});
    },
  };
}

/** Redis when configured, Postgres NOTIFY otherwise. */
export function createProgressBus(
  redisUrl: string | undefined | null,
  pool: postgres.Sql,
  options: BusOptions = {},
): ProgressBus {
  return redisUrl ? createRedisBus(redisUrl, options) : createPostgresBus(pool, options);
}

/** Appends an event in the caller's transaction; publish it after the commit. */
export async function insertEvent(
  db: Kysely<Database>,
  personalizationId: string,
  type: EventType,
  data: Record<string, unknown>,
): Promise<ProgressEvent> {
  const { rows } = await sql<{ id: string }>`
    insert into app.events (personalization_id, type, data)
    values (${personalizationId}, ${type}, ${data}::jsonb) returning id`.execute(db);
  return { id: String(rows[0]?.id), type, data };
}
