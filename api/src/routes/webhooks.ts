import { systemLookup } from "@faceapp/core";
import { Hono } from "hono";
import type { ApiContext } from "../context.ts";
import { doc } from "../http/openapi.ts";
import type { AppEnv } from "../http/types.ts";
import { emptyBody, json, NoQuery, params, query } from "../http/validate.ts";
import {
  CreateWebhook,
  DeliveryQuery,
  Webhook,
  WebhookDelivery,
  WebhookDeliveryId,
  WebhookDeliveryList,
  WebhookId,
  WebhookList,
  WebhookWithSecret,
} from "../webhook-schemas.ts";
import {
  createWebhook,
  deleteWebhook,
  getWebhook,
  listDeliveries,
  listWebhooks,
  retryDelivery,
  rotateWebhookSecret,
  type WebhookConfig,
} from "../services/webhooks.ts";

/** /v1/webhooks: signed event deliveries to a user's back-end (docs/webhooks.md). */
export function webhookRoutes(ctx: ApiContext) {
  const config: WebhookConfig = {
    encryptionKey: ctx.env.WEBHOOK_ENCRYPTION_KEY,
    perUser: ctx.env.WEBHOOKS_PER_USER,
    allowLocal: ctx.env.WEBHOOKS_ALLOW_LOCAL,
    lookup: ctx.lookup ?? systemLookup,
  };
  const tags = ["webhooks"];
  return new Hono<AppEnv>()
    .post(
      "/",
      doc({
        summary: "Register an endpoint (its secret is shown once)",
        tags,
        auth: "user",
        responses: { 201: WebhookWithSecret },
      }),
      ctx.auth,
      json(CreateWebhook),
      async (c) => c.json(await createWebhook(ctx.db, config, c.get("user").id, c.req.valid("json")), 201),
    )
    .get(
      "/",
      doc({ summary: "The user's endpoints", tags, auth: "user", responses: { 200: WebhookList } }),
      ctx.auth,
      query(NoQuery),
      async (c) => c.json(await listWebhooks(ctx.db, c.get("user").id)),
    )
    .get(
      "/:id",
      doc({ summary: "One endpoint", tags, auth: "user", responses: { 200: Webhook } }),
      ctx.auth,
      params(WebhookId),
      query(NoQuery),
      async (c) => c.json(await getWebhook(ctx.db, c.get("user").id, c.req.valid("param").id)),
    )
    .delete(
      "/:id",
      doc({ summary: "Delete an endpoint and its deliveries", tags, auth: "user", responses: { 204: null } }),
      ctx.auth,
      params(WebhookId),
      emptyBody(),
      async (c) => {
        await deleteWebhook(ctx.db, c.get("user").id, c.req.valid("param").id);
        return c.body(null, 204);
      },
    )
    .post(
      "/:id/rotate-secret",
      doc({ summary: "A new signing secret (shown once)", tags, auth: "user", responses: { 200: WebhookWithSecret } }),
      ctx.auth,
      params(WebhookId),
      emptyBody(),
      async (c) => c.json(await rotateWebhookSecret(ctx.db, config, c.get("user").id, c.req.valid("param").id)),
    )
    .get(
      "/:id/deliveries",
      doc({
        summary: "An endpoint's deliveries, newest first, with their attempts",
        tags,
        auth: "user",
        responses: { 200: WebhookDeliveryList },
      }),
      ctx.auth,
      params(WebhookId),
      query(DeliveryQuery),
      async (c) =>
        c.json(await listDeliveries(ctx.db, c.get("user").id, c.req.valid("param").id, c.req.valid("query").limit)),
    )
    .post(
      "/:id/deliveries/:deliveryId/retry",
      doc({ summary: "Send a finished delivery again", tags, auth: "user", responses: { 202: WebhookDelivery } }),
      ctx.auth,
      params(WebhookDeliveryId),
      emptyBody(),
      async (c) => {
        const { id, deliveryId } = c.req.valid("param");
        return c.json(await retryDelivery(ctx.db, c.get("user").id, id, deliveryId), 202);
      },
    );
}
