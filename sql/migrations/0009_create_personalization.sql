-- POST /v1/personalizations' one statement (api/src/services/personalizations.ts), as a function whose
-- statements keep their plans.
--
-- Our connections plan every statement for its values (plan_cache_mode = force_custom_plan,
-- sql/src/db.ts), so that no plan made while a table was nearly empty is kept once it has grown. The
-- route's statement and the foreign-key checks under its inserts were planned afresh on every request:
-- about a fifth of Postgres's CPU per job creation (bench/README.md, issue 21). Every table read here
-- is read by a unique key (the session and its user, the book's slug, the upload, and the foreign keys'
-- referenced rows), so with sequential scans off the plans kept are index plans, right at any size of
-- the tables (sql/test/plans.test.ts). The job is added through app.add_job (0008).
--
-- Checks the session (the api's liveSession: requireAuth's foldedSession), reads the book and the
-- photo, and only when all three are right inserts the personalisation (nothing on a conflict of its
-- idempotency key), adds its job and its status event. Returns one row: what it found, the new row
-- (null when none was inserted) and the event's id.
create function app.create_personalization(
  session_id uuid,
  owner uuid,
  checked_at timestamptz,
  book text,
  photo uuid,
  new_id uuid,
  new_status text,
  new_seed bigint,
  new_idempotency_key text,
  new_request_hash text,
  job_identifier text,
  job_payload json,
  job_max_attempts integer,
  job_key text
)
returns table (
  live boolean,
  book_slug text,
  book_title text,
  photo_status text,
  jobs integer,
  event_id bigint,
  created app.personalizations
)
language plpgsql
set plan_cache_mode = auto
set enable_seqscan = off
as $$
begin
  return query
    with s as (
      select exists (
        select from app.sessions as se inner join app.users as u on u.id = se.user_id
        where se.id = session_id and se.user_id = owner and se.revoked_at is null and se.expires_at > checked_at
      ) as live),
    b as (select b.id, b.slug, b.title from app.books as b where b.slug = book and b.published),
    ph as (select u.status from app.uploads as u where u.id = photo and u.owner_id = owner),
    p as (
      insert into app.personalizations as n
        (id, owner_id, book_id, photo_upload_id, status, seed, idempotency_key, request_hash)
      select new_id, owner, b.id, photo, new_status, new_seed, new_idempotency_key, new_request_hash
      from s, b, ph where s.live and ph.status = 'ready'
      on conflict (owner_id, idempotency_key) where idempotency_key is not null do nothing
      returning n),
    j as (select app.add_job(job_identifier, job_payload, job_max_attempts, job_key, null) from p),
    e as (
      insert into app.events as v (personalization_id, type, data)
      select (p.n).id, 'status', jsonb_build_object('status', new_status) from p
      returning v.id)
    select s.live, b.slug, b.title, ph.status, (select count(*)::integer from j), (select e.id from e), p.n
    from s left join b on true left join ph on true left join p on true;
end
$$;
