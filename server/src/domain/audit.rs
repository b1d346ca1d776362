//! The audit trail's rows (table `audit_events`, migration 0005) and the
//! Audit API's one setting, `retentionPeriodDays` (the `meta` table). In
//! memory they live in a database of their own (`AuditLog::store`), with
//! `--data-dir` in `emulator.db` with the resources.
//!
//! A row is one OCI request: the OCI `AuditEvent` document exactly as
//! `ListEvents` sends it (built by the HTTP layer from the pipeline's
//! record; it never holds content, plaintext, key material or the
//! `authorization` header), plus the columns the filters read. Rows are
//! bounded twice, oldest first: by the retention period (relative to the
//! newest event's time, which is the emulator's clock, virtual time
//! included) and by a count cap (`--audit-max-events`).

use rusqlite::{params, Connection, Transaction};

use super::Result;

/// OCI's default (and largest) retention period, in days (Oracle, "Setting
/// Audit Log Retention Period": 90 to 365 days, 365 by default).
pub const DEFAULT_RETENTION_DAYS: u32 = 365;
/// The smallest retention period OCI accepts, in days.
pub const MIN_RETENTION_DAYS: u32 = 90;

/// The `meta` key of the retention setting.
const RETENTION_KEY: &str = "audit.retentionPeriodDays";

/// Microseconds in a day.
const DAY_US: i64 = 86_400_000_000;

/// One audit event to store.
#[derive(Debug, Clone)]
pub struct Row {
    /// `eventTime`, as microseconds since the Unix epoch.
    pub time_us: i64,
    /// `data.compartmentId`.
    pub compartment_id: String,
    /// The OCI operation name (`GetSecretBundle`).
    pub operation: String,
    /// The caller's OCID, once authenticated.
    pub principal_id: Option<String>,
    /// The caller's name, once authenticated.
    pub principal_name: Option<String>,
    /// The secret the request named or read.
    pub secret_id: Option<String>,
    /// `SUCCEEDED`, `DENIED`, `FAILED`, `FAULTED`, `THROTTLED` or
    /// `NOT_IMPLEMENTED`.
    pub result: String,
    /// The `AuditEvent` document (JSON).
    pub doc: String,
}

/// Inserts `rows`, then drops, oldest first, the events older than the
/// retention period before the newest row's time and those beyond `cap`.
pub fn insert(tx: &Transaction<'_>, rows: &[Row], cap: u64) -> Result<()> {
    {
        let mut stmt = tx.prepare_cached(
            "INSERT INTO audit_events (time_us, compartment_id, operation, principal_id,
               principal_name, secret_id, result, doc) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )?;
        for r in rows {
            stmt.execute(params![
                r.time_us,
                r.compartment_id,
                r.operation,
                r.principal_id,
                r.principal_name,
                r.secret_id,
                r.result,
                r.doc
            ])?;
        }
    }
    if let Some(newest) = rows.iter().map(|r| r.time_us).max() {
        let cutoff = newest.saturating_sub(i64::from(retention_days(tx)?) * DAY_US);
        tx.prepare_cached("DELETE FROM audit_events WHERE time_us < ?1")?
            .execute(params![cutoff])?;
    }
    let cap = i64::try_from(cap).unwrap_or(i64::MAX);
    tx.prepare_cached(
        "DELETE FROM audit_events WHERE seq <= (SELECT max(seq) FROM audit_events) - ?1",
    )?
    .execute(params![cap])?;
    Ok(())
}

/// Deletes every event and the retention setting (a reset).
pub fn wipe(tx: &Transaction<'_>) -> Result<()> {
    tx.execute("DELETE FROM audit_events", [])?;
    tx.execute("DELETE FROM meta WHERE key = ?1", params![RETENTION_KEY])?;
    Ok(())
}

/// The retention period in force, in days.
pub fn retention_days(tx: &Connection) -> Result<u32> {
    Ok(crate::store::meta(tx, RETENTION_KEY)?
        .and_then(|v| std::str::from_utf8(&v).ok()?.parse().ok())
        .unwrap_or(DEFAULT_RETENTION_DAYS))
}

/// Sets the retention period (`UpdateConfiguration`): 90 to 365 days, else
/// 400 `InvalidParameter` and nothing changes. Events older than the new
/// period before `now_us` are dropped at once.
pub fn set_retention_days(tx: &Transaction<'_>, days: i64, now_us: i64) -> Result<()> {
    let days = u32::try_from(days)
        .ok()
        .filter(|d| (MIN_RETENTION_DAYS..=DEFAULT_RETENTION_DAYS).contains(d))
        .ok_or_else(|| {
            super::Error::InvalidParameter(format!(
                "retentionPeriodDays must be between {MIN_RETENTION_DAYS} and {DEFAULT_RETENTION_DAYS}."
            ))
        })?;
    crate::store::set_meta(tx, RETENTION_KEY, days.to_string().as_bytes())?;
    let cutoff = now_us.saturating_sub(i64::from(days) * DAY_US);
    tx.prepare_cached("DELETE FROM audit_events WHERE time_us < ?1")?
        .execute(params![cutoff])?;
    Ok(())
}

/// One page of `ListEvents`: the documents of `compartment_id` with
/// `start_us <= time < end_us` and a sequence number above `after`, in
/// order, at most `limit`; with the last row's sequence number.
pub fn page(
    tx: &Connection,
    compartment_id: &str,
    (start_us, end_us): (i64, i64),
    after: i64,
    limit: usize,
) -> Result<Vec<(i64, String)>> {
    let mut stmt = tx.prepare_cached(
        "SELECT seq, doc FROM audit_events
         WHERE compartment_id = ?1 AND time_us >= ?2 AND time_us < ?3 AND seq > ?4
         ORDER BY seq LIMIT ?5",
    )?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = stmt.query_map(
        params![compartment_id, start_us, end_us, after, limit],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    Ok(rows.collect::<std::result::Result<_, _>>()?)
}

/// The filters of `GET /_emulator/audit` (each optional, all must match).
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// The operation name.
    pub operation: Option<String>,
    /// The caller's OCID or name.
    pub principal: Option<String>,
    /// The secret's OCID.
    pub secret: Option<String>,
    /// The result (`DENIED`, …).
    pub result: Option<String>,
    /// Events at or after this time (µs since the epoch).
    pub since_us: Option<i64>,
}

/// The documents matching `filter`, oldest first.
pub fn filtered(tx: &Connection, filter: &Filter) -> Result<Vec<String>> {
    let mut stmt = tx.prepare_cached(
        "SELECT doc FROM audit_events
         WHERE (?1 IS NULL OR operation = ?1)
           AND (?2 IS NULL OR principal_id = ?2 OR principal_name = ?2)
           AND (?3 IS NULL OR secret_id = ?3)
           AND (?4 IS NULL OR result = ?4)
           AND (?5 IS NULL OR time_us >= ?5)
         ORDER BY seq",
    )?;
    let rows = stmt.query_map(
        params![
            filter.operation,
            filter.principal,
            filter.secret,
            filter.result,
            filter.since_us
        ],
        |r| r.get::<_, String>(0),
    )?;
    Ok(rows.collect::<std::result::Result<_, _>>()?)
}

/// How many events are stored.
pub fn count(tx: &Connection) -> Result<i64> {
    Ok(tx.query_row("SELECT count(*) FROM audit_events", [], |r| r.get(0))?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    fn row(t: i64) -> Row {
        Row {
            time_us: t,
            compartment_id: "c".into(),
            operation: "GetSecretBundle".into(),
            principal_id: Some("u".into()),
            principal_name: Some("alice".into()),
            secret_id: None,
            result: "SUCCEEDED".into(),
            doc: format!("{{\"t\":{t}}}"),
        }
    }

    #[test]
    fn the_cap_drops_the_oldest_first() {
        let store = Store::in_memory().unwrap();
        store
            .blocking_write(|tx| insert(tx, &[row(1), row(2), row(3)], 2))
            .unwrap();
        let docs = store
            .blocking_write(|tx| filtered(tx, &Filter::default()))
            .unwrap();
        assert_eq!(docs, vec!["{\"t\":2}", "{\"t\":3}"]);
    }

    #[test]
    fn retention_drops_events_older_than_the_period() {
        let store = Store::in_memory().unwrap();
        let day = DAY_US;
        store
            .blocking_write(|tx| {
                set_retention_days(tx, 90, 0)?;
                insert(tx, &[row(0), row(day)], 100)?;
                insert(tx, &[row(91 * day)], 100)
            })
            .unwrap();
        let docs = store
            .blocking_write(|tx| filtered(tx, &Filter::default()))
            .unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[0], format!("{{\"t\":{day}}}"));
    }

    #[test]
    fn retention_outside_90_to_365_is_refused_and_changes_nothing() {
        let store = Store::in_memory().unwrap();
        for days in [89, 366, -1, 0] {
            let err = store
                .blocking_write(|tx| set_retention_days(tx, days, 0))
                .unwrap_err();
            assert!(matches!(err, crate::domain::Error::InvalidParameter(_)));
        }
        let days = store.blocking_write(|tx| retention_days(tx)).unwrap();
        assert_eq!(days, 365);
    }
}
