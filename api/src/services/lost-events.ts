// A publish can be lost on the way (Redis down, a runner killed between its commit and its publish):
// the event is stored, but no stream was told to read it. This finds such events for every stream of
// the process with one query per interval, whatever their number, instead of each idle stream reading
// app.events at each of its heartbeats (10,000 idle streams made ≈ 900 reads a second; bench/README.md).
import type { Database } from "@faceapp/sql";
import { type Kysely, sql } from "kysely";

export interface LostEvents {
  /**
   * Calls `found` when events of `personalizationId` are stored after `last()` (the last one the stream
   * sent), as checked every interval. Returns `forget`.
   */
  watch(personalizationId: string, last: () => bigint, found: () => void): () => void;
  /** One check of every watched stream now (the interval runs it; tests may too). */
  check(): Promise<void>;
}

interface Watched {
  personalizationId: string;
  last: () => bigint;
  found: () => void;
}

export function lostEvents(db: Kysely<Database>, intervalMs: number, onError: (err: unknown) => void): LostEvents {
  const watched = new Set<Watched>();
  let timer: NodeJS.Timeout | null = null;

  const check = async () => {
    const streams = [...watched];
    if (streams.length === 0) return;
    const behind = await sql<{ i: string }>`
      select s.i from unnest(${streams.map((s) => s.personalizationId)}::uuid[],
        ${streams.map((s) => s.last().toString())}::bigint[]) with ordinality as s(personalization_id, last, i)
      where exists (
        select from app.events as e where e.personalization_id = s.personalization_id and e.id > s.last)`.execute(db);
    for (const { i } of behind.rows) {
      const stream = streams[Number(i) - 1]!;
      if (watched.has(stream)) stream.found();
    }
  };

  return {
    watch(personalizationId, last, found) {
      const stream: Watched = { personalizationId, last, found };
      watched.add(stream);
      if (!timer) {
        timer = setInterval(() => check().catch(onError), intervalMs);
        timer.unref();
      }
      return () => {
        watched.delete(stream);
        if (watched.size === 0 && timer) {
          clearInterval(timer);
          timer = null;
        }
      };
    },
    check,
  };
}
