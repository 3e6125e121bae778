-- app.add_job's statements are never compiled to machine code (bench/README.md, issue 21).
--
-- A plan that must use a kind of scan 0010 turned off (the task's row, read by a plain index scan for a
-- merge join) carries PostgreSQL's penalty cost for it, far above the cost at which PostgreSQL compiles
-- a plan (jit_above_cost): on a queue of 100,000 jobs each job added spent about 200 ms compiling, and
-- job creation fell to 9 a second. These plans are cheap to run whatever their cost says
-- (sql/test/plans.test.ts sees no compiled plan in anything add_job runs).
alter function app.add_job(text, json, integer, text, timestamptz)
  set jit = off;
