import { describe, expect, it } from "vitest";
import { MAX_STREAMS_PER_USER } from "../src/routes/personalizations.ts";
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
