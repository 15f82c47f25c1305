-- Scales the search benchmark's data up without the write path (BENCHMARKS.md, issue 5): after
-- BulkLoad has written :patients Patients and :appointments Appointments (bp<n>, ba<i>, patient
-- i % :patients), each copy k = 1 .. :factor - 1 adds ba<i + k * :appointments> for patient
-- bp<i % :patients + k * :patients>, and those patients: the same JSON, access tags, history,
-- bookings and index rows with the ids changed (word-bounded, so bp12 is not bp123). The result
-- is what BulkLoad would write for :factor times as many of both, but for the random parts
-- (times, statuses), which repeat per copy. Run with psql on the server's PostgreSQL:
--   psql -h 127.0.0.1 -p <port> -U postgres -v patients=10000 -v appointments=200000 -v factor=5 -f scale-up.sql
\set ON_ERROR_STOP on
CREATE TEMP TABLE m (res_type text, old text, new text, pold text, pnew text);
INSERT INTO m
  SELECT 'Appointment', 'ba' || i, 'ba' || (i + k * :appointments), 'bp' || (i % :patients),
         'bp' || (i % :patients + k * :patients)
  FROM generate_series(1, :factor - 1) k, generate_series(0, :appointments - 1) i
  UNION ALL
  SELECT 'Patient', 'bp' || n, 'bp' || (n + k * :patients), 'bp' || n, 'bp' || (n + k * :patients)
  FROM generate_series(1, :factor - 1) k, generate_series(0, :patients - 1) n;
ALTER TABLE m ADD COLUMN re_old text, ADD COLUMN re_pold text;
UPDATE m SET re_old = '\m' || old || '\M', re_pold = '\m' || pold || '\M';
CREATE INDEX ON m (res_type, old);
ANALYZE m;

INSERT INTO resource (res_type, res_id, version, last_updated, deleted, body, tags)
  SELECT r.res_type, m.new, r.version, r.last_updated, r.deleted,
         regexp_replace(regexp_replace(r.body, m.re_old, m.new, 'g'), m.re_pold, m.pnew, 'g'),
         ARRAY(SELECT regexp_replace(t, m.re_pold, m.pnew, 'g') FROM unnest(r.tags) t)
  FROM resource r JOIN m ON r.res_type = m.res_type AND r.res_id = m.old;
INSERT INTO resource_history (res_type, res_id, version, last_updated, deleted, body, tags, method)
  SELECT r.res_type, m.new, r.version, r.last_updated, r.deleted,
         regexp_replace(regexp_replace(r.body, m.re_old, m.new, 'g'), m.re_pold, m.pnew, 'g'),
         ARRAY(SELECT regexp_replace(t, m.re_pold, m.pnew, 'g') FROM unnest(r.tags) t), r.method
  FROM resource_history r JOIN m ON r.res_type = m.res_type AND r.res_id = m.old;
INSERT INTO search_reference (res_type, res_id, param, ref)
  SELECT x.res_type, m.new, x.param, regexp_replace(x.ref, m.re_pold, m.pnew, 'g')
  FROM search_reference x JOIN m ON x.res_type = m.res_type AND x.res_id = m.old;
INSERT INTO search_token (res_type, res_id, param, system, code)
  SELECT x.res_type, m.new, x.param, x.system, regexp_replace(x.code, m.re_pold, m.pnew, 'g')
  FROM search_token x JOIN m ON x.res_type = m.res_type AND x.res_id = m.old;
INSERT INTO search_string (res_type, res_id, param, norm, exact)
  SELECT x.res_type, m.new, x.param, x.norm, x.exact
  FROM search_string x JOIN m ON x.res_type = m.res_type AND x.res_id = m.old;
INSERT INTO search_date (res_type, res_id, param, lo, hi)
  SELECT x.res_type, m.new, x.param, x.lo, x.hi
  FROM search_date x JOIN m ON x.res_type = m.res_type AND x.res_id = m.old;
INSERT INTO search_indexed (res_type, res_id, fingerprint, kinds)
  SELECT x.res_type, m.new, x.fingerprint, x.kinds
  FROM search_indexed x JOIN m ON x.res_type = m.res_type AND x.res_id = m.old;
INSERT INTO appointment_booking (res_type, res_id, participant, period, enforced)
  SELECT x.res_type, m.new, regexp_replace(x.participant, m.re_pold, m.pnew, 'g'), x.period, x.enforced
  FROM appointment_booking x JOIN m ON x.res_type = m.res_type AND x.res_id = m.old;
VACUUM ANALYZE;
