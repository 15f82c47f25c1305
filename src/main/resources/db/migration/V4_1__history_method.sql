-- The HTTP method that made each version (POST, PUT or DELETE), for Bundle.entry.request of history:
-- a version 1 may come from a PUT (update as create), a later one from a POST after a deletion.
-- Versions written before this column existed have none; their method is derived as it was.
ALTER TABLE resource_history ADD COLUMN method text;
