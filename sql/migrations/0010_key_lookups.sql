-- app.add_job (0008) looks each job key up, whatever the size the queue had when its plans were made
-- (bench/README.md, issue 21).
--
-- With sequential scans off in it, the plan it kept for add_jobs' update of an existing job key, made
-- while the queue was empty, was a full scan of the job key's index joined to the job being added: the
-- walk of the whole queue on every job added that turning sequential scans off was meant to end, done
-- through an index. Job creation on a fresh database slid from about 1,250 to 350 a second within
-- 30 seconds, until an analyze of the job table made its connections plan again. With plain index
-- scans off as well, a table can be read only through a bitmap scan of an index, and a bitmap scan
-- needs a condition on the index's columns: no plan can read the queue whole, and the key is looked
-- up by its index, at any size (sql/test/plans.test.ts counts the rows read through indexes as well
-- as by sequential scans).
alter function app.add_job(text, json, integer, text, timestamptz)
  set enable_indexscan = off;
