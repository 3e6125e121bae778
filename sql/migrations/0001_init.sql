-- The data model of ARCHITECTURE.md. Owner scoping is enforced by composite foreign keys where a
-- row refers to another user-owned row, so a personalisation can never point at someone else's photo.

create table app.users (
  id uuid primary key default gen_random_uuid(),
  email text not null
    check (email = lower(btrim(email)) and length(email) between 3 and 254 and email like '_%@_%'),
  password_hash text not null check (password_hash like '$scrypt$%' or password_hash like '$argon2id$%'),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create unique index users_email_key on app.users (lower(email));

-- One row per login: logout revokes the session its token names.
create table app.sessions (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references app.users (id) on delete cascade,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  revoked_at timestamptz,
  user_agent text,
  check (expires_at > created_at)
);
create index sessions_user_idx on app.sessions (user_id);

create table app.uploads (
  id uuid primary key default gen_random_uuid(),
  owner_id uuid not null references app.users (id) on delete cascade,
  object_key text not null unique,
  content_type text not null check (content_type in ('image/jpeg', 'image/png', 'image/webp')),
  declared_bytes integer not null check (declared_bytes between 1 and 15728640),
  status text not null default 'pending' check (status in ('pending', 'ready', 'rejected')),
  reject_reason text,
  width integer check (width > 0),
  height integer check (height > 0),
  bytes integer check (bytes > 0),
  sha256 text check (sha256 ~ '^[0-9a-f]{64}$'),
  created_at timestamptz not null default now(),
  verified_at timestamptz,
  unique (id, owner_id),
  check (status <> 'ready' or (width is not null and height is not null and bytes is not null and sha256 is not null and verified_at is not null)),
  check (status <> 'rejected' or reject_reason is not null)
);
create index uploads_owner_idx on app.uploads (owner_id, created_at desc);

create table app.books (
  id uuid primary key default gen_random_uuid(),
  slug text not null unique check (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
  title text not null check (length(title) between 1 and 200),
  description text not null default '',
  language text not null default 'en' check (language ~ '^[a-z]{2}$'),
  category text not null check (length(category) between 1 and 60),
  age_min smallint not null check (age_min between 0 and 18),
  age_max smallint not null check (age_max between 0 and 18),
  manifest_key text not null,
  manifest jsonb not null,
  cover_key text not null,
  page_count smallint not null check (page_count > 0),
  preview_pages text[] not null default '{}',
  published boolean not null default false,
  search tsvector generated always as (to_tsvector('simple', title || ' ' || description || ' ' || category)) stored,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  check (age_min <= age_max)
);
create index books_catalog_idx on app.books (slug) where published;
create index books_category_idx on app.books (category) where published;
create index books_search_idx on app.books using gin (search);

create table app.personalizations (
  id uuid primary key default gen_random_uuid(),
  owner_id uuid not null references app.users (id) on delete cascade,
  book_id uuid not null references app.books (id),
  photo_upload_id uuid not null,
  child_name text check (length(child_name) between 1 and 40),
  child_age smallint check (child_age between 0 and 18),
  child_gender text check (child_gender in ('girl', 'boy', 'unspecified')),
  analysis jsonb,
  status text not null default 'uploaded' check (status in (
    'uploaded', 'analyzing', 'analyzed', 'analysis_failed', 'preview_generating', 'preview_ready',
    'full_generating', 'completed', 'generation_failed', 'canceled')),
  failure_reason text,
  regenerate_count smallint not null default 0 check (regenerate_count between 0 and 3),
  seed bigint not null,
  files jsonb not null default '{}',
  idempotency_key text check (length(idempotency_key) between 1 and 255),
  request_hash text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  foreign key (photo_upload_id, owner_id) references app.uploads (id, owner_id),
  check ((idempotency_key is null) = (request_hash is null))
);
create index personalizations_owner_idx on app.personalizations (owner_id, created_at desc, id desc);
create unique index personalizations_idempotency_key on app.personalizations (owner_id, idempotency_key)
  where idempotency_key is not null;

create table app.personalization_pages (
  personalization_id uuid not null references app.personalizations (id) on delete cascade,
  stage text not null check (stage in ('preview', 'full')),
  page text not null check (page ~ '^(page_([0-9]|1[0-9]|2[0-3])|cover_front|cover_back)$'),
  -- the personalisation's regenerate_count when this row was (re)queued: late writes of an older
  -- generation are refused by a conditional update on it
  generation smallint not null default 0,
  status text not null default 'pending' check (status in ('pending', 'personalizing', 'rendering', 'done', 'failed', 'canceled')),
  needs_face boolean not null,
  attempt integer not null default 0 check (attempt >= 0),
  seed bigint not null,
  background_key text,
  print_key text,
  web_key text,
  comfy_prompt_id uuid,
  failure_reason text,
  updated_at timestamptz not null default now(),
  primary key (personalization_id, stage, page),
  check (status <> 'done' or (print_key is not null and web_key is not null)),
  check (status <> 'failed' or failure_reason is not null)
);
create index personalization_pages_open_idx on app.personalization_pages (personalization_id, stage)
  where status not in ('done', 'failed', 'canceled');

-- Append-only: the source of SSE replay after Last-Event-ID.
create table app.events (
  id bigserial primary key,
  personalization_id uuid not null references app.personalizations (id) on delete cascade,
  type text not null check (type in ('status', 'analysis', 'page', 'files', 'error')),
  data jsonb not null,
  created_at timestamptz not null default now()
);
create index events_replay_idx on app.events (personalization_id, id);

create table app.runner_heartbeats (
  worker_id text primary key,
  kind text not null check (kind in ('gpu', 'render')),
  host text not null,
  pid integer not null,
  started_at timestamptz not null default now(),
  last_seen_at timestamptz not null default now()
);
create index runner_heartbeats_last_seen_idx on app.runner_heartbeats (last_seen_at);
