// Where each book waiting for the gpu stands: one query per tick places every waiting personalisation
// at once (a window over the queued face-page jobs, in the order graphile-worker takes them), and each
// of this process's event streams is told when its own place changes. A stream, or a REST view, never
// costs a query of its own: 10,000 waiting streams cost the same one query per tick (bench:queue).
import { queueNamesOf } from "@faceapp/core";
import type { Database } from "@faceapp/sql";
import { type Kysely, sql } from "kysely";

/** A waiting book's place: `position` 1 is next (`position - 1` books are ahead of it). */
export interface QueuePlace {
  position: number;
  /** Face pages the gpu runners draw before this book's first: those being drawn and those queued before it. */
  pagesAhead: number;
  /** When its first page should start, from the runners' measured page times; null before any was measured. */
  etaSeconds: number | null;
}

/** What a stream is told: its place, or null once it no longer waits (drawing, done, canceled). */
export type QueueListener = (place: QueuePlace | null) => void;

export interface QueueWatch {
  /** Tells `listener` the book's place now (when it waits) and whenever it changes; returns `forget`. */
  watch(personalizationId: string, listener: QueueListener): () => void;
  /**
   * The places of these books (absent: not waiting), from a snapshot no older than one interval and
   * taken after `changedAt` (their latest status change): a book just queued is never missing from it.
   */
  placesOf(personalizationIds: string[], changedAt?: Date): Promise<Map<string, QueuePlace>>;
  /** Places every waiting book now and tells the watchers whose place changed (the interval runs it; tests may too). */
  tick(): Promise<void>;
}

/** Gpu runners whose heartbeat is older than this are not counted as drawing. */
const RUNNER_SILENT_SECONDS = 60;

interface Row {
  id: string;
  position: number;
  pages_ahead: number;
  mean_ms: number | null;
  runners: number;
}

/**
 * Every waiting personalisation's place in one statement. A face-page job is being drawn while it is
 * locked; the others wait in graphile-worker's order (priority, run_at, id). A book waits while it has
 * queued face pages and none of its stage's face pages has been started (between two of its pages it
 * is still being drawn); its position counts the books with a face page before its first. The ETA's
 * inputs come along: the latest engine's measured page time, and how many gpu runners beat lately.
 * It reads graphile-worker's public `jobs` view; a job's key is core's `jobKey` layout
 * (`personalize_page:<personalisation>:<stage>:…`).
 */
export function placeWaitingQuery() {
  return sql<Row>`
    with face as materialized (
      select split_part(j.key, ':', 2)::uuid as book, split_part(j.key, ':', 3) = 'full' as full_stage,
        j.locked_at is not null as drawing, j.priority, j.run_at, j.id
      from graphile_worker.jobs j
      where j.task_identifier = any(${queueNamesOf("personalize_page")}::text[]) and j.key is not null
        and (j.locked_at is not null or j.attempts < j.max_attempts)
    ), ordered as (
      select book, full_stage, drawing, row_number() over (order by drawing desc, priority, run_at, id) - 1 as place
      from face
    ), books as (
      select book, case when bool_or(full_stage) then 'full' else 'preview' end as stage, min(place) as first,
        bool_or(drawing) as drawing
      from ordered group by book
    ), ranked as (
      select book, stage, first, drawing, row_number() over (order by first) as position from books
    )
    select r.book::text as id, r.position::int, r.first::int as pages_ahead,
      (select mean_ms from app.engine_page_times order by updated_at desc limit 1) as mean_ms,
      (select count(distinct (host, pid))::int from app.runner_heartbeats
        where kind = 'gpu' and last_seen_at > now() - make_interval(secs => ${RUNNER_SILENT_SECONDS})) as runners
    from ranked r
    where not r.drawing and not exists (
      select 1 from app.personalization_pages p
      where p.personalization_id = r.book and p.stage = r.stage and p.needs_face and p.status <> 'pending')`;
}

/** Every waiting personalisation's place (placeWaitingQuery). */
export async function placeWaiting(db: Kysely<Database>): Promise<Map<string, QueuePlace>> {
  const { rows } = await placeWaitingQuery().execute(db);
  const places = new Map<string, QueuePlace>();
  for (const row of rows) places.set(row.id, { position: row.position, ...etaOf(row) });
  return places;
}

function etaOf(row: Row): Pick<QueuePlace, "pagesAhead" | "etaSeconds"> {
  const etaSeconds =
    row.mean_ms === null ? null : Math.ceil((row.pages_ahead * row.mean_ms) / 1000 / Math.max(1, row.runners));
  return { pagesAhead: row.pages_ahead, etaSeconds };
}

const same = (a: QueuePlace | null, b: QueuePlace | null) =>
  a === b ||
  (a !== null &&
    b !== null &&
    a.position === b.position &&
    a.pagesAhead === b.pagesAhead &&
    a.etaSeconds === b.etaSeconds);

export function queueWatch(db: Kysely<Database>, intervalMs: number, onError: (err: unknown) => void): QueueWatch {
  /** One listener, the queries begun before it started watching, and the place it was last told (none yet: undefined). */
  interface Watcher {
    listener: QueueListener;
    since: number;
    last?: QueuePlace | null;
  }
  /** The places from the `seq`th query begun. */
  interface Placed {
    seq: number;
    places: Map<string, QueuePlace>;
  }
  const watched = new Map<string, Set<Watcher>>();
  let begun = 0;
  let snapshot: { at: number; places: Map<string, QueuePlace> } | null = null;
  let refreshing: Promise<Placed> | null = null;
  let timer: NodeJS.Timeout | null = null;

  const query = (): Promise<Placed> => {
    const seq = ++begun;
    return placeWaiting(db).then((places) => {
      snapshot = { at: Date.now(), places };
      return { seq, places };
    });
  };
  // Concurrent ticks and views share one query.
  const refresh = () => {
    refreshing ??= query().finally(() => {
      refreshing = null;
    });
    return refreshing;
  };
  const fresh = async () =>
    snapshot && Date.now() - snapshot.at < intervalMs ? snapshot.places : (await refresh()).places;

  /**
   * Tells each watcher its place from a query begun after it started watching (an older one may place
   * a book that has since been drawn: a stream opened on a finished book was told "position 1"). A
   * newcomer hears its place only while the book waits; then every change, and null once it stops.
   */
  const apply = ({ seq, places }: Placed) => {
    for (const [id, watchers] of watched) {
      const place = places.get(id) ?? null;
      for (const watcher of watchers) {
        if (watcher.since >= seq) continue;
        const news = watcher.last === undefined ? place !== null : !same(watcher.last, place);
        watcher.last = place;
        if (news) watcher.listener(place);
      }
    }
  };
  const tick = async () => {
    if (watched.size > 0) apply(await refresh());
  };

  // Newcomers hear their place from a query of their own rather than at the next tick, one such query
  // at a time: a burst of streams opening costs one query per query's duration, not one per stream.
  let newcomer = false;
  let placing = false;
  const placeNewcomers = async () => {
    newcomer = true;
    if (placing) return;
    placing = true;
    try {
      while (newcomer) {
        newcomer = false;
        apply(await query());
      }
    } finally {
      placing = false;
    }
  };

  return {
    watch(personalizationId, listener) {
      const watcher: Watcher = { listener, since: begun };
      let watchers = watched.get(personalizationId);
      if (!watchers) {
        watchers = new Set();
        watched.set(personalizationId, watchers);
      }
      watchers.add(watcher);
      placeNewcomers().catch(onError);
      if (!timer) {
        timer = setInterval(() => tick().catch(onError), intervalMs);
        timer.unref();
      }
      return () => {
        const current = watched.get(personalizationId);
        current?.delete(watcher);
        if (current?.size === 0) watched.delete(personalizationId);
        if (watched.size === 0 && timer) {
          clearInterval(timer);
          timer = null;
        }
      };
    },
    async placesOf(ids, changedAt) {
      if (ids.length === 0) return new Map();
      const places =
        snapshot && changedAt && snapshot.at <= changedAt.getTime() ? (await refresh()).places : await fresh();
      return new Map(ids.flatMap((id) => (places.has(id) ? [[id, places.get(id) as QueuePlace]] : [])));
    },
    tick,
  };
}
