-- Every stage start and every photo replacement opens a new generation of the personalisation's
-- work; a job of an older generation can then never write into a newer run, whatever it holds.
alter table app.personalizations add column generation integer not null default 0 check (generation >= 0);
alter table app.personalization_pages alter column generation type integer;

-- Work past analysis rests on an analysis.
alter table app.personalizations add constraint personalizations_analysis_present
  check (status in ('uploaded', 'analyzing', 'analysis_failed', 'canceled', 'generation_failed') or analysis is not null);

-- A face page is rendered only over the face engine's background.
alter table app.personalization_pages add constraint personalization_pages_face_background
  check (not needs_face or status not in ('rendering', 'done') or background_key is not null);

-- Indexes that duplicated others (the primary key, the unique slug) or served no query.
drop index app.personalization_pages_open_idx;
drop index app.books_catalog_idx;
drop index app.runner_heartbeats_last_seen_idx;
