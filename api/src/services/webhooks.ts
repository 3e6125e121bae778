import {
  AppError,
  addJob,
  newWebhookSecret,
  resolveTarget,
  sealSecret,
  type TargetPolicy,
  WebhookTargetError,
  type WebhookEventType,
} from "@faceapp/core";
import type { Database } from "@faceapp/sql";
import { type Kysely, sql } from "kysely";

// A user's webhook endpoints and their deliveries (docs/webhooks.md). Every query is scoped to the
// owner: another user's endpoint or delivery is "not found", like one that does not exist.

export interface WebhookConfig extends TargetPolicy {
  encryptionKey: string;
  /** Endpoints one user may register. */
  perUser: number;
}

const notFound = () => new AppError("not_found", "Webhook not found");

type EndpointRow = { id: string; url: string; events: WebhookEventType[]; created_at: Date; updated_at: Date };
const view = (row: EndpointRow) => ({
  id: row.id,
  url: row.url,
  events: row.events,
  createdAt: row.created_at.toISOString(),
  updatedAt: row.updated_at.toISOString(),
});
const columns = ["id", "url", "events", "created_at", "updated_at"] as const;

/** The URL checked as a delivery would check it: https, and every address of its host public. */
async function checkUrl(config: WebhookConfig, url: string): Promise<void> {
  try {
    await resolveTarget(url, config);
  } catch (error) {
    if (!(error instanceof WebhookTargetError)) throw error;
    throw new AppError("invalid_input", `This webhook URL is refused: ${error.message}`, {
      issues: [{ path: "url", problem: error.message }],
    });
  }
}

export async function createWebhook(
  db: Kysely<Database>,
  config: WebhookConfig,
  ownerId: string,
  input: { url: string; events: WebhookEventType[] },
) {
  await checkUrl(config, input.url);
  const secret = newWebhookSecret();
  const row = await db.transaction().execute(async (tx) => {
    // The owner's row lock serialises their registrations, so the limit holds under concurrency.
    await sql`select 1 from app.users where id = ${ownerId} for update`.execute(tx);
    const { count } = await tx
      .selectFrom("app.webhook_endpoints")
      .select((eb) => eb.fn.countAll<string>().as("count"))
      .where("owner_id", "=", ownerId)
      .executeTakeFirstOrThrow();
    if (Number(count) >= config.perUser)
      throw new AppError("conflict", `At most ${config.perUser} webhook endpoints per account; delete one first`, {
        limit: config.perUser,
      });
    return tx
      .insertInto("app.webhook_endpoints")
      .values({
        owner_id: ownerId,
        url: input.url,
        events: input.events,
        secret_sealed: sealSecret(secret, config.encryptionKey),
      })
      .returning(columns)
      .executeTakeFirstOrThrow();
  });
  return { ...view(row), secret };
}

export async function listWebhooks(db: Kysely<Database>, ownerId: string) {
  const rows = await db
    .selectFrom("app.webhook_endpoints")
    .select(columns)
    .where("owner_id", "=", ownerId)
    .orderBy("created_at")
    .orderBy("id")
    .execute();
  return { items: rows.map(view) };
}

export async function getWebhook(db: Kysely<Database>, ownerId: string, id: string) {
  const row = await db
    .selectFrom("app.webhook_endpoints")
    .select(columns)
    .where("id", "=", id)
    .where("owner_id", "=", ownerId)
    .executeTakeFirst();
  if (!row) throw notFound();
  return view(row);
}

/** Deletes an endpoint with its deliveries; their queued jobs then find nothing to send. */
export async function deleteWebhook(db: Kysely<Database>, ownerId: string, id: string): Promise<void> {
  const result = await db
    .deleteFrom("app.webhook_endpoints")
    .where("id", "=", id)
    .where("owner_id", "=", ownerId)
    .executeTakeFirst();
  if (result.numDeletedRows === 0n) throw notFound();
}

/** A new secret, at once: attempts from now on are signed with it only. */
export async function rotateWebhookSecret(db: Kysely<Database>, config: WebhookConfig, ownerId: string, id: string) {
  const secret = newWebhookSecret();
  const row = await db
    .updateTable("app.webhook_endpoints")
    .set({ secret_sealed: sealSecret(secret, config.encryptionKey), updated_at: new Date() })
    .where("id", "=", id)
    .where("owner_id", "=", ownerId)
    .returning(columns)
    .executeTakeFirst();
  if (!row) throw notFound();
  return { ...view(row), secret };
}

/** Attempts shown with each delivery, newest first. */
const ATTEMPTS_SHOWN = 20;

async function deliveries(db: Kysely<Database>, ownerId: string, endpointId: string, limit: number, id?: string) {
  await getWebhook(db, ownerId, endpointId);
  let q = db
    .selectFrom("app.webhook_deliveries as d")
    .selectAll("d")
    .select((eb) =>
      sql<
        {
          attempt: number;
          started_at: string;
          duration_ms: number;
          status_code: number | null;
          error: string | null;
          response_excerpt: string | null;
        }[]
      >`coalesce((select json_agg(a order by a.attempt desc) from (
          select attempt, started_at, duration_ms, status_code, error, response_excerpt from app.webhook_attempts
          where delivery_id = ${eb.ref("d.id")} order by id desc limit ${ATTEMPTS_SHOWN}) a), '[]')`.as("attempt_log"),
    )
    .where("d.endpoint_id", "=", endpointId)
    .orderBy("d.created_at", "desc")
    .orderBy("d.id", "desc")
    .limit(limit);
  if (id) q = q.where("d.id", "=", id);
  const rows = await q.execute();
  return rows.map((d) => ({
    id: d.id,
    eventType: d.event_type,
    status: d.status,
    attempts: d.attempts,
    nextAttemptAt: d.next_attempt_at?.toISOString() ?? null,
    lastError: d.last_error,
    payload: d.payload,
    createdAt: d.created_at.toISOString(),
    attemptLog: d.attempt_log.map((a) => ({
      attempt: a.attempt,
      startedAt: new Date(a.started_at).toISOString(),
      durationMs: a.duration_ms,
      statusCode: a.status_code,
      error: a.error,
      responseExcerpt: a.response_excerpt,
    })),
  }));
}

export async function listDeliveries(db: Kysely<Database>, ownerId: string, endpointId: string, limit: number) {
  return { items: await deliveries(db, ownerId, endpointId, limit) };
}

/**
 * Sends a finished delivery (succeeded or failed) again: a new round of attempts with the same
 * `webhook-id` and payload, so receivers can tell it is the same event.
 */
export async function retryDelivery(db: Kysely<Database>, ownerId: string, endpointId: string, deliveryId: string) {
  await getWebhook(db, ownerId, endpointId);
  // Read back before the commit: once committed, a runner may already be attempting it.
  return db.transaction().execute(async (tx) => {
    const row = await tx
      .updateTable("app.webhook_deliveries")
      .set({ status: "pending", round_start: sql`attempts`, next_attempt_at: new Date(), updated_at: new Date() })
      .where("id", "=", deliveryId)
      .where("endpoint_id", "=", endpointId)
      .where("status", "in", ["succeeded", "failed"])
      .returning("id")
      .executeTakeFirst();
    if (row) {
      await addJob(tx, "deliver_webhook", { deliveryId });
      const [delivery] = await deliveries(tx, ownerId, endpointId, 1, deliveryId);
      return delivery;
    }
    const exists = await tx
      .selectFrom("app.webhook_deliveries")
      .select("status")
      .where("id", "=", deliveryId)
      .where("endpoint_id", "=", endpointId)
      .executeTakeFirst();
    if (!exists) throw new AppError("not_found", "Delivery not found");
    throw new AppError("invalid_state", "This delivery is still being attempted; it can be sent again once it ends", {
      status: exists.status,
    });
  });
}
