-- pgbench script: the SQL that ResourceStore.update runs for the seed PUT with If-Match
-- (bench/run.sh runs it with -M prepared; see BENCHMARKS.md).
--
-- Each pgbench client updates its own Appointment row, id :id_base + :client_id, which
-- run.sh creates at version 1 before the run. pgbench keeps a client's variables from one
-- transaction to the next, so :version counts up exactly as the row's version does: every
-- UPDATE matches its row (run.sh checks that afterwards), as every If-Match of the load
-- generator's clients matches.
--
-- Variables given by run.sh with -D: res_type (Appointment), id_base, version (1), now (a
-- timestamptz), deleted (false), ref_types/ref_ids ({Patient} / {240}: the seed's one local
-- reference), body (the JSON the server stored for the seed PUT, ~1.6 KB).
\set base_version :version
\set version :version + 1
\set rid :id_base + :client_id
-- pgjdbc (autocommit off) sends BEGIN in the same round trip as the first statement; a pipeline
-- does the same here.
\startpipeline
BEGIN;
-- ResourceStore.FIRST_MISSING_REFERENCE
SELECT r.t || '/' || r.i FROM unnest(:ref_types::text[], :ref_ids::text[]) AS r(t, i)
 WHERE NOT EXISTS (SELECT 1 FROM resource x
                    WHERE x.res_type = r.t AND x.res_id = r.i AND NOT x.deleted)
 LIMIT 1;
\endpipeline
-- ResourceStore.UPDATE
WITH cur AS (
  UPDATE resource SET version = :version, last_updated = :now, deleted = :deleted, body = :body
   WHERE res_type = :res_type AND res_id = :rid AND version = :base_version AND deleted = :deleted
  RETURNING res_type, res_id, version, last_updated, deleted, body)
INSERT INTO resource_history (res_type, res_id, version, last_updated, deleted, body)
SELECT res_type, res_id, version, last_updated, deleted, body FROM cur;
COMMIT;
