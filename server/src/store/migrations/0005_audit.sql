-- The audit trail (issue 9): one row per OCI request, the OCI `AuditEvent`
-- document as sent by ListEvents, plus the columns its filters read. `seq`
-- never repeats (AUTOINCREMENT), so a page token stays valid while older
-- events are pruned by the retention period and the cap.
CREATE TABLE audit_events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    time_us INTEGER NOT NULL,
    compartment_id TEXT NOT NULL,
    operation TEXT NOT NULL,
    principal_id TEXT,
    principal_name TEXT,
    secret_id TEXT,
    result TEXT NOT NULL,
    doc TEXT NOT NULL
);
CREATE INDEX audit_events_compartment_time ON audit_events (compartment_id, time_us);
CREATE INDEX audit_events_time ON audit_events (time_us);
