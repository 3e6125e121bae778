// Request and response schemas of /v1/webhooks (validation and OpenAPI from one source).
import { webhookEventTypes } from "@faceapp/core";
import * as v from "valibot";

const Uuid = v.pipe(v.string(), v.uuid());

/** An absolute http(s) URL of at most 2048 characters; the address policy is the service's (https, public). */
export const WebhookUrl = v.pipe(
  v.string(),
  v.maxLength(2048, "must be at most 2048 characters"),
  v.url("must be an absolute URL"),
  v.regex(/^https?:\/\//i, "must be an http(s) URL"),
);

export const CreateWebhook = v.strictObject({
  url: WebhookUrl,
  /** The events to receive: at least one, each once. */
  events: v.pipe(
    v.array(v.picklist(webhookEventTypes)),
    v.minLength(1, "must name at least one event"),
    v.maxLength(webhookEventTypes.length),
    v.check((list) => new Set(list).size === list.length, "must not repeat an event"),
  ),
});
export const WebhookId = v.strictObject({ id: Uuid });
export const WebhookDeliveryId = v.strictObject({ id: Uuid, deliveryId: Uuid });
export const DeliveryQuery = v.strictObject({
  limit: v.optional(
    v.pipe(v.string(), v.regex(/^\d{1,3}$/), v.transform(Number), v.minValue(1), v.maxValue(100)),
    "50",
  ),
});

export const Webhook = v.object({
  id: v.string(),
  url: v.string(),
  events: v.array(v.picklist(webhookEventTypes)),
  createdAt: v.string(),
  updatedAt: v.string(),
});
/** Answered only when the secret is made (creation, rotation): it is never shown again. */
export const WebhookWithSecret = v.object({ ...Webhook.entries, secret: v.string() });
export const WebhookList = v.object({ items: v.array(Webhook) });

export const WebhookAttempt = v.object({
  attempt: v.number(),
  startedAt: v.string(),
  durationMs: v.number(),
  statusCode: v.nullable(v.number()),
  error: v.nullable(v.string()),
  responseExcerpt: v.nullable(v.string()),
});
export const WebhookDelivery = v.object({
  id: v.string(),
  eventType: v.picklist(webhookEventTypes),
  status: v.picklist(["pending", "delivering", "succeeded", "failed"]),
  attempts: v.number(),
  nextAttemptAt: v.nullable(v.string()),
  lastError: v.nullable(v.string()),
  payload: v.record(v.string(), v.unknown()),
  createdAt: v.string(),
  /** The latest attempts, newest first (at most 20). */
  attemptLog: v.array(WebhookAttempt),
});
export const WebhookDeliveryList = v.object({ items: v.array(WebhookDelivery) });
