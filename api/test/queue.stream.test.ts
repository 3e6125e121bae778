import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { redisUrl, type Spawned, serviceEnv, spawnRunner } from "@faceapp/testkit";
import { bearer, body, jsonInit, signUp, useApi } from "@faceapp/testkit/api";
import {
  book,
  createPersonalization,
  readEvents,
  readyPhoto,
  type SseEvent,
  waitForStatus,
} from "@faceapp/testkit/api";

// Three books wait for a gpu runner that draws one face page at a time (a real runner process, the
// composite engine). Each one's event stream says its place as the pages ahead of it finish.
vi.setConfig({ testTimeout: 180_000 });
const api = useApi({ env: { SSE_HEARTBEAT_SECONDS: "1", QUEUE_POSITION_INTERVAL_MS: "50" } });
let env: Record<string, string>;
const runners: Spawned[] = [];

beforeAll(async () => {
  await book(api, { slug: "moon", facePages: [1, 2], previewPages: [1, 2] });
  env = { ...serviceEnv(api.pg.url, api.s3Config, redisUrl), RUNNER_CONCURRENCY: "1" };
}, 60_000);
afterAll(async () => {
  await Promise.all(runners.map((r) => r.stop()));
});
afterEach(({ task }) => {
  if (task.result?.state !== "fail") return;
  for (const runner of runners) console.error("runner log tail:", JSON.stringify(runner.logs.slice(-20), null, 1));
});

type Place = [position: number, pagesAhead: number] | null;
const placeOf = (e: SseEvent): Place => (e.data.position === null ? null : [e.data.position, e.data.pagesAhead]);

/** The places a stream was told, repeats (an ETA that alone changed) folded. */
function places(events: SseEvent[]): Place[] {
  const seen: Place[] = [];
  for (const e of events.filter((e) => e.event === "queue")) {
    const place = placeOf(e);
    if (JSON.stringify(place) !== JSON.stringify(seen.at(-1))) seen.push(place);
  }
  return seen;
}

/** Whether `seen` is `all` with some middle steps missed (a tick may fall between two changes). */
function followsInOrder(seen: Place[], all: Place[]): boolean {
  if (JSON.stringify(seen[0]) !== JSON.stringify(all[0])) return false;
  if (JSON.stringify(seen.at(-1)) !== JSON.stringify(all.at(-1))) return false;
  let i = 0;
  for (const place of seen) {
    while (i < all.length && JSON.stringify(all[i]) !== JSON.stringify(place)) i++;
    if (i === all.length) return false;
    i++;
  }
  return true;
}

describe("books waiting for the gpu", () => {
  it("hear their place in order as the pages ahead finish, and the view says the same", async () => {
    const analysing = await spawnRunner("gpu", env);
    runners.push(analysing);
    const books: { token: string; id: string }[] = [];
    for (const tag of ["a", "b", "c"]) {
      const { token } = await signUp(api.app, tag);
      const created = await body(await createPersonalization(api.app, token, "moon", await readyPhoto(api.app, token)));
      books.push({ token, id: created.id });
    }
    for (const { token, id } of books) await waitForStatus(api.app, token, id, ["analyzed"]);
    await analysing.stop();

    // No gpu runner: the three previews queue up, A's pages first.
    for (const { token, id } of books) {
      const res = await api.app.request(
        `/v1/personalizations/${id}/generate`,
        jsonInit("POST", { childName: "Ada", childAge: 5 }, bearer(token)),
      );
      expect(res.status).toBe(202);
    }
    const c = books[2] as { token: string; id: string };
    const view = await body(await api.app.request(`/v1/personalizations/${c.id}`, { headers: bearer(c.token) }));
    expect(view.queue).toEqual({ position: 3, pagesAhead: 4, etaSeconds: null });

    let told = 0;
    const streams = books.map(async ({ token, id }) => {
      const res = await api.app.request(`/v1/personalizations/${id}/events`, { headers: bearer(token) });
      let counted = false;
      return readEvents(res, (events) => {
        if (!counted && events.some((e) => e.event === "queue")) {
          counted = true;
          told++;
        }
        return events.some((e) => e.event === "queue" && e.data.position === null);
      });
    });
    await expect.poll(() => told, { timeout: 20_000 }).toBe(3);
    runners.push(await spawnRunner("gpu", env));
    const [a, b, cEvents] = (await Promise.all(streams)).map((s) => s.events) as [SseEvent[], SseEvent[], SseEvent[]];

    // The pages are drawn one after another (concurrency 1). Between the last page of one book and the
    // first of the next, nothing is being drawn for a moment and the next book is first in line ([1, 0]).
    expect(places(a)).toEqual([[1, 0], null]);
    const bSeen = places(b);
    const cSeen = places(cEvents);
    expect(followsInOrder(bSeen, [[2, 2], [2, 1], [1, 0], null]), JSON.stringify(bSeen)).toBe(true);
    expect(followsInOrder(cSeen, [[3, 4], [3, 3], [2, 2], [2, 1], [1, 0], null]), JSON.stringify(cSeen)).toBe(true);
    // The first places had no measured page to go by; once A's first page was drawn, C's ETA rests on it.
    const cQueue = cEvents.filter((e) => e.event === "queue");
    expect(cQueue[0]?.data.etaSeconds).toBeNull();
    const measured = cQueue.filter((e) => e.data.position !== null && e.data.etaSeconds !== null);
    for (const e of measured) expect(e.data.etaSeconds).toBeGreaterThan(0);
    // Queue events are live only: none is stored for replay.
    expect(cQueue.every((e) => e.id === undefined)).toBe(true);
    const after = await body(await api.app.request(`/v1/personalizations/${c.id}`, { headers: bearer(c.token) }));
    expect(after.queue).toBeNull();
    // The four pages ahead of C were each measured before C's first page began.
    const [figure] = await api.pg.sql`select samples::int as n from app.engine_page_times where engine = 'composite'`;
    expect(figure?.n).toBeGreaterThanOrEqual(4);
  });
});
