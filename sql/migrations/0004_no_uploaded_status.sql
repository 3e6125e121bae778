-- `uploaded` was never set: a personalisation is created already analysing (its analysis job is added
-- in the same statement). The status goes from the allowed list and the default, so the database holds
-- exactly the states of core's table of moves (core/src/status.ts). The app never wrote a row in it; a
-- row written by hand stops the migration rather than being guessed into another state.
do $$
begin
  if exists (select 1 from app.personalizations where status = 'uploaded') then
    raise exception 'personalizations in status uploaded exist: move them to analyzing (with an analyze_photo job) or delete them first';
  end if;
end $$;

alter table app.personalizations alter column status set default 'analyzing';
alter table app.personalizations drop constraint personalizations_status_check;
alter table app.personalizations add constraint personalizations_status_check check (status in (
  'analyzing', 'analyzed', 'analysis_failed', 'preview_generating', 'preview_ready',
  'full_generating', 'completed', 'generation_failed', 'canceled'));

alter table app.personalizations drop constraint personalizations_analysis_present;
alter table app.personalizations add constraint personalizations_analysis_present
  check (status in ('analyzing', 'analysis_failed', 'canceled', 'generation_failed') or analysis is not null);
