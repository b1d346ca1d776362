-- What ListVaults sorts on, as virtual columns computed from each vault's
-- document (as migration 0007 does for keys) and indexed, so a page is one
-- index walk with a LIMIT (keyset paging) however many vaults a
-- compartment holds. `created_ns`: timeCreated in Unix nanoseconds
-- (millisecond resolution).
ALTER TABLE vaults ADD COLUMN created_ns INTEGER
    GENERATED ALWAYS AS (CAST(round(unixepoch(json_extract(doc, '$.timeCreated'), 'subsec') * 1000) AS INTEGER) * 1000000) VIRTUAL;
ALTER TABLE vaults ADD COLUMN display_name TEXT
    GENERATED ALWAYS AS (json_extract(doc, '$.displayName')) VIRTUAL;
CREATE INDEX vaults_by_time ON vaults (compartment_id, created_ns, id);
CREATE INDEX vaults_by_name ON vaults (compartment_id, display_name, id);
DROP INDEX vaults_compartment;
