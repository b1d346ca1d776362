-- Backups made by BackupVault / BackupKey without a backupLocation (the
-- emulator has no Object Storage): the backup file, sealed under the root
-- key, kept as the result of its work request for /_emulator/backups/{id}.
CREATE TABLE backups (
    work_request_id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    time_created TEXT NOT NULL,
    file TEXT NOT NULL
);
