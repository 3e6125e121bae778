// Personalisation helpers: a verified photo, a book, and reading the event stream as a browser does.
import fs from "node:fs";
import type { App } from "@faceapp/api";
import { seedBook, type TestBookOptions } from "../book.ts";
import { fixturePath } from "../fixtures.ts";
import { readSse } from "../sse.ts";
import { bearer, body, jsonInit, type TestApi } from "./app.ts";
import { complete, createTicket, postToBucket } from "./uploads.ts";

/** Uploads a photo through a presigned POST and verifies it; returns the upload id. */
export async function readyPhoto(app: App, token: string, file = "face-astronaut.png"): Promise<string> {
  const bytes = fs.readFileSync(fixturePath(file));
  const ticket = await createTicket(app, token, "image/png", bytes.length);
  const posted = await postToBucket(ticket, bytes, file);
  if (!posted.ok) throw new Error(`upload to the bucket failed: ${posted.status}`);
  const done = await complete(app, token, ticket.id);
  if (done.status !== 200) throw new Error(`complete failed: ${done.status} ${await done.text()}`);
  return ticket.id;
}

export async function book(api: TestApi, options: TestBookOptions = {}) {
  return seedBook(api.pg, api.s3Config, options);
}

export async function createPersonalization(
  app: App,
  token: string,
  bookSlug: string,
  photoUploadId: string,
  headers = {},
) {
  return app.request(
    "/v1/personalizations",
    jsonInit("POST", { bookSlug, photoUploadId }, { ...bearer(token), ...headers }),
  );
}

/** Polls the resource until its status is one of `statuses`. */
export async function waitForStatus(app: App, token: string, id: string, statuses: string[], timeoutMs = 90_000) {
  const deadline = Date.now() + timeoutMs;
  let last = await body(await app.request(`/v1/personalizations/${id}`, { headers: bearer(token) }));
  while (Date.now() < deadline) {
    last = await body(await app.request(`/v1/personalizations/${id}`, { headers: bearer(token) }));
    if (statuses.includes(last.status)) return last;
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`still ${last.status} after ${timeoutMs} ms, waiting for ${statuses.join("|")}`);
}

export interface SseEvent {
  id?: string;
  event: string;
  /** Parsed JSON, loosely typed for assertions. */
  data: Awaited<ReturnType<typeof body>>;
}

/** Parses an SSE body as it arrives; `until` decides when to stop reading. */
export async function readEvents(
  response: Response,
  until: (events: SseEvent[], comments: string[]) => boolean,
  timeoutMs = 60_000,
): Promise<{ events: SseEvent[]; comments: string[] }> {
  const events: SseEvent[] = [];
  const comments: string[] = [];
  const deadline = Date.now() + timeoutMs;
  await readSse(
    response.body!,
    {
      onEvent: (m) => {
        if (m.event) events.push({ id: m.id, event: m.event, data: JSON.parse(m.data) });
      },
      onComment: (comment) => comments.push(comment.trim()),
    },
    () => {
      if (until(events, comments)) return false;
      if (Date.now() > deadline)
        throw new Error(`stream: condition not met; got ${events.map((e) => e.event).join(",")}`);
      return true;
    },
  );
  return { events, comments };
}
