-- What ListKeys sorts on, as virtual columns computed from each key's
-- document (so no write has to keep them in step) and indexed, so a page
-- is one index walk with a LIMIT (keyset paging) whatever the vault's size.
-- `created_ns`: timeCreated in Unix nanoseconds (millisecond resolution).
ALTER TABLE keys ADD COLUMN created_ns INTEGER
    GENERATED ALWAYS AS (CAST(round(unixepoch(json_extract(doc, '$.timeCreated'), 'subsec') * 1000) AS INTEGER) * 1000000) VIRTUAL;
ALTER TABLE keys ADD COLUMN display_name TEXT
    GENERATED ALWAYS AS (json_extract(doc, '$.displayName')) VIRTUAL;
CREATE INDEX keys_by_time ON keys (vault_id, compartment_id, created_ns, id);
CREATE INDEX keys_by_name ON keys (vault_id, compartment_id, display_name, id);

-- A ListEvents page walks a compartment's events in sequence order from
-- the page token's position instead of sorting its whole time window.
CREATE INDEX audit_events_compartment_seq ON audit_events (compartment_id, seq);
DROP INDEX audit_events_compartment_time;
