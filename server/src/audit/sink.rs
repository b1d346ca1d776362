//! The audit trail's writer: one thread that takes events from a channel,
//! stores them in batches (one transaction per batch, so a file-backed
//! store fsyncs once per batch, not once per request) and appends each to
//! the `--audit-log` file as one JSON line.
//!
//! A request only queues its event, so auditing adds no store write to the
//! request's latency. In memory the trail is a database of its own
//! (`AppState::new`): SQLite's memdb locks a whole database for a write
//! transaction, and in the resources' database every batch held the
//! requests' reads off (they spun in the busy handler meanwhile).
//!
//! Readers of the trail (`ListEvents`,
//! `GET /_emulator/audit`, reset, shutdown) call [`AuditLog::flush`] first:
//! the channel is FIFO, so once the flush is acknowledged every event
//! queued before it is committed.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use anyhow::Context as _;

use crate::domain::audit::{self, Row};
use crate::store::Store;

enum Msg {
    Event(Box<Row>),
    Flush(tokio::sync::oneshot::Sender<()>),
}

/// Most events stored in one transaction.
const BATCH: usize = 512;

/// How long the writer, woken by an event after being idle, gathers more
/// before it stores them: one write transaction and one wake-up per window
/// instead of one per request. No reader of the resources waits for these
/// transactions (in memory the trail has a database of its own; in a file
/// WAL readers never wait), so the window is short: at 20 ms each batch was
/// a burst of about a millisecond of CPU that, on two cores, showed as the
/// GetSecretBundle p99 at one connection (1.2–1.7 ms against 0.6–0.9 ms at
/// 2 ms, same runs). A flush cuts the window short, so readers of the
/// trail never wait for it.
const WINDOW: Duration = Duration::from_millis(2);

/// The handle requests queue their events on (cheap; in `AppState`).
pub struct AuditLog {
    tx: mpsc::Sender<Msg>,
    /// The database the trail is stored in.
    store: Store,
    /// The writer thread, woken early by a flush.
    writer: std::thread::Thread,
}

impl AuditLog {
    /// Starts the writer thread on `store`, keeping at most `cap` events,
    /// appending to `file` when given (created with mode 0600 if absent;
    /// an error to open it stops the start).
    ///
    /// # Errors
    /// The file cannot be opened, or the thread cannot be spawned.
    pub fn start(store: Store, cap: u64, file: Option<&Path>) -> anyhow::Result<Self> {
        let mut out = file.map(open_append).transpose()?;
        let trail = store.clone();
        let (tx, rx) = mpsc::channel::<Msg>();
        let handle = std::thread::Builder::new()
            .name("audit-writer".into())
            .spawn(move || {
                // Whether the last pass emptied the channel: only then is a
                // new event the start of a window (a backlog is stored at
                // once, a batch at a time).
                let mut caught_up = true;
                while let Ok(first) = rx.recv() {
                    if caught_up && matches!(first, Msg::Event(_)) {
                        // Returns early on `unpark` (a flush), or at once if
                        // one came since the last pass.
                        std::thread::park_timeout(WINDOW);
                    }
                    let mut rows = Vec::new();
                    let mut acks = Vec::new();
                    let mut next = Some(first);
                    caught_up = false;
                    while let Some(m) = next.take() {
                        match m {
                            Msg::Event(row) => rows.push(*row),
                            Msg::Flush(ack) => acks.push(ack),
                        }
                        if rows.len() < BATCH {
                            next = rx.try_recv().ok();
                            caught_up = next.is_none();
                        }
                    }
                    if !rows.is_empty() {
                        write(&store, &rows, cap, out.as_mut());
                    }
                    for ack in acks {
                        let _ = ack.send(());
                    }
                }
            })
            .context("starting the audit writer")?;
        Ok(Self {
            tx,
            store: trail,
            writer: handle.thread().clone(),
        })
    }

    /// The database the trail is stored in: readers of `audit_events` and
    /// of the retention setting go through it ([`AuditLog::flush`] first).
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Queues one event (never blocks).
    pub fn record(&self, row: Row) {
        let _ = self.tx.send(Msg::Event(Box::new(row)));
    }

    /// Waits until every event queued before this call is stored.
    pub async fn flush(&self) {
        let (ack, done) = tokio::sync::oneshot::channel();
        if self.tx.send(Msg::Flush(ack)).is_ok() {
            self.writer.unpark();
            let _ = done.await;
        }
    }
}

fn open_append(path: &Path) -> anyhow::Result<(PathBuf, std::fs::File)> {
    let mut options = std::fs::OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file = options
        .open(path)
        .with_context(|| format!("opening the audit log {}", path.display()))?;
    Ok((path.to_path_buf(), file))
}

/// Stores `rows` and appends them to the file; a failure is logged (with
/// no event content) and the writer goes on.
fn write(store: &Store, rows: &[Row], cap: u64, out: Option<&mut (PathBuf, std::fs::File)>) {
    if let Err(e) = store.blocking_write(|tx| audit::insert(tx, rows, cap)) {
        tracing::error!(error = %e, events = rows.len(), "storing audit events failed");
    }
    if let Some((path, file)) = out {
        let mut text = String::new();
        for r in rows {
            text.push_str(&r.doc);
            text.push('\n');
        }
        if let Err(e) = file.write_all(text.as_bytes()) {
            tracing::error!(error = %e, path = %path.display(), "appending to the audit log failed");
        }
    }
}
