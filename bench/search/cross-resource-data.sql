-- Synthetic rows for the cross-resource search measurements (BENCHMARKS.md): 50,000 Patients with
-- a name, 500,000 Appointments (10 per patient, a third cancelled) with their patient, actor and
-- status index rows, written straight into the tables (no extraction); run with psql on the
-- server's embedded PostgreSQL.
INSERT INTO resource (res_type, res_id, version, last_updated, deleted, body, tags)
  SELECT 'Patient', 'sp'||i, 1, now(), false, '{"resourceType":"Patient","id":"sp'||i||'"}', ARRAY['patient:Patient/sp'||i]
  FROM generate_series(1,50000) i;
INSERT INTO search_string SELECT 'Patient','sp'||i,'name','fam'||i,'Fam'||i FROM generate_series(1,50000) i;
INSERT INTO resource (res_type, res_id, version, last_updated, deleted, body, tags)
  SELECT 'Appointment', 'sa'||i, 1, now(), false, '{"resourceType":"Appointment","id":"sa'||i||'","status":"booked"}',
    ARRAY['patient:Patient/sp'||(i%50000+1), 'team:CareTeam/t'||(i%50)]
  FROM generate_series(1,500000) i;
INSERT INTO search_reference SELECT 'Appointment','sa'||i,'patient','Patient/sp'||(i%50000+1) FROM generate_series(1,500000) i;
INSERT INTO search_reference SELECT 'Appointment','sa'||i,'actor','Patient/sp'||(i%50000+1) FROM generate_series(1,500000) i;
INSERT INTO search_token SELECT 'Appointment','sa'||i,'status',NULL, CASE WHEN i%3=0 THEN 'cancelled' ELSE 'booked' END FROM generate_series(1,500000) i;
ANALYZE;
