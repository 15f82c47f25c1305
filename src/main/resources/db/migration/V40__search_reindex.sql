-- Which kinds of index rows a resource has (a bit per search table, in the order string, token,
-- reference, date, number, quantity, uri): a write deletes the old rows from those tables only.
-- Null for rows written before this column: all tables.
ALTER TABLE search_indexed ADD COLUMN kinds smallint;

-- The reindex job's progress per resource type: the resources of res_type indexed under
-- another fingerprint (or never) are indexed again in res_id order; after_id is the last one
-- looked at, written in the transaction of its batch, so a restart (or another process) goes on
-- from there. finished is null while a pass runs.
CREATE TABLE search_reindex (
  res_type    text PRIMARY KEY,
  fingerprint text        NOT NULL,
  after_id    text        NOT NULL,
  indexed     bigint      NOT NULL,
  started     timestamptz NOT NULL,
  updated     timestamptz NOT NULL,
  finished    timestamptz
);
