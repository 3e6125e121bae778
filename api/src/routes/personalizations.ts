import { AppError } from "@faceapp/core";
import { Hono } from "hono";
import * as v from "valibot";
import type { ApiContext } from "../context.ts";
import { sessionChecked } from "../http/auth.ts";
import { doc } from "../http/openapi.ts";
import { sseResponse } from "../http/sse.ts";
import type { AppEnv } from "../http/types.ts";
import { emptyBody, json, NoQuery, params, query } from "../http/validate.ts";
import {
  CreatePersonalization,
  EventsQuery,
  GeneratePreview,
  IdempotencyKey,
  Personalization,
  PersonalizationFile,
  PersonalizationId,
  PersonalizationList,
  PersonalizationQuery,
  ReplacePhoto,
} from "../personalization-schemas.ts";
import { streamEvents } from "../services/event-stream.ts";
import {
  assertOwned,
  fileDownload,
  createdView,
  getPersonalization,
  listPersonalizations,
} from "../services/personalization-views.ts";
import {
  cancelPersonalization,
  type Changed,
  confirmFull,
  createPersonalization,
  generatePreview,
  regeneratePreview,
  replacePhoto,
} from "../services/personalizations.ts";

/** Event streams one user may hold open at once on one api process. */
export const MAX_STREAMS_PER_USER = 8;

/** /v1/personalizations: the book made for one child, its stages, its live events and its files. */
export function personalizationRoutes(ctx: ApiContext) {
  const streams = new Map<string, number>();
  // Publish after commit, then answer with the fresh view.
  const respond = async <T extends { id: string }>(ownerId: string, change: Changed<T>) => {
    await ctx.bus.publish(change.value.id, change.events);
    return getPersonalization(ctx.db, ctx.bucket, ctx.queue, ownerId, change.value.id);
  };
  const action = (summary: string) =>
    [
      doc({ summary, tags: ["personalizations"], auth: "user", responses: { 202: Personalization } }),
      ctx.auth,
      params(PersonalizationId),
      emptyBody(),
    ] as const;

  return new Hono<AppEnv>()
    .post(
      "/",
      doc({
        summary: "Start a personalisation (analysis is queued)",
        tags: ["personalizations"],
        auth: "user",
        responses: { 202: Personalization },
      }),
      ctx.authFolded,
      json(CreatePersonalization),
      async (c) => {
        const header = c.req.header("idempotency-key");
        const key = header === undefined ? undefined : v.safeParse(IdempotencyKey, header);
        if (key && !key.success) throw new AppError("invalid_input", "Invalid Idempotency-Key header");
        const user = c.get("user");
        const change = await createPersonalization(ctx.db, user, c.req.valid("json"), key?.output);
        if (change.sessionChecked) sessionChecked(c);
        if (!change.book) return c.json(await respond(user.id, change), 202); // a replay: as it is now
        // Its status event is not published: nobody can be listening to an id this answer is the first
        // to tell (a stream opened later replays it from app.events, and runners listen for cancels
        // only), and a publish is a Redis round trip plus a message every api process parses.
        return c.json(await createdView(ctx.bucket, change.value, change.book), 202);
      },
    )
    .get(
      "/",
      doc({
        summary: "My personalisations, newest first",
        tags: ["personalizations"],
        auth: "user",
        responses: { 200: PersonalizationList },
      }),
      ctx.auth,
      query(PersonalizationQuery),
      async (c) =>
        c.json(await listPersonalizations(ctx.db, ctx.bucket, ctx.queue, c.get("user").id, c.req.valid("query"))),
    )
    .get(
      "/:id",
      doc({
        summary: "A personalisation with its pages and files",
        tags: ["personalizations"],
        auth: "user",
        responses: { 200: Personalization },
      }),
      ctx.auth,
      params(PersonalizationId),
      query(NoQuery),
      async (c) =>
        c.json(await getPersonalization(ctx.db, ctx.bucket, ctx.queue, c.get("user").id, c.req.valid("param").id)),
    )
    .post(
      "/:id/generate",
      doc({
        summary: "Name the child and make the preview",
        tags: ["personalizations"],
        auth: "user",
        responses: { 202: Personalization },
      }),
      ctx.auth,
      params(PersonalizationId),
      json(GeneratePreview),
      async (c) => {
        const user = c.get("user").id;
        const change = await generatePreview(ctx.db, ctx.bucket, user, c.req.valid("param").id, c.req.valid("json"));
        return c.json(await respond(user, change), 202);
      },
    )
    .post("/:id/regenerate", ...action("Make the preview again with new seeds (at most 3 times)"), async (c) => {
      const user = c.get("user").id;
      return c.json(await respond(user, await regeneratePreview(ctx.db, user, c.req.valid("param").id)), 202);
    })
    .post("/:id/confirm", ...action("Make the full book and its print files"), async (c) => {
      const user = c.get("user").id;
      return c.json(await respond(user, await confirmFull(ctx.db, user, c.req.valid("param").id)), 202);
    })
    .post("/:id/cancel", ...action("Stop all work on it"), async (c) => {
      const user = c.get("user").id;
      return c.json(await respond(user, await cancelPersonalization(ctx.db, user, c.req.valid("param").id)), 202);
    })
    .put(
      "/:id/photo",
      doc({
        summary: "Use another photo (analysis runs again)",
        tags: ["personalizations"],
        auth: "user",
        responses: { 202: Personalization },
      }),
      ctx.auth,
      params(PersonalizationId),
      json(ReplacePhoto),
      async (c) => {
        const user = c.get("user").id;
        const change = await replacePhoto(ctx.db, user, c.req.valid("param").id, c.req.valid("json").photoUploadId);
        return c.json(await respond(user, change), 202);
      },
    )
    .get(
      "/:id/files/:name",
      doc({
        summary: "Download a print file (302 to a short-lived URL)",
        tags: ["personalizations"],
        auth: "user",
        responses: { 302: null },
      }),
      ctx.auth,
      params(PersonalizationFile),
      query(NoQuery),
      async (c) => {
        const { id, name } = c.req.valid("param");
        const { url } = await fileDownload(ctx.db, ctx.bucket, c.get("user").id, id, name);
        return c.redirect(url, 302);
      },
    )
    .get(
      "/:id/events",
      doc({
        summary: "Live events (SSE): replay after Last-Event-ID (else `after`, the view's lastEventId), then live",
        tags: ["personalizations"],
        auth: "user",
        responses: { 200: null },
      }),
      ctx.auth,
      params(PersonalizationId),
      query(EventsQuery),
      async (c) => {
        const { id: user, sessionId, expiresAtMs } = c.get("user");
        const { id } = c.req.valid("param");
        await assertOwned(ctx.db, user, id);
        const open = streams.get(user) ?? 0;
        if (open >= MAX_STREAMS_PER_USER) {
          c.header("Retry-After", "5");
          throw new AppError("rate_limited", `At most ${MAX_STREAMS_PER_USER} event streams at once`);
        }
        streams.set(user, open + 1);
        // The browser's own resume (Last-Event-ID, after a drop) is newer than the page's first view.
        const lastEventId = c.req.header("last-event-id") ?? c.req.valid("query").after;
        // Ended within a heartbeat of a logout, and at the token's expiry: the session is checked
        // again while the stream is open, not only when it opened.
        const end = new AbortController();
        const forget = ctx.sessions.watch(sessionId, expiresAtMs, end);
        return sseResponse(
          c,
          async (sink, signal) => {
            try {
              await streamEvents(ctx.db, ctx.bus, ctx.bucket, id, lastEventId, sink, signal, {
                heartbeatMs: ctx.env.SSE_HEARTBEAT_SECONDS * 1000,
                lost: ctx.lost,
                queue: ctx.queue,
              });
            } finally {
              forget();
              const left = (streams.get(user) ?? 1) - 1;
              if (left > 0) streams.set(user, left);
              else streams.delete(user);
            }
          },
          (err) => ctx.logger.warn({ err }, "event stream ended with an error"),
          ctx.closing,
          end,
        );
      },
    );
}
