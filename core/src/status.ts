import { type Kysely, sql } from "kysely";
import type { Database } from "./schema.ts";
import { insertEvent, type ProgressEvent } from "./progress.ts";
import { queueWebhookDeliveries } from "./webhooks/events.ts";

// The personalisation state machine: the one table of its moves (docs/ARCHITECTURE.md shows it, and
// core/test/status.test.ts walks it). The api's services and the runners' tasks move a personalisation
// only by naming an action of this table; every move is one conditional UPDATE
// (`... where status = any(from)`), so two actors can never both move the same row.

export const personalizationStatuses = [
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
const notFinal = personalizationStatuses.filter((s) => !finalStatuses.includes(s));

/**
 * Every move: action → the statuses it is allowed from, the status it leads to, and who makes it (the
 * api's services on a parent's request, or the runners' tasks). `create` has no `from`: it makes the
 * row, in the status every personalisation starts in.
 */
export const personalizationMoves = {
  /** The parent starts a book with a photo; its analysis is queued. */
  create: { from: [], to: "analyzing", by: "api" },
  /** The photo has one usable face (analyze_photo). */
  analysis_succeeded: { from: ["analyzing"], to: "analyzed", by: "runners" },
  /** No usable face, or the analysis failed for good (analyze_photo). */
  analysis_failed: { from: ["analyzing"], to: "analysis_failed", by: "runners" },
  /** The parent names the child: the preview's pages are queued. */
  generate: { from: ["analyzed"], to: "preview_generating", by: "api" },
  /** The last page of the preview is done (runners' fan-in). */
  preview_finished: { from: ["preview_generating"], to: "preview_ready", by: "runners" },
  /** A page of the preview failed for good. */
  preview_failed: { from: ["preview_generating"], to: "generation_failed", by: "runners" },
  /** The preview again with new seeds, at most 3 times. */
  regenerate: { from: ["preview_ready"], to: "preview_generating", by: "api" },
  /** Another photo: the analysis runs again. */
  replace_photo: {
    from: ["analyzed", "analysis_failed", "preview_ready", "generation_failed"],
    to: "analyzing",
    by: "api",
  },
  /** The parent confirms: every other page, then the print files. */
  confirm: { from: ["preview_ready"], to: "full_generating", by: "api" },
  /** The print files are stored (assemble_print). */
  print_finished: { from: ["full_generating"], to: "completed", by: "runners" },
  /** A page of the full book or its print files failed for good. */
  full_failed: { from: ["full_generating"], to: "generation_failed", by: "runners" },
  /** The parent stops all work: from every status that is not final. */
  cancel: { from: notFinal, to: "canceled", by: "api" },
} as const satisfies Record<
  string,
  { from: readonly PersonalizationStatus[]; to: PersonalizationStatus; by: "api" | "runners" }
>;
export type PersonalizationAction = keyof typeof personalizationMoves;

/** The status every personalisation starts in. */
export const initialStatus = personalizationMoves.create.to;

/** The statuses `action` is allowed from: a move from anything else is refused (409 `invalid_state` in the api). */
export const movesFrom = (action: PersonalizationAction): readonly PersonalizationStatus[] =>
  personalizationMoves[action].from;

/** The status `action` leads to. */
export const movesTo = <A extends PersonalizationAction>(action: A): (typeof personalizationMoves)[A]["to"] =>
  personalizationMoves[action].to;

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
 * Makes `action`'s move (personalizationMoves) and records the status event, in the caller's
 * transaction, with the webhook deliveries the move raises. Returns the event to publish after
 * commit, or null when the row was not in one of the statuses the action is allowed from.
 */
export async function transition(
  db: Kysely<Database>,
  personalizationId: string,
  action: Exclude<PersonalizationAction, "create">,
  options: TransitionOptions = {},
): Promise<ProgressEvent | null> {
  const { from, to } = personalizationMoves[action];
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
        },
        photo_descriptor = ${
          // The descriptor belongs to the analysis: cleared with it, kept otherwise (analyze_photo writes it).
          options.analysis === null ? sql`null` : sql`photo_descriptor`
        }
    where id = ${personalizationId} and status = any(${[...from]}::text[])
      ${options.photoUploadId === undefined ? sql`` : sql`and photo_upload_id = ${options.photoUploadId}`}
    returning id`.execute(db);
  if (rows.length === 0) return null;
  // Every move passes here, so this is the one place webhooks are raised.
  await queueWebhookDeliveries(db, personalizationId, to, reason);
  return insertEvent(db, personalizationId, "status", { status: to, ...(reason ? { reason } : {}), ...options.data });
}
