-- Jobs are added through app.add_job (core's addJobCall), which calls graphile-worker's add_job with
-- the settings its statements need to keep their plans (bench/README.md, issue 21).
--
-- Every connection of ours plans each statement for its values (plan_cache_mode = force_custom_plan,
-- sql/src/db.ts): a generic plan that PostgreSQL keeps per connection, made while the job table was
-- nearly empty, walked the whole queue on every job added once it had grown. Planning graphile-worker's
-- add_job and add_jobs afresh each time (five statements and the foreign-key checks under them) was
-- about a third of Postgres's CPU per POST /v1/personalizations. Here they may keep their plans, made
-- without sequential scans: every table add_jobs reads it reads by a unique key, so an index plan is
-- right at any size of the queue and the plan kept while it was empty stays right as it grows
-- (sql/test/plans.test.ts).
create function app.add_job(identifier text, payload json, max_attempts integer, job_key text, run_at timestamptz)
returns void
language plpgsql
set plan_cache_mode = auto
set enable_seqscan = off
as $$
begin
  perform graphile_worker.add_job(identifier => identifier, payload => payload, run_at => run_at,
    max_attempts => max_attempts, job_key => job_key);
end
$$;
