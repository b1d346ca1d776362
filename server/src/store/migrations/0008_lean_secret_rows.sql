-- A secret at rest costs a few hundred bytes beyond its sealed content
-- (issue 10): its document no longer repeats what the row's own columns
-- hold. The rows move to `secret_rows` / `secret_version_rows`, whose
-- documents leave out the id, vault, compartment and name (the secret) and
-- the secret id (a version); the views `secrets` and `secret_versions`
-- put them back, so every reader sees the whole document as before. Only
-- `domain::secrets::save` / `save_version` and the state wipe write the
-- rows. Renaming a table also renames the foreign keys that point at it.
-- The compartment-only index goes: every list query starts with the
-- compartment and uses `secrets_by_time` or `secrets_by_name`.
ALTER TABLE secrets RENAME TO secret_rows;
ALTER TABLE secret_versions RENAME TO secret_version_rows;
DROP INDEX secrets_compartment;
UPDATE secret_rows SET doc = json_remove(doc, '$.id', '$.vaultId', '$.compartmentId', '$.secretName');
UPDATE secret_version_rows SET doc = json_remove(doc, '$.secretId');
CREATE VIEW secrets AS
    SELECT id, vault_id, compartment_id, name,
           json_set(doc, '$.id', id, '$.vaultId', vault_id, '$.compartmentId', compartment_id,
                    '$.secretName', name) AS doc,
           created_ns, state, deletion_ns, region
    FROM secret_rows;
CREATE VIEW secret_versions AS
    SELECT secret_id, version_number, json_set(doc, '$.secretId', secret_id) AS doc, name, deletion_ns
    FROM secret_version_rows;
