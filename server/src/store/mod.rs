//! The store: SQLite through rusqlite, in memory by default or a file under
//! `--data-dir`. Imports nothing of ours: the domain modules hold the SQL of
//! their own rows and call the helpers here.
//!
//! Every resource row is its domain struct as a JSON document plus the
//! columns lookups filter on (see `migrations/`). A write is one transaction
//! committed before the response is sent; with a file the journal is WAL
//! with `synchronous=FULL`, so an acknowledged write survives `kill -9`.
//!
//! One writing connection and a small pool of reading connections (one per
//! core, at most four) open the same database: for a file, `emulator.db` in
//! WAL mode; in memory, one SQLite `memdb` database that only this `Store`
//! names (`file:/<random>?vfs=memdb`, which connections of one process can
//! share). With a file a reader never waits for a write transaction; in
//! memory it cannot begin while one is open (memdb's lock), and waits for
//! its commit in `on_busy`, which yields and naps rather than sleeping
//! SQLite's milliseconds. Write transactions are short, and the audit
//! trail's writer gathers a request burst's events into one.
//!
//! Writes run on tokio's blocking pool ([`Store::write`]), since a file-backed
//! commit waits for fsync. Reads ([`Store::read`]) run inline on the calling
//! task: they are point lookups and index walks on prepared, cached
//! statements, microseconds long, and a hop to the blocking pool cost more
//! than the query (measured: it dominated GetSecretBundle's latency). A read
//! is one snapshot (a deferred read transaction whose `BEGIN` and `ROLLBACK`
//! are cached statements too, so nothing is parsed per read). Each
//! connection's mutex is a std mutex held only inside a closure, never across
//! an `.await`; crypto and signature checks happen outside it.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use anyhow::Context as _;
use rusqlite::{params, Connection, OpenFlags, OptionalExtension, Transaction};
use rusqlite_migration::{Migrations, M};
use serde::de::DeserializeOwned;
use serde::Serialize;

mod files;
mod heap;

pub use files::{create_private_file, write_private_file};

/// What can go wrong in the store. The domain wraps it as an internal error
/// (a 500 whose cause is logged, never shown).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// SQLite failed.
    #[error("store: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A stored document does not decode (or a value does not encode).
    #[error("stored document: {0}")]
    Document(#[from] serde_json::Error),
    /// The blocking task running a write died (it panicked).
    #[error("store task failed: {0}")]
    Task(String),
}

/// Result of store functions.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The schema's migrations, applied in order at start.
fn migrations() -> Migrations<'static> {
    Migrations::new(vec![
        M::up(include_str!("migrations/0001_init.sql")),
        M::up(include_str!("migrations/0002_meta.sql")),
        M::up(include_str!("migrations/0003_wrapping_keys.sql")),
        M::up(include_str!("migrations/0004_backups.sql")),
        M::up(include_str!("migrations/0005_audit.sql")),
        M::up(include_str!("migrations/0006_secret_columns.sql")),
        M::up(include_str!("migrations/0007_key_list_columns.sql")),
        M::up(include_str!("migrations/0008_lean_secret_rows.sql")),
        M::up(include_str!("migrations/0009_vault_list_columns.sql")),
    ])
}

/// How long a connection waits for another's lock (in memory: a write
/// transaction in progress; with a file: a checkpoint) before the statement
/// fails.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Busy-handler calls that only yield the thread before the handler starts
/// to sleep: a lock in memory is held for one write transaction, tens to
/// hundreds of microseconds.
const BUSY_SPINS: i32 = 32;

/// The sleep between later busy-handler calls.
const BUSY_NAP: Duration = Duration::from_micros(50);

/// The busy handler of every connection, in place of SQLite's own (which
/// sleeps 1 ms, then 2, 5, 10 … ms: a read, which runs on an async worker,
/// then stalled every request of that worker for a millisecond whenever it
/// met a write in progress — in `memdb` a reader cannot start while a write
/// transaction is open). It yields the thread [`BUSY_SPINS`] times, then
/// sleeps [`BUSY_NAP`] at a time, and gives up (`SQLITE_BUSY`) after
/// [`BUSY_TIMEOUT`] in all. `attempt` is SQLite's count of earlier calls for
/// the same lock.
fn on_busy(attempt: i32) -> bool {
    if attempt < BUSY_SPINS {
        std::thread::yield_now();
        return true;
    }
    let naps = u32::try_from(attempt - BUSY_SPINS).unwrap_or(u32::MAX);
    if BUSY_NAP.saturating_mul(naps) >= BUSY_TIMEOUT {
        return false;
    }
    std::thread::sleep(BUSY_NAP);
    true
}

/// How many prepared statements each connection keeps. rusqlite's default
/// (16) is fewer than the distinct statements one request mix runs, so
/// statements were evicted and prepared again.
const STATEMENT_CACHE: usize = 256;

/// A cheap-to-clone handle on the database.
#[derive(Clone)]
pub struct Store {
    /// The writing connection; SQLite serialises writers anyway.
    writer: Arc<Mutex<Connection>>,
    /// The reading connections (`query_only`), over the same database.
    readers: Arc<[Mutex<Connection>]>,
    /// Where the next read starts looking for a free reader.
    next_reader: Arc<AtomicUsize>,
    /// `memory` or `sqlite-file`, for the health endpoint.
    kind: &'static str,
}

impl Store {
    /// An in-memory database (state is lost at exit): a `memdb` database
    /// with a name no other `Store` uses, so in-process tests never share
    /// state.
    pub fn in_memory() -> anyhow::Result<Self> {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "file:/oci-vault-emulator-{}-{}?vfs=memdb",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let open = || {
            Connection::open_with_flags(
                &name,
                OpenFlags::SQLITE_OPEN_READ_WRITE
                    | OpenFlags::SQLITE_OPEN_CREATE
                    | OpenFlags::SQLITE_OPEN_URI
                    | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )
            .context("opening the in-memory database")
        };
        // The writer first: the database lives while a connection holds it.
        let writer = Self::init(open()?)?;
        Self::with_readers(writer, open, "memory")
    }

    /// A database file `emulator.db` in `dir`, created with mode 0600 before
    /// anything is written to it.
    pub fn open_file(dir: &Path) -> anyhow::Result<Self> {
        let path = dir.join("emulator.db");
        create_private_file(&path)?;
        let open =
            || Connection::open(&path).with_context(|| format!("opening {}", path.display()));
        let conn = open()?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        let writer = Self::init(conn)?;
        Self::with_readers(writer, open, "sqlite-file")
    }

    fn with_readers(
        writer: Connection,
        open: impl Fn() -> anyhow::Result<Connection>,
        kind: &'static str,
    ) -> anyhow::Result<Self> {
        let count = std::thread::available_parallelism().map_or(2, |n| n.get().clamp(1, 4));
        let readers = (0..count)
            .map(|_| {
                let reader = open()?;
                reader.busy_handler(Some(on_busy))?;
                reader.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
                reader.pragma_update(None, "query_only", "ON")?;
                Ok(Mutex::new(reader))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok(Self {
            writer: Arc::new(Mutex::new(writer)),
            readers: readers.into(),
            next_reader: Arc::new(AtomicUsize::new(0)),
            kind,
        })
    }

    fn init(mut conn: Connection) -> anyhow::Result<Connection> {
        conn.busy_handler(Some(on_busy))?;
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        conn.pragma_update(None, "foreign_keys", "ON")?;
        migrations()
            .to_latest(&mut conn)
            .context("applying migrations")?;
        Ok(conn)
    }

    /// A free reading connection, or (all busy) the one after the last
    /// taken, waited for.
    fn reader(&self) -> MutexGuard<'_, Connection> {
        let start = self.next_reader.fetch_add(1, Ordering::Relaxed);
        let n = self.readers.len();
        for i in 0..n {
            if let Ok(guard) = self.readers[(start + i) % n].try_lock() {
                return guard;
            }
        }
        locked(&self.readers[start % n])
    }

    /// Caps every connection's page cache at `kib` KiB (SQLite's default
    /// is 2,000 KiB a connection). In memory a cached page is a second copy
    /// of a `memdb` page, so a database written in appends and read now and
    /// then (the audit trail) needs little of it.
    ///
    /// # Errors
    /// SQLite refuses the pragma.
    pub fn cap_page_cache(&self, kib: u32) -> Result<()> {
        let size = -i64::from(kib);
        for conn in std::iter::once(&*self.writer).chain(self.readers.iter()) {
            locked(conn).pragma_update(None, "cache_size", size)?;
        }
        Ok(())
    }

    /// `memory` or `sqlite-file`.
    pub fn kind(&self) -> &'static str {
        self.kind
    }

    /// Runs `f` in a transaction that is committed when `f` succeeds and
    /// rolled back when it fails, so a failed request changes nothing.
    pub async fn write<R, E, F>(&self, f: F) -> Result<R, E>
    where
        R: Send + 'static,
        E: From<Error> + Send + 'static,
        F: FnOnce(&Transaction<'_>) -> Result<R, E> + Send + 'static,
    {
        let conn = self.writer.clone();
        tokio::task::spawn_blocking(move || commit(&mut locked(&conn), f))
            .await
            .map_err(|e| E::from(Error::Task(e.to_string())))?
    }

    /// Like [`Store::write`], but on the calling thread (start-up, before the
    /// runtime serves anything).
    pub fn blocking_write<R, E: From<Error>>(
        &self,
        f: impl FnOnce(&Transaction<'_>) -> Result<R, E>,
    ) -> Result<R, E> {
        commit(&mut locked(&self.writer), f)
    }

    /// Runs `f` on a reading connection, inline, inside one read
    /// transaction (a consistent snapshot, never committed). `async` only so
    /// callers need not change if reads ever move off-thread.
    ///
    /// # Errors
    /// `f`'s, or a store error when the snapshot cannot begin (the database
    /// stayed locked longer than the busy timeout).
    pub async fn read<R, E, F>(&self, f: F) -> Result<R, E>
    where
        E: From<Error>,
        F: FnOnce(&Connection) -> Result<R, E>,
    {
        let conn = self.reader();
        let snapshot = Snapshot::begin(&conn)?;
        let out = f(snapshot.0);
        drop(snapshot);
        out
    }
}

/// A connection's lock; a panic while it was held does not keep it from
/// others (the transaction it was in was rolled back when dropped).
fn locked(conn: &Mutex<Connection>) -> MutexGuard<'_, Connection> {
    conn.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A read transaction on a reading connection, begun and ended with cached
/// statements (rusqlite's `Transaction` parses `BEGIN` and `ROLLBACK` each
/// time); ended when dropped, whatever `f` returned.
struct Snapshot<'c>(&'c Connection);

impl<'c> Snapshot<'c> {
    fn begin(conn: &'c Connection) -> Result<Self> {
        conn.prepare_cached("BEGIN")?.execute([])?;
        Ok(Self(conn))
    }
}

impl Drop for Snapshot<'_> {
    fn drop(&mut self) {
        // Nothing was written (the connection is query_only); a failed
        // ROLLBACK leaves at worst a read transaction the next BEGIN reports.
        if let Ok(mut end) = self.0.prepare_cached("ROLLBACK") {
            let _ = end.execute([]);
        }
    }
}

/// A value of the `meta` table.
pub fn meta(tx: &Connection, key: &str) -> Result<Option<Vec<u8>>> {
    Ok(tx
        .prepare_cached("SELECT value FROM meta WHERE key = ?1")?
        .query_row(params![key], |row| row.get(0))
        .optional()?)
}

/// Sets a value of the `meta` table.
pub fn set_meta(tx: &Transaction<'_>, key: &str, value: &[u8]) -> Result<()> {
    tx.execute(
        "INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)",
        params![key, value],
    )?;
    Ok(())
}

/// One table of JSON documents: the statements for it, by name.
pub struct Table {
    /// Selects the document, then the columns that `members` names.
    select_one: &'static str,
    /// The top-level document members a lean row (migration 0008) keeps in
    /// columns instead: `select_one` returns them after `doc`, and [`get`]
    /// puts them back in Rust ([`splice`]) rather than through the table's
    /// view, whose `json_set` costs SQLite a parse and a re-encode of the
    /// document on every read.
    members: &'static [&'static str],
    select_etag: &'static str,
}

/// Vaults, keyed by OCID.
pub const VAULTS: Table = Table {
    select_one: "SELECT doc FROM vaults WHERE id = ?1",
    members: &[],
    select_etag: "SELECT json_extract(doc, '$.etag') FROM vaults WHERE id = ?1",
};
/// Master encryption keys, keyed by OCID.
pub const KEYS: Table = Table {
    select_one: "SELECT doc FROM keys WHERE id = ?1",
    members: &[],
    select_etag: "SELECT json_extract(doc, '$.etag') FROM keys WHERE id = ?1",
};
/// Key versions, keyed by OCID.
pub const KEY_VERSIONS: Table = Table {
    select_one: "SELECT doc FROM key_versions WHERE id = ?1",
    members: &[],
    select_etag: "SELECT json_extract(doc, '$.etag') FROM key_versions WHERE id = ?1",
};
/// Vaults' wrapping keys, keyed by vault OCID (they have no etag).
pub const WRAPPING_KEYS: Table = Table {
    select_one: "SELECT doc FROM wrapping_keys WHERE vault_id = ?1",
    members: &[],
    select_etag: "SELECT json_extract(doc, '$.etag') FROM wrapping_keys WHERE vault_id = ?1",
};
/// Secrets, keyed by OCID.
pub const SECRETS: Table = Table {
    select_one: "SELECT doc, id, vault_id, compartment_id, name FROM secret_rows WHERE id = ?1",
    members: &["id", "vaultId", "compartmentId", "secretName"],
    select_etag: "SELECT json_extract(doc, '$.etag') FROM secret_rows WHERE id = ?1",
};

/// Whether the row `id` of `table` still carries `etag` (the `etag` field of
/// its document): a write that started from a copy read earlier in the
/// request checks this first, inside its own transaction, so it never
/// overwrites a change made in between.
pub fn unchanged(tx: &Connection, table: &Table, id: &str, etag: &str) -> Result<bool> {
    let current: Option<Option<String>> = tx
        .prepare_cached(table.select_etag)?
        .query_row(params![id], |row| row.get(0))
        .optional()?;
    Ok(current.flatten().as_deref() == Some(etag))
}

/// Loads one document by id, or `None`.
pub fn get<T: DeserializeOwned>(tx: &Connection, table: &Table, id: &str) -> Result<Option<T>> {
    let mut stmt = tx.prepare_cached(table.select_one)?;
    let mut rows = stmt.query(params![id])?;
    let Some(row) = rows.next()? else {
        return Ok(None);
    };
    let doc = row.get_ref(0)?.as_str().map_err(rusqlite::Error::from)?;
    if table.members.is_empty() {
        return Ok(Some(serde_json::from_str(doc)?));
    }
    let mut columns = Vec::with_capacity(table.members.len());
    for (i, name) in table.members.iter().enumerate() {
        columns.push((
            *name,
            row.get_ref(i + 1)?
                .as_str_or_null()
                .map_err(rusqlite::Error::from)?,
        ));
    }
    Ok(Some(serde_json::from_slice(&splice(doc, &columns)?)?))
}

/// The JSON object text `doc` with `members` (name, string value or
/// `None` for `null`) put first: what the views of migration 0008 give
/// with `json_set`, for a lean document, which never holds these members
/// itself (a duplicate would be refused by the decoder).
///
/// # Errors
/// `doc` is not a JSON object's text ([`Error::Document`]).
pub fn splice(doc: &str, members: &[(&str, Option<&str>)]) -> Result<Vec<u8>> {
    let rest = doc.trim_start().strip_prefix('{').ok_or_else(|| {
        <serde_json::Error as serde::de::Error>::custom("a stored document is not an object")
    })?;
    let mut out = Vec::with_capacity(doc.len() + 64 * members.len());
    out.push(b'{');
    for (i, (name, value)) in members.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        serde_json::to_writer(&mut out, name)?;
        out.push(b':');
        serde_json::to_writer(&mut out, value)?;
    }
    if !members.is_empty() && !rest.trim_start().starts_with('}') {
        out.push(b',');
    }
    out.extend_from_slice(rest.as_bytes());
    Ok(out)
}

/// Collects the documents a query returns.
pub fn query_docs<T: DeserializeOwned>(
    tx: &Connection,
    sql: &str,
    args: impl rusqlite::Params,
) -> Result<Vec<T>> {
    let mut stmt = tx.prepare_cached(sql)?;
    let docs = stmt.query_map(args, |row| row.get::<_, String>(0))?;
    let mut out = Vec::new();
    for doc in docs {
        out.push(serde_json::from_str(&doc?)?);
    }
    Ok(out)
}

/// Serialises a document for a row.
pub fn doc<T: Serialize>(value: &T) -> Result<String> {
    Ok(serde_json::to_string(value)?)
}

/// Runs `f` in one transaction on the writer and commits it; after a bulk
/// one ([`heap::BULK_ROWS`] rows or more) the heap it used goes back to the
/// system.
fn commit<R, E: From<Error>>(
    conn: &mut Connection,
    f: impl FnOnce(&Transaction<'_>) -> Result<R, E>,
) -> Result<R, E> {
    let before = conn.total_changes();
    let tx = conn.transaction().map_err(Error::from)?;
    let out = f(&tx)?;
    tx.commit().map_err(Error::from)?;
    if conn.total_changes().saturating_sub(before) >= heap::BULK_ROWS {
        heap::release_free_pages();
    }
    Ok(out)
}

/// The document of `value` as a row whose table has a reading view stores
/// it (`secret_rows`, `secret_version_rows`; migration 0008): without the
/// top-level members in `columns` (the view puts them back from the row's
/// own columns) and without top-level members that read back as their
/// serde default — `null`, `false`, and an object whose members are all
/// `null` (a non-empty one: `{}` can be a value, e.g. empty metadata). So
/// every such field must deserialize with a default (`Option`, or
/// `#[serde(default)]`); the round-trip tests of its type check that.
///
/// # Errors
/// The value cannot be serialized.
pub fn lean_doc<T: Serialize>(value: &T, columns: &[&str]) -> Result<String> {
    let mut doc = serde_json::to_value(value)?;
    if let serde_json::Value::Object(members) = &mut doc {
        for column in columns {
            members.remove(*column);
        }
        members
            .retain(|_, v| !matches!(v, serde_json::Value::Null | serde_json::Value::Bool(false)));
    }
    Ok(serde_json::to_string(&doc)?)
}

/// Looks up an `opc-retry-token` scope (operation, principal, token); returns
/// the id of the resource the first request created, if within 24 hours.
pub fn retry_token(
    tx: &Connection,
    scope: &str,
    now: time::OffsetDateTime,
) -> Result<Option<String>> {
    let row: Option<(String, String)> = tx
        .query_row(
            "SELECT resource_id, time_created FROM retry_tokens WHERE scope = ?1",
            params![scope],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()?;
    Ok(row.and_then(|(id, at)| {
        let at = time::OffsetDateTime::parse(&at, &time::format_description::well_known::Rfc3339)
            .ok()?;
        (now - at < time::Duration::hours(24)).then_some(id)
    }))
}

/// Remembers which resource an `opc-retry-token` scope created.
pub fn save_retry_token(
    tx: &Transaction<'_>,
    scope: &str,
    resource_id: &str,
    now: time::OffsetDateTime,
) -> Result<()> {
    // A time `OffsetDateTime` produced always formats as RFC 3339.
    let at = now
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    tx.execute(
        "INSERT OR REPLACE INTO retry_tokens (scope, resource_id, time_created) VALUES (?1, ?2, ?3)",
        params![scope, resource_id, at],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A capped page cache holds on every connection, the readers included.
    #[tokio::test]
    async fn cap_page_cache_reaches_every_connection() {
        let store = Store::in_memory().unwrap();
        let size = |c: &Connection| -> Result<i64> {
            Ok(c.query_row("PRAGMA cache_size", [], |r| r.get(0))?)
        };
        assert_eq!(store.read(size).await.unwrap(), -2000);
        store.cap_page_cache(256).unwrap();
        assert_eq!(size(&store.writer.lock().unwrap()).unwrap(), -256);
        for reader in store.readers.iter() {
            assert_eq!(size(&reader.lock().unwrap()).unwrap(), -256);
        }
    }

    /// `splice` gives what the views' `json_set` gives: the members first,
    /// escaped, `null` for a NULL column, an empty document included.
    #[test]
    fn splice_puts_the_columns_back() {
        let doc = |text: &str, members: &[(&str, Option<&str>)]| {
            serde_json::from_slice::<serde_json::Value>(&splice(text, members).unwrap()).unwrap()
        };
        assert_eq!(
            doc(r#"{"a":1}"#, &[("id", Some("x\"y")), ("name", None)]),
            serde_json::json!({"id": "x\"y", "name": null, "a": 1})
        );
        assert_eq!(
            doc("{ }", &[("id", Some("x"))]),
            serde_json::json!({"id": "x"})
        );
        assert_eq!(doc(r#"{"a":[]}"#, &[]), serde_json::json!({"a": []}));
        assert!(matches!(
            splice("[1]", &[("id", Some("x"))]),
            Err(Error::Document(_))
        ));
    }

    #[test]
    fn migrations_are_valid() {
        migrations().validate().unwrap();
    }

    /// The busy handler waits (answers `true`) until its naps add up to the
    /// busy timeout, then gives up, so a lock held too long still fails
    /// the statement instead of hanging the request.
    #[test]
    fn the_busy_handler_gives_up_after_the_busy_timeout() {
        let last =
            BUSY_SPINS + i32::try_from(BUSY_TIMEOUT.as_micros() / BUSY_NAP.as_micros()).unwrap();
        assert!(on_busy(0));
        assert!(on_busy(BUSY_SPINS - 1));
        assert!(!on_busy(last));
        assert!(!on_busy(i32::MAX));
    }

    /// A reader meeting a write transaction in progress (in `memdb` it
    /// cannot begin while one is open) waits for its commit and then reads
    /// what it committed, rather than failing.
    #[test]
    fn a_read_waits_for_an_open_write_and_sees_its_commit() {
        let store = Store::in_memory().unwrap();
        let (opened, wait_open) = std::sync::mpsc::channel();
        let (reading, wait_reading) = std::sync::mpsc::channel::<()>();
        let writer = store.clone();
        let write = std::thread::spawn(move || {
            writer
                .blocking_write(|tx| {
                    set_meta(tx, "probe", b"written")?;
                    opened.send(()).unwrap();
                    // Commit only once the reader is about to read.
                    wait_reading.recv().unwrap();
                    Ok::<_, Error>(())
                })
                .unwrap();
        });
        wait_open.recv().unwrap();
        reading.send(()).unwrap();
        let value = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(store.read(|conn| meta(conn, "probe")))
            .unwrap();
        write.join().unwrap();
        assert_eq!(value.as_deref(), Some(&b"written"[..]));
    }

    /// A data directory from before the version columns gets them filled
    /// from each row's document.
    #[test]
    fn secret_version_columns_are_filled_from_existing_rows() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrations().to_version(&mut conn, 4).unwrap();
        conn.execute_batch(
            r#"INSERT INTO vaults VALUES ('v', 'c', 'k', '{}');
               INSERT INTO secrets VALUES ('s', 'v', 'c', 'n', '{}');
               INSERT INTO secret_versions VALUES ('s', 1, '{"name": "first"}');
               INSERT INTO secret_versions VALUES ('s', 2, '{"timeOfDeletion": "2026-01-02T03:04:05.5Z"}');"#,
        )
        .unwrap();
        migrations().to_latest(&mut conn).unwrap();
        let rows: Vec<(Option<String>, Option<i64>)> = conn
            .prepare("SELECT name, deletion_ns FROM secret_versions ORDER BY version_number")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(
            rows,
            vec![
                (Some("first".to_owned()), None),
                (None, Some(1_767_323_045_500_000_000))
            ]
        );
    }

    /// A data directory from before migration 0008 keeps every secret: the
    /// rows lose what their columns hold, the views give it back.
    #[test]
    fn secret_rows_lose_their_columns_and_the_views_put_them_back() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrations().to_version(&mut conn, 7).unwrap();
        conn.execute_batch(
            r#"INSERT INTO vaults VALUES ('v', 'c', 'k', '{}');
               INSERT INTO secrets (id, vault_id, compartment_id, name, doc) VALUES ('s', 'v', 'c', 'n',
                   '{"id":"s","vaultId":"v","compartmentId":"c","secretName":"n","etag":"e"}');
               INSERT INTO secret_versions (secret_id, version_number, doc) VALUES ('s', 1,
                   '{"secretId":"s","versionNumber":1}');"#,
        )
        .unwrap();
        migrations().to_latest(&mut conn).unwrap();
        let one = |sql: &str| -> serde_json::Value {
            let text: String = conn.query_row(sql, [], |r| r.get(0)).unwrap();
            serde_json::from_str(&text).unwrap()
        };
        assert_eq!(
            one("SELECT doc FROM secret_rows"),
            serde_json::json!({"etag": "e"})
        );
        assert_eq!(
            one("SELECT doc FROM secrets WHERE id = 's'"),
            serde_json::json!({"id": "s", "vaultId": "v", "compartmentId": "c", "secretName": "n", "etag": "e"})
        );
        assert_eq!(
            one("SELECT doc FROM secret_version_rows"),
            serde_json::json!({"versionNumber": 1})
        );
        assert_eq!(
            one("SELECT doc FROM secret_versions"),
            serde_json::json!({"secretId": "s", "versionNumber": 1})
        );
    }

    #[tokio::test]
    async fn a_failed_write_changes_nothing() {
        let store = Store::in_memory().unwrap();
        let failed: Result<()> = store
            .write(|tx| {
                tx.execute("INSERT INTO vaults VALUES ('v1', 'c', 'k', '{}')", [])?;
                Err(Error::Task("stop".into()))
            })
            .await;
        assert!(matches!(failed, Err(Error::Task(_))));
        let count: i64 = store
            .read(|tx| {
                Ok::<_, Error>(tx.query_row("SELECT count(*) FROM vaults", [], |r| r.get(0))?)
            })
            .await
            .unwrap();
        assert_eq!(count, 0);
    }
}
