-- How long a face page takes on each face engine, measured by the gpu runners as they draw: a moving
-- mean of one page's share of its runner (its wall time over the pages that runner had in flight),
-- which the api turns into a waiting book's ETA. The source of truth; nothing caches it.
create table app.engine_page_times (
  engine text primary key check (engine ~ '^[a-z0-9_-]{1,40}$'),
  mean_ms double precision not null check (mean_ms > 0),
  samples bigint not null check (samples > 0),
  updated_at timestamptz not null default now()
);
