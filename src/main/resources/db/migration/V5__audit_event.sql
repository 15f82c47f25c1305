-- The audit trail: one row per AuditEvent the server records for a user's request. AuditEvents
-- are never updated or deleted, so unlike other resources they need no current row beside a
-- history row: this row is the resource, version 1, its JSON exactly as served. The id is
-- time-ordered (a version 7 UUID), so both indexes grow at their right edge. patient: the patient
-- the event is about ('Patient/240'), which the context check reads as the access tag
-- 'patient:Patient/240'.
CREATE TABLE audit_event (
  id       text        PRIMARY KEY,
  recorded timestamptz NOT NULL,
  patient  text,
  body     text        NOT NULL
);
CREATE INDEX audit_event_recorded ON audit_event (recorded);
