-- Passes asked for through $mark-all-resources-for-reindexing: full_pass indexes every resource of
-- the type again, whatever fingerprint its rows have (a stale or damaged index is rebuilt), and
-- total is how many resources the type had when it was asked for (the progress in /health:
-- indexed of total). Passes the reindexer starts itself (changed search parameters) have none.
ALTER TABLE search_reindex
  ADD COLUMN full_pass boolean NOT NULL DEFAULT false,
  ADD COLUMN total     bigint;
