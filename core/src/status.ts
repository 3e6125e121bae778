import { sql } from "kysely";
import type { AnyKysely } from "./kysely.ts";
import { insertEvent, type ProgressEvent } from "./progress.ts";
import { queueWebhookDeliveries } from "./webhooks/events.ts";

// The personalisation state machine (docs/ARCHITECTURE.md). Every move is one conditional UPDATE
// (`... where status = any(expected)`), so two actors can never both move the same row.

export const personalizationStatuses = [
  "uploaded",
  "analyzing",
  "analyzed",
  "analysis_failed",
  "preview_generating",
  "preview_ready",
  "full_generating",
  "completed",
  "generation_failed",
  "canceled",
] as const;
export type PersonalizationStatus = (typeof personalizationStatuses)[number];

export const finalStatuses: readonly PersonalizationStatus[] = ["completed", "canceled"];

/** Statuses from which cancel is allowed: every non-final one. */
export const cancelableStatuses = personalizationStatuses.filter((s) => !finalStatuses.includes(s));

export interface TransitionOptions {
  failureReason?: string | null;
  /** Move only while the personalisation still has this photo (analysis results of a replaced photo are dropped). */
  photoUploadId?: string;
  /** Stored with the move, in the same UPDATE; null clears it. */
  analysis?: Record<string, unknown> | null;
  /** Extra data for the status event. */
  data?: Record<string, unknown>;
}

/**
 * Moves a personalisation from one of `from` to `to` and records the status event, in the caller's
 * transaction, with the webhook deliveries the move raises. Returns the event to publish after commit,
 * or null when the row was not in `from`.
 */
export async function transition(
  db: AnyKysely,
  personalizationId: string,
  from: readonly PersonalizationStatus[],
  to: PersonalizationStatus,
  options: TransitionOptions = {},
): Promise<ProgressEvent | null> {
  const reason = options.failureReason ?? null;
  const { rows } = await sql<{ id: string }>`
    update app.personalizations
    set status = ${to}, failure_reason = ${reason}, updated_at = now(),
        analysis = ${
          options.analysis === undefined
            ? sql`analysis`
            : options.analysis === null
              ? sql`null`
              : sql`${options.analysis}::jsonb`
        }
    where id = ${personalizationId} and status = any(${[...from]}::text[])
      ${options.photoUploadId === undefined ? sql`` : sql`and photo_upload_id = ${options.photoUploadId}`}
    returning id`.execute(db);
  if (rows.length === 0) return null;
  // Every move passes here, so this is the one place webhooks are raised.
  await queueWebhookDeliveries(db, personalizationId, to, reason);
  return insertEvent(db, personalizationId, "status", { status: to, ...(reason ? { reason } : {}), ...options.data });
}
