-- pgbench script: the SQL that ResourceWrites.update runs for the seed PUT with If-Match
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
-- reference), body (the JSON the server stored for the seed PUT, ~1.6 KB), tags (its access
-- tags), head/tail (the frame of the no-op check), participants/start/end (what it books).
--
-- A SYSTEM user's PUT, as the load generator's main workload: no audit event is written.
\set base_version :version
\set version :version + 1
\set rid :id_base + :client_id
-- pgjdbc (autocommit off) sends BEGIN in the same round trip as the first statement; a pipeline
-- does the same here.
\startpipeline
BEGIN;
-- VersionSql.UPDATE: the reference check (the first missing target), the version check, the
-- comparison with the new content (head and tail: the stored body's own text up to its time, and
-- after it with the last character changed, so that it is compared in full and found different,
-- as for the load generator's PUTs, which change the comment by turns), the replaced version's
-- tags and body for the guard (context check, change rules), the history row, the digest of the
-- index rows
WITH missing AS (
  SELECT r.t || '/' || r.i AS ref FROM unnest(:ref_types::text[], :ref_ids::text[]) AS r(t, i)
   WHERE NOT EXISTS (SELECT 1 FROM resource x
                      WHERE x.res_type = r.t AND x.res_id = r.i AND NOT x.deleted)
   LIMIT 1),
frame AS (SELECT :head::text AS head, :tail::text AS tail),
old AS (
  SELECT o.tags, o.body, o.last_updated, coalesce(f.tail IS NOT NULL AND o.body IS NOT NULL
           AND length(o.body) > length(f.head) + length(f.tail)
           AND left(o.body, length(f.head)) = f.head AND right(o.body, length(f.tail)) = f.tail
           AND strpos(substr(o.body, length(f.head) + 1,
                             greatest(0, length(o.body) - length(f.head) - length(f.tail))), '"') = 0,
           false) AS unchanged
    FROM resource o, frame f
   WHERE o.res_type = :res_type AND o.res_id = :rid AND o.version = :base_version AND o.deleted = :deleted
     AND NOT EXISTS (SELECT 1 FROM missing)
  FOR UPDATE OF o),
cur AS (
  UPDATE resource r SET version = :version, last_updated = :now, deleted = :deleted, body = :body,
         tags = coalesce(:tags::text[], old.tags)
    FROM old WHERE r.res_type = :res_type AND r.res_id = :rid AND NOT old.unchanged
  RETURNING r.res_type, r.res_id, r.version, r.last_updated, r.deleted, r.body, r.tags),
hist AS (
  INSERT INTO resource_history (res_type, res_id, version, last_updated, deleted, body, tags, method)
  SELECT res_type, res_id, version, last_updated, deleted, body, tags, 'PUT' FROM cur)
SELECT (SELECT ref FROM missing), cur.res_id, old.tags, old.body,
       (SELECT s.rows_digest FROM search_indexed s WHERE s.res_type = cur.res_type AND s.res_id = cur.res_id
           FOR KEY SHARE),
       old.unchanged, old.last_updated
  FROM (VALUES (1)) AS one(x) LEFT JOIN old ON true LEFT JOIN cur ON true;
\endpipeline
-- SearchIndex.statement(kinds, replace) is not sent: the seed PUT changes no searchable value,
-- so the digest of its index rows is the one the UPDATE above returned from search_indexed
-- (run.sh gives each pgbench row the seed appointment's search_indexed row) and the server
-- leaves the index rows alone.
-- BookingSql.BOOK (FHIR_APPOINTMENT_OVERLAP=warn): the appointment's bookings brought up to
-- date (unchanged here: nothing written) and the overlapping appointments listed
WITH wanted AS (
  SELECT p AS participant, tstzrange(:start, :end) AS period, false AS enforced
    FROM unnest(:participants::text[]) AS p),
gone AS (
  DELETE FROM appointment_booking b WHERE b.res_type = :res_type AND b.res_id = :rid
     AND NOT EXISTS (SELECT 1 FROM wanted w WHERE w.participant = b.participant
                        AND w.period = b.period AND w.enforced = b.enforced)
  RETURNING 1),
added AS (
  INSERT INTO appointment_booking (res_type, res_id, participant, period, enforced)
  SELECT :res_type, :rid, w.participant, w.period, w.enforced FROM wanted w
   WHERE (SELECT count(*) FROM gone) >= 0
     AND NOT EXISTS (SELECT 1 FROM appointment_booking b WHERE b.res_type = :res_type AND b.res_id = :rid
                        AND b.participant = w.participant AND b.period = w.period
                        AND b.enforced = w.enforced))
SELECT res_type || '/' || res_id FROM appointment_booking
 WHERE true AND participant = ANY(:participants::text[]) AND period && tstzrange(:start, :end)
   AND NOT (res_type = :res_type AND res_id = :rid)
 LIMIT 20;
COMMIT;
