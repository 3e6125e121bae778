// Long-lived responses (event streams) outlive the request that checked their session: this ends them
// when the session is revoked (logout) or expires. One query per interval for every stream of the
// process, whatever their number, and a timer at each stream's token expiry.
import type { Database } from "@faceapp/sql";
import { type Kysely, sql } from "kysely";

export interface SessionWatch {
  /**
   * Aborts `stream` once session `sessionId` is found revoked, expired or gone (checked every
   * interval), or at `expiresAtMs` (the token's `exp`), whichever comes first. Returns `forget`.
   */
  watch(sessionId: string, expiresAtMs: number, stream: AbortController): () => void;
  /** One check of every watched session now (the interval runs it; tests may too). */
  check(): Promise<void>;
}

/** setTimeout's longest delay; a later expiry is left to the interval's check of the session row. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export function sessionWatch(db: Kysely<Database>, intervalMs: number, onError: (err: unknown) => void): SessionWatch {
  const watched = new Map<string, Set<AbortController>>();
  let timer: NodeJS.Timeout | null = null;

  const end = (sessionId: string) => {
    for (const stream of watched.get(sessionId) ?? []) stream.abort();
    watched.delete(sessionId);
  };

  const check = async () => {
    const ids = [...watched.keys()];
    if (ids.length === 0) return;
    const live = await db
      .selectFrom("app.sessions")
      .select("id")
      .where(sql<boolean>`id = any(${ids}::uuid[])`)
      .where("revoked_at", "is", null)
      .where("expires_at", ">", new Date())
      .execute();
    const alive = new Set(live.map((row) => row.id));
    for (const id of ids) if (!alive.has(id)) end(id);
  };

  const tick = () => {
    check().catch(onError);
  };

  return {
    watch(sessionId, expiresAtMs, stream) {
      let streams = watched.get(sessionId);
      if (!streams) {
        streams = new Set();
        watched.set(sessionId, streams);
      }
      streams.add(stream);
      if (!timer) {
        timer = setInterval(tick, intervalMs);
        timer.unref();
      }
      const expiry = setTimeout(() => stream.abort(), Math.min(Math.max(expiresAtMs - Date.now(), 0), MAX_TIMER_MS));
      expiry.unref();
      return () => {
        clearTimeout(expiry);
        const set = watched.get(sessionId);
        set?.delete(stream);
        if (set?.size === 0) watched.delete(sessionId);
        if (watched.size === 0 && timer) {
          clearInterval(timer);
          timer = null;
        }
      };
    },
    check,
  };
}
