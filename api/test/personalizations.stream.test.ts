import { describe, expect, it } from "vitest";
import { MAX_STREAMS_PER_USER } from "../src/routes/personalizations.ts";
import { heartbeatDelay } from "../src/services/event-stream.ts";
import {
  bearer,
  body,
  signUp,
  useApi,
  book,
  createPersonalization,
  readEvents,
  readyPhoto,
} from "@faceapp/testkit/api";

const api = useApi();

async function waitUntil(probe: () => boolean, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("the event stream", () => {
  it("waits a random part of the interval for each heartbeat, so streams opened together do not write together", () => {
    // 1,000 streams opened within a second, in step, would write their heartbeats all at once every
    // interval (bench:sse). Drawn within [half, all] of it, never longer.
    const delays = Array.from({ length: 1000 }, () => heartbeatDelay(15_000));
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(7_500);
    expect(Math.max(...delays)).toBeLessThanOrEqual(15_000);
    // Spread over the whole range (a failure here is a chance under 1 in 10^29).
    expect(Math.min(...delays)).toBeLessThan(8_000);
    expect(Math.max(...delays)).toBeGreaterThan(14_500);
  });

  it("delivers live events published after it opened, and leaves no listener behind when the client goes", async () => {
    await book(api, { slug: "stream-book" });
    const user = await signUp(api.app);
    const photo = await readyPhoto(api.app, user.token);
    const { id } = await body(await createPersonalization(api.app, user.token, "stream-book", photo));
    const bus = api.deps.bus;
    const before = bus.listenerCount();
    const res = await api.app.request(`/v1/personalizations/${id}/events`, { headers: bearer(user.token) });
    const reading = readEvents(res, (events) => events.some((e) => e.event === "page" && e.data.state === "progress"));
    await waitUntil(() => bus.listenerCount() === before + 1);
    // A tick from a runner: published only, delivered live, without an id.
    await bus.publish(id, [
      { type: "page", data: { stage: "preview", page: "page_1", state: "progress", percent: 40 } },
    ]);
    const { events } = await reading;
    expect(events[0]).toMatchObject({ event: "status", data: { status: "analyzing" } });
    expect(events.at(-1)).toEqual({
      event: "page",
      data: { stage: "preview", page: "page_1", state: "progress", percent: 40 },
    });
    // readEvents cancelled the body: the stream's subscription must be gone.
    await waitUntil(() => bus.listenerCount() === before);
  });

  it(`is bounded per user (${MAX_STREAMS_PER_USER} at once), and the slots free up when streams close`, async () => {
    await book(api, { slug: "flood-book" });
    const user = await signUp(api.app);
    const photo = await readyPhoto(api.app, user.token);
    const { id } = await body(await createPersonalization(api.app, user.token, "flood-book", photo));
    const open: Response[] = [];
    for (let i = 0; i < MAX_STREAMS_PER_USER; i++) {
      const res = await api.app.request(`/v1/personalizations/${id}/events`, { headers: bearer(user.token) });
      expect(res.status).toBe(200);
      open.push(res);
    }
    const refused = await api.app.request(`/v1/personalizations/${id}/events`, { headers: bearer(user.token) });
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).toBe("5");
    expect((await body(refused)).error.code).toBe("rate_limited");
    // Another user is not affected.
    const other = await signUp(api.app);
    const otherPhoto = await readyPhoto(api.app, other.token);
    const mine = await body(await createPersonalization(api.app, other.token, "flood-book", otherPhoto));
    const theirs = await api.app.request(`/v1/personalizations/${mine.id}/events`, { headers: bearer(other.token) });
    expect(theirs.status).toBe(200);
    await theirs.body?.cancel();
    for (const res of open) await res.body?.cancel();
    await waitUntil(() => api.deps.bus.listenerCount() === 0);
    const again = await api.app.request(`/v1/personalizations/${id}/events`, { headers: bearer(user.token) });
    expect(again.status).toBe(200);
    await again.body?.cancel();
  });
});
