// An event stream opened before its session ended must not keep delivering after it: a logout, an
// expired session row or the token's own expiry end the stream within a heartbeat, while streams of
// other sessions go on.
import { SignJWT } from "jose";
import { expect, it } from "vitest";
import { record } from "@faceapp/testkit";
import type { App } from "../src/app.ts";
import {
  bearer,
  body,
  signUp,
  TEST_SECRET,
  useApi,
  book,
  createPersonalization,
  readEvents,
  readyPhoto,
} from "@faceapp/testkit/api";

const api = useApi();

/** A user with a personalisation to watch, on `app`. */
async function watcher(app: App, slug: string) {
  const user = await signUp(app);
  const photo = await readyPhoto(app, user.token);
  const { id } = await body(await createPersonalization(app, user.token, slug, photo));
  return { ...user, id };
}

/** Opens the stream and reads its replay (the first status event). */
async function open(app: App, id: string, headers: Record<string, string>) {
  const res = await app.request(`/v1/personalizations/${id}/events`, { headers });
  expect(res.status).toBe(200);
  return res;
}

/** Reads until the server ends the stream; throws if it is still open after `timeoutMs`. */
const untilEnded = (res: Response, timeoutMs = 20_000) => readEvents(res, () => false, timeoutMs);

it("a logout ends the session's open streams (bearer and cookie) within a heartbeat; others go on", async () => {
  const app = api.build({ env: { SSE_HEARTBEAT_SECONDS: "1" } });
  await book(api, { slug: "stream-logout" });
  const leaving = await watcher(app, "stream-logout");
  const staying = await watcher(app, "stream-logout");
  const viaBearer = await open(app, leaving.id, bearer(leaving.token));
  const viaCookie = await open(app, leaving.id, { cookie: leaving.cookie });
  const other = await open(app, staying.id, bearer(staying.token));

  const out = await app.request("/v1/auth/logout", { method: "POST", headers: bearer(leaving.token) });
  expect(out.status).toBe(204);
  const loggedOutAt = Date.now();
  const [a, b] = await Promise.all([untilEnded(viaBearer), untilEnded(viaCookie)]);
  record(
    "event streams after logout",
    { streams: 2, heartbeatS: 1, logoutToEndMs: Date.now() - loggedOutAt },
    "Defences",
  );
  expect(a.events[0]).toMatchObject({ event: "status" });
  expect(b.events[0]).toMatchObject({ event: "status" });
  // The other user's stream still delivers.
  const reading = readEvents(other, (events) => events.some((e) => e.data.percent === 77));
  await api.deps.bus.publish(staying.id, [
    { type: "page", data: { stage: "preview", page: "page_1", state: "progress", percent: 77 } },
  ]);
  expect((await reading).events.at(-1)).toMatchObject({ event: "page", data: { percent: 77 } });
  // And the ended session cannot open another.
  expect(
    (await app.request(`/v1/personalizations/${leaving.id}/events`, { headers: bearer(leaving.token) })).status,
  ).toBe(401);
}, 60_000);

it("an expired session row ends its streams within a heartbeat", async () => {
  const app = api.build({ env: { SSE_HEARTBEAT_SECONDS: "1" } });
  await book(api, { slug: "stream-expire" });
  const user = await watcher(app, "stream-expire");
  const res = await open(app, user.id, bearer(user.token));
  const sid = JSON.parse(Buffer.from(user.token.split(".")[1]!, "base64url").toString()).sid as string;
  await api.pg
    .sql`update app.sessions set created_at = now() - interval '2 days', expires_at = now() - interval '1 second' where id = ${sid}`;
  const { events } = await untilEnded(res);
  expect(events[0]).toMatchObject({ event: "status" });
}, 60_000);

it("a stream ends when its token expires, though the session row lives on", async () => {
  // A heartbeat far longer than the test: only the token's own expiry can end this stream.
  const app = api.build({ env: { SSE_HEARTBEAT_SECONDS: "300" } });
  await book(api, { slug: "stream-token" });
  const user = await watcher(app, "stream-token");
  const { sub, sid } = JSON.parse(Buffer.from(user.token.split(".")[1]!, "base64url").toString());
  const shortLived = await new SignJWT({ sid })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(sub)
    .setExpirationTime(Math.floor(Date.now() / 1000) + 3)
    .sign(new TextEncoder().encode(TEST_SECRET));
  const res = await open(app, user.id, bearer(shortLived));
  const { events } = await untilEnded(res);
  expect(events[0]).toMatchObject({ event: "status" });
  // The session itself is live: the long-lived token still opens streams.
  const again = await open(app, user.id, bearer(user.token));
  await again.body?.cancel();
}, 60_000);
