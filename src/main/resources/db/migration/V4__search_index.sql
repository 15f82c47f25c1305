-- The search index: one table per kind of search parameter, one row per value a parameter takes
-- in the current version of a resource. A write replaces all rows of its resource in its own
-- transaction (one statement: delete them, insert the new ones), so a search sees exactly the
-- committed resources. Every table leads with (res_type, param) so one B-tree serves each kind of
-- comparison, and carries (res_type, res_id) for the replacement.

-- string: norm is lower case without accents (prefix and :contains), exact as written (:exact)
CREATE TABLE search_string (
  res_type text NOT NULL,
  res_id   text NOT NULL,
  param    text NOT NULL,
  norm     text NOT NULL,
  exact    text NOT NULL
);
CREATE INDEX search_string_value ON search_string (res_type, param, norm text_pattern_ops);
CREATE INDEX search_string_resource ON search_string (res_type, res_id);

-- token: system may be null (a plain code, a boolean)
CREATE TABLE search_token (
  res_type text NOT NULL,
  res_id   text NOT NULL,
  param    text NOT NULL,
  system   text,
  code     text NOT NULL
);
CREATE INDEX search_token_value ON search_token (res_type, param, code, system);
CREATE INDEX search_token_resource ON search_token (res_type, res_id);

-- reference: ref is Type/id for this server's resources, the absolute URL for others'
CREATE TABLE search_reference (
  res_type text NOT NULL,
  res_id   text NOT NULL,
  param    text NOT NULL,
  ref      text NOT NULL
);
CREATE INDEX search_reference_value ON search_reference (res_type, param, ref);
CREATE INDEX search_reference_resource ON search_reference (res_type, res_id);

-- date: the range [lo, hi) the value covers at its precision ('-infinity'/'infinity' for open ends)
CREATE TABLE search_date (
  res_type text        NOT NULL,
  res_id   text        NOT NULL,
  param    text        NOT NULL,
  lo       timestamptz NOT NULL,
  hi       timestamptz NOT NULL
);
CREATE INDEX search_date_lo ON search_date (res_type, param, lo);
CREATE INDEX search_date_hi ON search_date (res_type, param, hi);
CREATE INDEX search_date_resource ON search_date (res_type, res_id);

CREATE TABLE search_number (
  res_type text    NOT NULL,
  res_id   text    NOT NULL,
  param    text    NOT NULL,
  value    numeric NOT NULL
);
CREATE INDEX search_number_value ON search_number (res_type, param, value);
CREATE INDEX search_number_resource ON search_number (res_type, res_id);

-- quantity: code is the unit code (or the unit text when there is no code)
CREATE TABLE search_quantity (
  res_type text    NOT NULL,
  res_id   text    NOT NULL,
  param    text    NOT NULL,
  value    numeric NOT NULL,
  system   text,
  code     text
);
CREATE INDEX search_quantity_value ON search_quantity (res_type, param, value);
CREATE INDEX search_quantity_resource ON search_quantity (res_type, res_id);

CREATE TABLE search_uri (
  res_type text NOT NULL,
  res_id   text NOT NULL,
  param    text NOT NULL,
  uri      text NOT NULL
);
CREATE INDEX search_uri_value ON search_uri (res_type, param, uri);
CREATE INDEX search_uri_resource ON search_uri (res_type, res_id);

-- Which resources are indexed, under which set of parameter definitions of their type: resources
-- written before this table existed, or before a parameter was added or changed, have no row or
-- another fingerprint here, and the reindex job finds them.
CREATE TABLE search_indexed (
  res_type    text NOT NULL,
  res_id      text NOT NULL,
  fingerprint text NOT NULL,
  PRIMARY KEY (res_type, res_id)
);
