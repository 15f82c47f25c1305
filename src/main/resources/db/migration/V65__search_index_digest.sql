-- A digest of a resource's index rows and the definitions they were made under: a write whose
-- new rows have the digest the resource's rows already have leaves its index rows alone (the
-- usual update changes no searchable value). Null for rows written before this column: they
-- are written again.
ALTER TABLE search_indexed ADD COLUMN rows_digest bytea;
