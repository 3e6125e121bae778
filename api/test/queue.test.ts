import { randomUUID } from "node:crypto";
import { sql } from "kysely";
import { describe, expect, it } from "vitest";
import { addJob } from "@faceapp/core";
import { clearQueue, completeJob, failJobForGood, takeJobAs, useTestDatabase } from "@faceapp/testkit";
import { placeWaiting, type QueuePlace, queueWatch } from "../src/services/queue-watch.ts";

// The queue's arithmetic on real graphile-worker jobs: face-page jobs added as the api adds them,
// "drawn" by locking them as a worker does and finished by deleting them as graphile-worker does.

const t = useTestDatabase();

async function queueBook(pages: number): Promise<string> {
  const id = randomUUID();
  for (let n = 1; n <= pages; n++)
    await addJob(t.db, "personalize_page", {
      personalizationId: id,
      stage: "preview",
      page: `page_${n}`,
      generation: 0,
    });
  return id;
}
const job = (book: string, page: number) => `personalize_page:${book}:preview:page_${page}:0`;
// Each page is taken by a worker of its own, so finishing one releases no other page's lock.
const draw = (book: string, page: number) => takeJobAs(t, `w-${job(book, page)}`, job(book, page));
const finish = (book: string, page: number) => completeJob(t, job(book, page));

describe("the gpu queue", () => {
  it("places every waiting book in one query: books and face pages ahead, ETA from measured times and live runners", async () => {
    const [a, b, c] = [await queueBook(2), await queueBook(1), await queueBook(3)] as [string, string, string];
    await draw(a, 1);
    let places = await placeWaiting(t.db);
    // A is being drawn; B waits behind A's page in the works and A's queued one; C behind those and B's.
    expect([...places.keys()].sort()).toEqual([b, c].sort());
    expect(places.get(b)).toEqual({ position: 2, pagesAhead: 2, etaSeconds: null });
    expect(places.get(c)).toEqual({ position: 3, pagesAhead: 3, etaSeconds: null });

    // Measured pages of 30 s, two gpu runner processes alive (each beats for its pool and its workers).
    await sql`insert into app.engine_page_times (engine, mean_ms, samples) values ('composite', 30000, 4)`.execute(
      t.db,
    );
    await sql`insert into app.runner_heartbeats (worker_id, kind, host, pid) values
      ('pool-1', 'gpu', 'h1', 10), ('w-1', 'gpu', 'h1', 10), ('pool-2', 'gpu', 'h2', 10), ('w-2', 'gpu', 'h2', 10),
      ('r-1', 'render', 'h3', 11)`.execute(t.db);
    places = await placeWaiting(t.db);
    expect(places.get(c)).toEqual({ position: 3, pagesAhead: 3, etaSeconds: 45 });
    // A silent runner no longer counts.
    await sql`update app.runner_heartbeats set last_seen_at = now() - interval '5 minutes' where host = 'h2'`.execute(
      t.db,
    );
    expect((await placeWaiting(t.db)).get(c)).toEqual({ position: 3, pagesAhead: 3, etaSeconds: 90 });

    // A job that failed for good is no longer in the line; one retried later still is.
    await failJobForGood(t, job(a, 2), "failed for good");
    expect((await placeWaiting(t.db)).get(b)).toEqual({ position: 2, pagesAhead: 1, etaSeconds: 30 });
    await clearQueue(t);
  });

  it("tells each watcher its place when it changes, and once more when the book stops waiting", async () => {
    await sql`delete from app.engine_page_times`.execute(t.db);
    const [a, b, c] = [await queueBook(1), await queueBook(2), await queueBook(1)] as [string, string, string];
    const watch = queueWatch(t.db, 60_000, (err) => {
      throw err;
    });
    const seen: Record<string, (QueuePlace | null)[]> = { a: [], c: [] };
    const forgetA = watch.watch(a, (place) => seen.a?.push(place));
    const forgetC = watch.watch(c, (place) => seen.c?.push(place));
    await expect.poll(() => seen.c?.length).toBe(1);
    expect(seen.c).toEqual([{ position: 3, pagesAhead: 3, etaSeconds: null }]);
    expect(seen.a).toEqual([{ position: 1, pagesAhead: 0, etaSeconds: null }]);

    await watch.tick(); // nothing changed: nobody is told
    expect(seen.c).toHaveLength(1);
    await draw(a, 1);
    await watch.tick();
    expect(seen.a?.at(-1)).toBeNull();
    expect(seen.c).toHaveLength(1); // A's page moved from queued to drawn: still 3 pages and 2 books ahead
    await finish(a, 1);
    await draw(b, 1);
    await watch.tick();
    expect(seen.c?.at(-1)).toEqual({ position: 2, pagesAhead: 2, etaSeconds: null });
    await finish(b, 1);
    await watch.tick();
    expect(seen.c?.at(-1)).toEqual({ position: 2, pagesAhead: 1, etaSeconds: null });
    await finish(b, 2);
    await draw(c, 1);
    await watch.tick();
    expect(seen.c).toEqual([
      { position: 3, pagesAhead: 3, etaSeconds: null },
      { position: 2, pagesAhead: 2, etaSeconds: null },
      { position: 2, pagesAhead: 1, etaSeconds: null },
      null,
    ]);
    expect(seen.a).toEqual([{ position: 1, pagesAhead: 0, etaSeconds: null }, null]);
    // A view asks the same snapshot; forgetting every watcher stops the ticks' work.
    expect(await watch.placesOf([a, b, c])).toEqual(new Map());
    forgetA();
    forgetC();
  });

  it("tells a newcomer its place from a query begun after it came: never a place the book has left", async () => {
    await clearQueue(t);
    const a = await queueBook(1);
    const watch = queueWatch(t.db, 60_000, (err) => {
      throw err;
    });
    const first: (QueuePlace | null)[] = [];
    const forgetFirst = watch.watch(a, (place) => first.push(place));
    await expect.poll(() => first.length).toBe(1);
    await draw(a, 1); // no tick since: the last place known still says it waits
    const later: (QueuePlace | null)[] = [];
    const forgetLater = watch.watch(a, (place) => later.push(place));
    await watch.tick();
    expect(later).toEqual([]);
    expect(first).toEqual([{ position: 1, pagesAhead: 0, etaSeconds: null }, null]);
    forgetFirst();
    forgetLater();
    await clearQueue(t);
  });
});
