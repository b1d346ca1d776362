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

-- What ListSecrets filters and sorts on, as columns, so a page is one
-- indexed query with a LIMIT (keyset paging) whatever the compartment's
-- size. `created_ns`: timeCreated in Unix nanoseconds; `state`: the stored
-- lifecycleState (a PENDING_DELETION past `deletion_ns` reads as DELETED);
-- `region`: the secret's own region, '' for the emulator's --region.
ALTER TABLE secrets ADD COLUMN created_ns INTEGER NOT NULL DEFAULT 0;
ALTER TABLE secrets ADD COLUMN state TEXT NOT NULL DEFAULT 'ACTIVE';
ALTER TABLE secrets ADD COLUMN deletion_ns INTEGER;
ALTER TABLE secrets ADD COLUMN region TEXT NOT NULL DEFAULT '';
UPDATE secrets SET
    created_ns = coalesce(CAST(unixepoch(json_extract(doc, '$.timeCreated'), 'subsec') * 1000000000 AS INTEGER), 0),
    state = coalesce(json_extract(doc, '$.lifecycleState'), 'ACTIVE'),
    deletion_ns = CAST(unixepoch(json_extract(doc, '$.timeOfDeletion'), 'subsec') * 1000000000 AS INTEGER),
    region = coalesce(json_extract(doc, '$.region'), '');
CREATE INDEX secrets_by_time ON secrets (compartment_id, region, created_ns, id);
CREATE INDEX secrets_by_name ON secrets (compartment_id, region, name, id);

-- Each replication target of a secret: the region it is seen in as a
-- replica ('' for the emulator's own) and the target vault.
CREATE TABLE secret_replicas (
    secret_id TEXT NOT NULL REFERENCES secrets (id),
    region TEXT NOT NULL,
    vault_id TEXT NOT NULL,
    PRIMARY KEY (secret_id, region)
);
CREATE INDEX secret_replicas_by_region ON secret_replicas (region, secret_id);
INSERT INTO secret_replicas (secret_id, region, vault_id)
    SELECT s.id, coalesce(json_extract(t.value, '$.region'), ''), json_extract(t.value, '$.vaultId')
    FROM secrets s, json_each(s.doc, '$.replication.targets') t;
