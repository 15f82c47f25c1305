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
-- reference), body (the JSON the server stored for the seed PUT, ~1.6 KB), tags (its access
-- tags), participants/start/end (what it books), index_source (the seed appointment whose index
-- rows the server wrote).
--
-- A SYSTEM user's PUT, as the load generator's main workload: no audit event is written.
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
-- ResourceStore.UPDATE: the version check, the replaced version's tags and body for the guard
-- (context check, change rules), the history row
WITH old AS (
  SELECT tags, body FROM resource
   WHERE res_type = :res_type AND res_id = :rid AND version = :base_version AND deleted = :deleted
  FOR UPDATE),
cur AS (
  UPDATE resource r SET version = :version, last_updated = :now, deleted = :deleted, body = :body,
         tags = coalesce(:tags::text[], old.tags)
    FROM old WHERE r.res_type = :res_type AND r.res_id = :rid
  RETURNING r.res_type, r.res_id, r.version, r.last_updated, r.deleted, r.body, r.tags,
    old.tags AS old_tags, old.body AS old_body),
hist AS (
  INSERT INTO resource_history (res_type, res_id, version, last_updated, deleted, body, tags, method)
  SELECT res_type, res_id, version, last_updated, deleted, body, tags, 'PUT' FROM cur)
SELECT old_tags, old_body FROM cur;
-- ResourceStore.BOOK (FHIR_APPOINTMENT_OVERLAP=warn): the appointment's bookings brought up to
-- date (unchanged here: nothing written) and the overlapping appointments listed
-- SearchIndex.statement(kinds, replace): the resource's index rows replaced in one statement,
-- the deletes only in the tables its old version had rows in (search_indexed.kinds), the inserts
-- only of the kinds it has. The server binds the values it extracted as arrays; here the same
-- rows are copied from the benchmark's indexed seed appointment (:index_source), and a kind
-- the seed has no rows of is skipped as the server skips it, so the work is the same deletes and
-- inserts of the same rows.
WITH k AS (SELECT :res_type::text AS t, :rid::text AS i,
    coalesce((SELECT s.kinds FROM search_indexed s WHERE s.res_type = :res_type AND s.res_id = :rid), 127) AS old,
    (SELECT s.kinds FROM search_indexed s WHERE s.res_type = :res_type AND s.res_id = :index_source) AS new),
  d0 AS (DELETE FROM search_string x USING k WHERE k.old & 1 <> 0 AND x.res_type = k.t AND x.res_id = k.i),
  d1 AS (DELETE FROM search_token x USING k WHERE k.old & 2 <> 0 AND x.res_type = k.t AND x.res_id = k.i),
  d2 AS (DELETE FROM search_reference x USING k WHERE k.old & 4 <> 0 AND x.res_type = k.t AND x.res_id = k.i),
  d3 AS (DELETE FROM search_date x USING k WHERE k.old & 8 <> 0 AND x.res_type = k.t AND x.res_id = k.i),
  d4 AS (DELETE FROM search_number x USING k WHERE k.old & 16 <> 0 AND x.res_type = k.t AND x.res_id = k.i),
  d5 AS (DELETE FROM search_quantity x USING k WHERE k.old & 32 <> 0 AND x.res_type = k.t AND x.res_id = k.i),
  d6 AS (DELETE FROM search_uri x USING k WHERE k.old & 64 <> 0 AND x.res_type = k.t AND x.res_id = k.i),
  i0 AS (INSERT INTO search_string (res_type, res_id, param, norm, exact)
         SELECT k.t, k.i, param, norm, exact FROM k, search_string
          WHERE k.new & 1 <> 0 AND res_type = :res_type AND res_id = :index_source),
  i1 AS (INSERT INTO search_token (res_type, res_id, param, system, code)
         SELECT k.t, k.i, param, system, code FROM k, search_token
          WHERE k.new & 2 <> 0 AND res_type = :res_type AND res_id = :index_source),
  i2 AS (INSERT INTO search_reference (res_type, res_id, param, ref)
         SELECT k.t, k.i, param, ref FROM k, search_reference
          WHERE k.new & 4 <> 0 AND res_type = :res_type AND res_id = :index_source),
  i3 AS (INSERT INTO search_date (res_type, res_id, param, lo, hi)
         SELECT k.t, k.i, param, lo, hi FROM k, search_date
          WHERE k.new & 8 <> 0 AND res_type = :res_type AND res_id = :index_source),
  i4 AS (INSERT INTO search_number (res_type, res_id, param, value)
         SELECT k.t, k.i, param, value FROM k, search_number
          WHERE k.new & 16 <> 0 AND res_type = :res_type AND res_id = :index_source),
  i5 AS (INSERT INTO search_quantity (res_type, res_id, param, value, system, code)
         SELECT k.t, k.i, param, value, system, code FROM k, search_quantity
          WHERE k.new & 32 <> 0 AND res_type = :res_type AND res_id = :index_source),
  i6 AS (INSERT INTO search_uri (res_type, res_id, param, uri)
         SELECT k.t, k.i, param, uri FROM k, search_uri
          WHERE k.new & 64 <> 0 AND res_type = :res_type AND res_id = :index_source)
INSERT INTO search_indexed (res_type, res_id, fingerprint, kinds) SELECT k.t, k.i, 'pgbench', k.new FROM k
ON CONFLICT (res_type, res_id) DO UPDATE SET fingerprint = excluded.fingerprint, kinds = excluded.kinds;
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
