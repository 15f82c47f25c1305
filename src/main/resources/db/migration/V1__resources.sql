-- Current version of every resource: one row per (type, id), the JSON exactly as it is served,
-- so that a read sends stored bytes. A deleted resource keeps its row with deleted = true and
-- no body (its last version is a tombstone).
CREATE TABLE resource (
  res_type     text        NOT NULL,
  res_id       text        NOT NULL,
  version      bigint      NOT NULL,
  last_updated timestamptz NOT NULL,
  deleted      boolean     NOT NULL,
  body         text,
  PRIMARY KEY (res_type, res_id)
);

-- Every version ever written, append-only: never updated, never deleted.
CREATE TABLE resource_history (
  res_type     text        NOT NULL,
  res_id       text        NOT NULL,
  version      bigint      NOT NULL,
  last_updated timestamptz NOT NULL,
  deleted      boolean     NOT NULL,
  body         text,
  PRIMARY KEY (res_type, res_id, version)
);

-- type and system history, newest first
CREATE INDEX resource_history_type_time ON resource_history (res_type, last_updated);
CREATE INDEX resource_history_time ON resource_history (last_updated);

-- server-assigned ids; client-assigned ids that collide are skipped by the create path
CREATE SEQUENCE resource_id_seq;
