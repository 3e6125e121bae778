-- Signed webhooks (docs/webhooks.md): a user's endpoints, one delivery per event and endpoint, and
-- every attempt to deliver it. The signing secret is stored encrypted (AES-256-GCM under
-- WEBHOOK_ENCRYPTION_KEY): a copy of the database alone does not let anyone sign as us.
create table app.webhook_endpoints (
  id uuid primary key default gen_random_uuid(),
  owner_id uuid not null references app.users (id) on delete cascade,
  url text not null check (length(url) between 8 and 2048),
  events text[] not null check (cardinality(events) between 1 and 5 and events <@ array[
    'personalization.analyzed', 'personalization.preview_ready', 'personalization.completed',
    'personalization.failed', 'personalization.canceled']::text[]),
  -- iv, tag and ciphertext of the `whsec_` secret, base64url, dot-separated
  secret_sealed text not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (id, owner_id)
);
create index webhook_endpoints_owner_idx on app.webhook_endpoints (owner_id, created_at, id);
-- The fan-out of a status change looks endpoints up by owner and event.
create index webhook_endpoints_events_idx on app.webhook_endpoints using gin (events);

create table app.webhook_deliveries (
  -- the `webhook-id` header: the same on every attempt and re-send, so receivers can de-duplicate
  id uuid primary key default gen_random_uuid(),
  endpoint_id uuid not null references app.webhook_endpoints (id) on delete cascade,
  personalization_id uuid references app.personalizations (id) on delete set null,
  event_type text not null,
  -- the signed body, exactly as sent
  payload jsonb not null,
  status text not null default 'pending' check (status in ('pending', 'delivering', 'succeeded', 'failed')),
  attempts integer not null default 0 check (attempts >= 0),
  -- `attempts` when the current round of retries began (creation, or a re-send)
  round_start integer not null default 0 check (round_start between 0 and attempts),
  next_attempt_at timestamptz,
  last_error text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index webhook_deliveries_endpoint_idx on app.webhook_deliveries (endpoint_id, created_at desc, id desc);

create table app.webhook_attempts (
  id bigserial primary key,
  delivery_id uuid not null references app.webhook_deliveries (id) on delete cascade,
  attempt integer not null check (attempt >= 1),
  started_at timestamptz not null,
  duration_ms integer not null check (duration_ms >= 0),
  status_code integer check (status_code between 100 and 599),
  -- why the attempt failed (refused address, timeout, status); null on a 2xx
  error text,
  -- the start of the response body, bounded
  response_excerpt text check (length(response_excerpt) <= 2048),
  address text
);
create index webhook_attempts_delivery_idx on app.webhook_attempts (delivery_id, id);
