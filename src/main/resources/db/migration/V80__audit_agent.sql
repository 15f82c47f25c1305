-- The requestor of an audit event (user type, user id, name, token subject, context organization,
-- client address) is the same for all requests of one user from one address: stored once here,
-- keyed by a digest of those values (AuditEvents.Agent), and referenced by the events. An audited
-- read's row shrinks by ~200 bytes. Rows from before keep their agent columns (agent is null).
CREATE TABLE audit_agent (
  key           bigint PRIMARY KEY,
  agent_type    text,
  agent_id      text,
  agent_name    text,
  agent_subject text,
  agent_org     text,
  address       text
);
ALTER TABLE audit_event ADD COLUMN agent bigint;
