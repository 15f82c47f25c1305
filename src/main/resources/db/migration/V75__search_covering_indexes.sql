-- Covering indexes for searches at a million resources (BENCHMARKS.md, issue 5): a search starts
-- from the most selective value index and probes the other conditions per candidate by
-- (res_type, res_id). With every column the query reads in the index, both are index-only scans
-- instead of one random heap page per candidate and condition; the heap read left is the
-- resource's own row. The probes also lead with the parameter, so they read only its rows.

-- the start: value -> resources (res_id was read from the heap)
CREATE INDEX search_reference_value_c ON search_reference (res_type, param, ref) INCLUDE (res_id);
DROP INDEX search_reference_value;
ALTER INDEX search_reference_value_c RENAME TO search_reference_value;

CREATE INDEX search_token_value_c ON search_token (res_type, param, code, system) INCLUDE (res_id);
DROP INDEX search_token_value;
ALTER INDEX search_token_value_c RENAME TO search_token_value;

-- the probes: resource -> its values of one parameter (the write's delete uses the prefix)
CREATE INDEX search_reference_resource_c ON search_reference (res_type, res_id, param) INCLUDE (ref);
DROP INDEX search_reference_resource;
ALTER INDEX search_reference_resource_c RENAME TO search_reference_resource;

CREATE INDEX search_token_resource_c ON search_token (res_type, res_id, param) INCLUDE (code, system);
DROP INDEX search_token_resource;
ALTER INDEX search_token_resource_c RENAME TO search_token_resource;

CREATE INDEX search_date_resource_c ON search_date (res_type, res_id, param) INCLUDE (lo, hi);
DROP INDEX search_date_resource;
ALTER INDEX search_date_resource_c RENAME TO search_date_resource;
