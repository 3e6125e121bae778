import type { ColumnType, Generated, Insertable, Selectable, Updateable } from "kysely";
import type { Stage } from "./keys.ts";
import type { EventType } from "./progress.ts";
import type { PersonalizationStatus } from "./status.ts";
import type { WebhookEventType } from "./webhooks/events.ts";

// The Kysely types of the database. Mirrors sql/migrations. They live in core, not in @faceapp/sql
// (which depends on core), so that core's shared statements are typed against the real tables;
// @faceapp/sql re-exports them. Columns with a database default are Generated; jsonb is typed by its use.

type CreatedAt = ColumnType<Date, never, never>;
type UpdatedAt = ColumnType<Date, Date | undefined, Date>;
type Json<T> = ColumnType<T, T, T>;

export type UploadStatus = "pending" | "ready" | "rejected";
export type PageStatus = "pending" | "personalizing" | "rendering" | "done" | "failed" | "canceled";
export type RunnerKind = "gpu" | "render";
export type ChildGender = "girl" | "boy" | "unspecified";

export interface UsersTable {
  id: Generated<string>;
  email: string;
  password_hash: string;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export interface SessionsTable {
  id: Generated<string>;
  user_id: string;
  created_at: CreatedAt;
  expires_at: Date;
  revoked_at: Date | null;
  user_agent: string | null;
}

export interface UploadsTable {
  id: Generated<string>;
  owner_id: string;
  object_key: string;
  content_type: "image/jpeg" | "image/png" | "image/webp";
  declared_bytes: number;
  status: Generated<UploadStatus>;
  reject_reason: string | null;
  width: number | null;
  height: number | null;
  bytes: number | null;
  sha256: string | null;
  created_at: CreatedAt;
  verified_at: Date | null;
}

export interface BooksTable {
  id: Generated<string>;
  slug: string;
  title: string;
  description: Generated<string>;
  language: Generated<string>;
  category: string;
  age_min: number;
  age_max: number;
  manifest_key: string;
  manifest: Json<unknown>;
  cover_key: string;
  page_count: number;
  preview_pages: Generated<string[]>;
  published: Generated<boolean>;
  search: ColumnType<string, never, never>;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export interface PersonalizationsTable {
  id: Generated<string>;
  owner_id: string;
  book_id: string;
  photo_upload_id: string;
  child_name: string | null;
  child_age: number | null;
  child_gender: ChildGender | null;
  /** The name's forms by key of core's NAME_FORMS (`gen`, `voc`, `poss` …): declined, then overridden. */
  child_name_forms: ColumnType<Record<string, string>, Record<string, string> | undefined, Record<string, string>>;
  /** The forms the parent corrected. */
  child_name_overrides: ColumnType<Record<string, string>, Record<string, string> | undefined, Record<string, string>>;
  analysis: Json<unknown> | null;
  /** The photo's face descriptor (face-api, 128 numbers) the drawn pages are measured against; private. */
  photo_descriptor: number[] | null;
  status: Generated<PersonalizationStatus>;
  failure_reason: string | null;
  regenerate_count: Generated<number>;
  /** Bumped by every stage start and photo replacement: older jobs' writes are refused. */
  generation: Generated<number>;
  /** bigint: postgres.js returns it as a string. */
  seed: ColumnType<string, string | number, string | number>;
  files: ColumnType<Record<string, string>, Record<string, string> | undefined, Record<string, string>>;
  idempotency_key: string | null;
  request_hash: string | null;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export interface PersonalizationPagesTable {
  personalization_id: string;
  stage: Stage;
  page: string;
  generation: Generated<number>;
  status: Generated<PageStatus>;
  needs_face: boolean;
  attempt: Generated<number>;
  seed: ColumnType<string, string | number, string | number>;
  background_key: string | null;
  print_key: string | null;
  web_key: string | null;
  comfy_prompt_id: string | null;
  failure_reason: string | null;
  /** Descriptor distance of the drawn face to the photo's (lower is more alike); null: not measured. */
  likeness_distance: number | null;
  /** The first drawing was unlike the child and the page was drawn once more. */
  likeness_redrawn: Generated<boolean>;
  /** Still unlike the child after the redraw: kept, and the parent is offered to draw it again. */
  likeness_flagged: Generated<boolean>;
  updated_at: UpdatedAt;
}

export interface EventsTable {
  /** bigserial: a string, to keep its full range. */
  id: Generated<string>;
  personalization_id: string;
  type: EventType;
  data: Json<Record<string, unknown>>;
  created_at: CreatedAt;
}

export interface RunnerHeartbeatsTable {
  worker_id: string;
  kind: RunnerKind;
  host: string;
  pid: number;
  started_at: CreatedAt;
  last_seen_at: UpdatedAt;
}

export interface EnginePageTimesTable {
  engine: string;
  /** A moving mean of one face page's share of its runner, in ms (runners/src/pipeline/page-times.ts). */
  mean_ms: number;
  /** bigint: postgres.js returns it as a string. */
  samples: ColumnType<string, string | number, string | number>;
  updated_at: UpdatedAt;
}

export type WebhookDeliveryStatus = "pending" | "delivering" | "succeeded" | "failed";

export interface WebhookEndpointsTable {
  id: Generated<string>;
  owner_id: string;
  url: string;
  events: WebhookEventType[];
  /** The `whsec_` secret, sealed with WEBHOOK_ENCRYPTION_KEY (core's sealSecret). */
  secret_sealed: string;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export interface WebhookDeliveriesTable {
  /** The `webhook-id` header. */
  id: Generated<string>;
  endpoint_id: string;
  personalization_id: string | null;
  event_type: WebhookEventType;
  payload: Json<Record<string, unknown>>;
  status: Generated<WebhookDeliveryStatus>;
  attempts: Generated<number>;
  /** `attempts` when the current round of retries began (creation, or a re-send). */
  round_start: Generated<number>;
  next_attempt_at: Date | null;
  last_error: string | null;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export interface WebhookAttemptsTable {
  id: Generated<string>;
  delivery_id: string;
  attempt: number;
  started_at: Date;
  duration_ms: number;
  status_code: number | null;
  error: string | null;
  response_excerpt: string | null;
  address: string | null;
}

export interface SchemaMigrationsTable {
  version: number;
  name: string;
  checksum: string;
  applied_at: CreatedAt;
}

export interface Database {
  "app.users": UsersTable;
  "app.sessions": SessionsTable;
  "app.uploads": UploadsTable;
  "app.books": BooksTable;
  "app.personalizations": PersonalizationsTable;
  "app.personalization_pages": PersonalizationPagesTable;
  "app.events": EventsTable;
  "app.runner_heartbeats": RunnerHeartbeatsTable;
  "app.engine_page_times": EnginePageTimesTable;
  "app.webhook_endpoints": WebhookEndpointsTable;
  "app.webhook_deliveries": WebhookDeliveriesTable;
  "app.webhook_attempts": WebhookAttemptsTable;
  "app.schema_migrations": SchemaMigrationsTable;
}

export type User = Selectable<UsersTable>;
export type NewUser = Insertable<UsersTable>;
export type Upload = Selectable<UploadsTable>;
export type Book = Selectable<BooksTable>;
export type Personalization = Selectable<PersonalizationsTable>;
export type PersonalizationUpdate = Updateable<PersonalizationsTable>;
export type PersonalizationPage = Selectable<PersonalizationPagesTable>;
export type Event = Selectable<EventsTable>;
