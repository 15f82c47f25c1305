-- Full-text search (_content, _text; search/FullText): the words of each resource beside its other
-- index rows, written in the same statement. content is the resource's whole text (its strings and
-- its narrative), narrative the narrative's text alone, both normalized in Java as the string
-- parameters are (lower case, accents removed: search/Strings) before they get here.
--
-- Danish and English: the vector is both stemmings of the words together, and a query is both
-- stemmings of the query, either of which may match. So "aftaler" finds "aftale" (Danish) and
-- "appointments" finds "appointment" (English). Without stop words: a word one language drops
-- ("og", "the") would leave that language's query without it, and so match more than was asked for;
-- kept, every word counts in both, and "og" can be searched for.
CREATE TEXT SEARCH DICTIONARY fhir_danish_stem (TEMPLATE = snowball, Language = danish);
CREATE TEXT SEARCH DICTIONARY fhir_english_stem (TEMPLATE = snowball, Language = english);
CREATE TEXT SEARCH CONFIGURATION fhir_danish (COPY = danish);
ALTER TEXT SEARCH CONFIGURATION fhir_danish ALTER MAPPING FOR asciiword, asciihword, hword_asciipart, word, hword,
  hword_part WITH fhir_danish_stem;
CREATE TEXT SEARCH CONFIGURATION fhir_english (COPY = english);
ALTER TEXT SEARCH CONFIGURATION fhir_english ALTER MAPPING FOR asciiword, asciihword, hword_asciipart, word, hword,
  hword_part WITH fhir_english_stem;
-- Changing the languages means changing these two functions (and indexing again).
CREATE FUNCTION fhir_text_vector(t text) RETURNS tsvector
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$ SELECT to_tsvector('fhir_danish'::regconfig, t) || to_tsvector('fhir_english'::regconfig, t) $$;

-- websearch_to_tsquery takes what a search box takes (words, "quoted phrases", or, -word) and
-- never fails on its input, whatever characters it holds.
CREATE FUNCTION fhir_text_query(q text) RETURNS tsquery
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$ SELECT websearch_to_tsquery('fhir_danish'::regconfig, q) || websearch_to_tsquery('fhir_english'::regconfig, q) $$;

-- Null until the resource is indexed with its text: resources written before this migration get
-- it from the reindex job's background pass (search/SearchParameters' extraction version changed,
-- so every type's pass runs), not here, so that start-up stays short on a large database. A
-- deleted resource has an empty vector once indexed.
ALTER TABLE search_indexed ADD COLUMN content tsvector, ADD COLUMN narrative tsvector;
CREATE INDEX search_indexed_content ON search_indexed USING gin (content);
CREATE INDEX search_indexed_narrative ON search_indexed USING gin (narrative);
-- The resources whose text is not indexed yet, by type: a full-text search asks it whether the
-- pass is done for the types it reads (it shrinks to nothing as the pass goes).
CREATE INDEX search_indexed_untexted ON search_indexed (res_type) WHERE content IS NULL;
