import { type Kysely, sql } from "kysely";
import { addJob } from "../jobs.ts";
import type { Database } from "../schema.ts";
import type { PersonalizationStatus } from "../status.ts";

// The events a webhook endpoint can subscribe to, and the status moves that raise them. Deliveries are
// added by `transition` (status.ts), in the transaction of the move itself: a status that changed
// always has its deliveries queued, and a move that rolled back never sends one.

export const webhookEventTypes = [
  "personalization.analyzed",
  "personalization.preview_ready",
  "personalization.completed",
  "personalization.failed",
  "personalization.canceled",
] as const;
export type WebhookEventType = (typeof webhookEventTypes)[number];

/** The event a move to a status raises, if any. */
export const webhookEventOf: Partial<Record<PersonalizationStatus, WebhookEventType>> = {
  analyzed: "personalization.analyzed",
  analysis_failed: "personalization.failed",
  preview_ready: "personalization.preview_ready",
  completed: "personalization.completed",
  generation_failed: "personalization.failed",
  canceled: "personalization.canceled",
};

/**
 * Queues one delivery (and its job) per endpoint of the personalisation's owner subscribed to the
 * event the move raises, in the caller's transaction. The payload follows the Standard Webhooks shape
 * `{type, timestamp, data}`; it is stored and signed as it is, on every attempt.
 */
export async function queueWebhookDeliveries(
  db: Kysely<Database>,
  personalizationId: string,
  status: PersonalizationStatus,
  reason: string | null,
): Promise<number> {
  const type = webhookEventOf[status];
  if (!type) return 0;
  const data = {
    id: personalizationId,
    status,
    ...(type === "personalization.failed" ? { stage: status === "analysis_failed" ? "analysis" : "generation" } : {}),
    ...(reason ? { reason } : {}),
  };
  const payload = { type, timestamp: new Date().toISOString(), data };
  const { rows } = await sql<{ id: string }>`
    insert into app.webhook_deliveries (endpoint_id, personalization_id, event_type, payload, next_attempt_at)
    select e.id, p.id, ${type}, ${payload}::jsonb, now()
    from app.personalizations p join app.webhook_endpoints e on e.owner_id = p.owner_id
    where p.id = ${personalizationId} and ${type}::text = any(e.events)
    returning id`.execute(db);
  for (const { id } of rows) await addJob(db, "deliver_webhook", { deliveryId: id });
  return rows.length;
}
