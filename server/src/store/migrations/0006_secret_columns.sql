-- A secret version's name and deletion time as columns, so an update reads
-- only the versions still in use (at most 60 by OCI's limits) instead of
-- every version the secret ever had, and checks a version name in SQL.
-- `deletion_ns`: timeOfDeletion in Unix nanoseconds (NULL: not scheduled).
ALTER TABLE secret_versions ADD COLUMN name TEXT;
ALTER TABLE secret_versions ADD COLUMN deletion_ns INTEGER;
UPDATE secret_versions SET
    name = json_extract(doc, '$.name'),
    deletion_ns = CAST(unixepoch(json_extract(doc, '$.timeOfDeletion'), 'subsec') * 1000000000 AS INTEGER);
CREATE INDEX secret_versions_live ON secret_versions (secret_id, deletion_ns);
