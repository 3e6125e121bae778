import { sql } from "kysely";
import { Webhook } from "standardwebhooks";
import { addJob, type LookupAll, openSecret, resolveTarget, WebhookTargetError } from "@faceapp/core";
import type { Pg } from "@faceapp/sql";
import { type SendLimits, type SendResult, sendPinned } from "./send.ts";

/** How the render runner delivers webhooks (env in production; tests set their own). */
export interface WebhookSettings {
  encryptionKey: string;
  allowLocal: boolean;
  lookup: LookupAll;
  /** Wait before each retry of a round: the round ends, failed, after `retryDelaysMs.length + 1` attempts. */
  retryDelaysMs: number[];
  limits: SendLimits;
}

/** The bounded start of a response kept with its attempt. */
export const EXCERPT_CHARS = 2048;

type Outcome = { ok: boolean; status: number | null; error: string | null; body: string; address: string | null };

/**
 * One attempt of a delivery: taken (pending → delivering), checked and sent, then recorded with the
 * next step in one transaction: succeeded, the next attempt scheduled, or failed once its round of
 * retries is spent. Nothing to do when the delivery is not pending (done, or its endpoint deleted).
 */
export async function attemptDelivery(pg: Pg, settings: WebhookSettings, deliveryId: string): Promise<void> {
  // A delivery left `delivering` by a runner that died is taken again by the job's retry.
  const { rows } = await sql<{
    attempts: number;
    round_start: number;
    payload: Record<string, unknown>;
    url: string;
    secret_sealed: string;
  }>`
    update app.webhook_deliveries d set status = 'delivering', attempts = attempts + 1, updated_at = now()
    from app.webhook_endpoints e
    where d.id = ${deliveryId} and e.id = d.endpoint_id and d.status in ('pending', 'delivering')
    returning d.attempts, d.round_start, d.payload, e.url, e.secret_sealed`.execute(pg.db);
  const delivery = rows[0];
  if (!delivery) return;

  const startedAt = new Date();
  const started = performance.now();
  const outcome = await send(settings, deliveryId, delivery);
  const durationMs = Math.round(performance.now() - started);

  const inRound = delivery.attempts - delivery.round_start;
  const delay = settings.retryDelaysMs[inRound - 1];
  const next = outcome.ok ? "succeeded" : delay === undefined ? "failed" : "pending";
  const nextAt = next === "pending" ? new Date(Date.now() + (delay ?? 0)) : null;
  await pg.db.transaction().execute(async (tx) => {
    await tx
      .insertInto("app.webhook_attempts")
      .values({
        delivery_id: deliveryId,
        attempt: delivery.attempts,
        started_at: startedAt,
        duration_ms: durationMs,
        status_code: outcome.status,
        error: outcome.error,
        response_excerpt: outcome.body.slice(0, EXCERPT_CHARS) || null,
        address: outcome.address,
      })
      .execute();
    await tx
      .updateTable("app.webhook_deliveries")
      .set({ status: next, next_attempt_at: nextAt, last_error: outcome.error, updated_at: new Date() })
      .where("id", "=", deliveryId)
      .execute();
    if (nextAt) await addJob(tx, "deliver_webhook", { deliveryId }, { runAt: nextAt });
  });
}

async function send(
  settings: WebhookSettings,
  deliveryId: string,
  delivery: { payload: Record<string, unknown>; url: string; secret_sealed: string },
): Promise<Outcome> {
  let target: Awaited<ReturnType<typeof resolveTarget>>;
  try {
    // Checked again at every attempt: what was public at registration may not be now.
    target = await resolveTarget(delivery.url, settings);
  } catch (error) {
    if (!(error instanceof WebhookTargetError)) throw error;
    return { ok: false, status: null, error: `refused: ${error.message}`, body: "", address: null };
  }
  const body = JSON.stringify(delivery.payload);
  const timestamp = new Date();
  const signature = new Webhook(openSecret(delivery.secret_sealed, settings.encryptionKey)).sign(
    deliveryId,
    timestamp,
    body,
  );
  const headers = {
    "webhook-id": deliveryId,
    "webhook-timestamp": String(Math.floor(timestamp.getTime() / 1000)),
    "webhook-signature": signature,
    "user-agent": "faceapp-webhooks/1",
  };
  const result: SendResult = await sendPinned(target, headers, body, settings.limits);
  const ok = result.status !== null && result.status >= 200 && result.status < 300;
  const error =
    result.error ??
    (ok
      ? null
      : result.status !== null && result.status >= 300 && result.status < 400
        ? `answered ${result.status}: redirects are not followed`
        : `answered ${result.status}`);
  return { ok, status: result.status, error, body: result.body, address: target.address };
}

/** The limits of production: 5 s to connect, 64 KiB of an answer read at most. */
export const DEFAULT_SEND_LIMITS: SendLimits = {
  connectTimeoutMs: 5000,
  timeoutMs: 15_000,
  maxResponseBytes: 64 * 1024,
};

/** For runners given no webhook to send (benchmarks, tests of other tasks): any delivery is refused. */
export const noWebhooks: WebhookSettings = {
  encryptionKey: "",
  allowLocal: false,
  lookup: async () => [],
  retryDelaysMs: [],
  limits: DEFAULT_SEND_LIMITS,
};
