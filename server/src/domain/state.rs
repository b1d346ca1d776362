//! Whole-state snapshots for `GET`/`PUT /_emulator/state`, and the wipe that
//! `POST /_emulator/reset` starts from.
//!
//! A snapshot is every stored document as it is at rest: key material stays
//! sealed under the root key and secret contents stay encrypted, so a
//! snapshot reveals nothing a database file would not. It carries a value
//! sealed under the root key; importing into an emulator with another root
//! key is refused with a clear message (share `--root-key` to move state
//! between processes).

use rusqlite::{params, Connection, Transaction};
use serde::{Deserialize, Serialize};

use super::keys::{self, Key, KeyVersion};
use super::secrets::{self, Secret, SecretVersion};
use super::vaults::{self, Vault};
use super::{Error, Result};
use crate::crypto::{Keyring, B64};
use crate::store;
use base64::Engine as _;

/// The format tag of a snapshot.
pub const FORMAT: &str = "oci-vault-emulator/state/v1";

/// A snapshot. Documents are kept as JSON values on export and checked
/// against the domain types on import.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Snapshot {
    /// [`FORMAT`].
    pub format: String,
    /// Base64 of a value sealed under the root key of the exporting emulator.
    pub root_key_check: String,
    /// The virtual clock's offset when exported, in seconds.
    pub clock_offset_seconds: i64,
    /// Vault documents.
    pub vaults: Vec<serde_json::Value>,
    /// Key documents.
    pub keys: Vec<serde_json::Value>,
    /// Key version documents, in creation order per key.
    pub key_versions: Vec<serde_json::Value>,
    /// Secret documents.
    pub secrets: Vec<serde_json::Value>,
    /// Secret version documents.
    pub secret_versions: Vec<serde_json::Value>,
    /// Backup files kept for `/_emulator/backups` (sealed under the root
    /// key); absent in snapshots made before backups existed.
    #[serde(default)]
    pub backups: Vec<super::backup::Stored>,
}

/// Deletes every resource, kept backup and retry token (not the root key
/// check; the audit trail, which may live in a database of its own, is
/// [`super::audit::wipe`]'s).
pub fn wipe(tx: &Transaction<'_>) -> Result<()> {
    tx.execute_batch(
        "DELETE FROM secret_version_rows; DELETE FROM secret_replicas; DELETE FROM secret_rows; DELETE FROM key_versions;
         DELETE FROM keys; DELETE FROM wrapping_keys; DELETE FROM vaults;
         DELETE FROM retry_tokens; DELETE FROM backups;",
    )?;
    Ok(())
}

fn docs(tx: &Connection, sql: &str) -> Result<Vec<serde_json::Value>> {
    Ok(store::query_docs(tx, sql, params![])?)
}

/// How many vaults, keys and secrets are stored (what the admin endpoints
/// answer after a reset, an import or a seed).
pub fn counts(tx: &Connection) -> Result<(i64, i64, i64)> {
    let count = |sql: &str| -> Result<i64> { Ok(tx.query_row(sql, [], |r| r.get(0))?) };
    Ok((
        count("SELECT count(*) FROM vaults")?,
        count("SELECT count(*) FROM keys")?,
        count("SELECT count(*) FROM secrets")?,
    ))
}

/// The latest `timeCreated` of any stored resource or version (the clock
/// may not move back past it).
pub fn newest_event(tx: &Connection) -> Result<Option<time::OffsetDateTime>> {
    let mut newest = None;
    for sql in [
        "SELECT doc FROM vaults",
        "SELECT doc FROM keys",
        "SELECT doc FROM key_versions",
        "SELECT doc FROM secrets",
        "SELECT doc FROM secret_versions",
    ] {
        for doc in docs(tx, sql)? {
            let at = doc["timeCreated"].as_str().and_then(|t| {
                time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).ok()
            });
            newest = newest.max(at);
        }
    }
    Ok(newest)
}

/// Exports every document.
pub fn export(tx: &Connection, keyring: &Keyring, clock_offset_seconds: i64) -> Result<Snapshot> {
    Ok(Snapshot {
        format: FORMAT.into(),
        root_key_check: B64.encode(keyring.root().check_value()?),
        clock_offset_seconds,
        vaults: docs(tx, "SELECT doc FROM vaults ORDER BY id")?,
        keys: docs(tx, "SELECT doc FROM keys ORDER BY id")?,
        key_versions: docs(tx, "SELECT doc FROM key_versions ORDER BY key_id, seq")?,
        secrets: docs(tx, "SELECT doc FROM secrets ORDER BY id")?,
        secret_versions: docs(
            tx,
            "SELECT doc FROM secret_versions ORDER BY secret_id, version_number",
        )?,
        backups: super::backup::all(tx)?,
    })
}

fn typed<T: serde::de::DeserializeOwned>(
    list: &str,
    values: Vec<serde_json::Value>,
) -> Result<Vec<T>> {
    values
        .into_iter()
        .enumerate()
        .map(|(i, v)| {
            serde_path_to_error::deserialize(v).map_err(|e| {
                Error::InvalidParameter(format!("{list}[{i}].{}: {}", e.path(), e.inner()))
            })
        })
        .collect()
}

/// Replaces the whole state with a snapshot, inside `tx`: refused (and
/// nothing changed) when the format is unknown, the snapshot was sealed
/// under another root key, or a document does not fit its type.
pub fn import(tx: &Transaction<'_>, keyring: &Keyring, snapshot: Snapshot) -> Result<()> {
    if snapshot.format != FORMAT {
        return Err(Error::InvalidParameter(format!(
            "format: expected {FORMAT:?}, got {:?}",
            snapshot.format
        )));
    }
    crate::clock::check_offset(snapshot.clock_offset_seconds)
        .map_err(|e| Error::InvalidParameter(format!("clockOffsetSeconds: {e}")))?;
    let check = B64
        .decode(&snapshot.root_key_check)
        .map_err(|_| Error::InvalidParameter("rootKeyCheck: not valid base64".into()))?;
    if !keyring.root().opens_check_value(&check) {
        return Err(Error::InvalidParameter(
            "rootKeyCheck: this state was exported by an emulator with another root key; start both with the same --root-key to move state between them".into(),
        ));
    }
    let vault_docs: Vec<Vault> = typed("vaults", snapshot.vaults)?;
    let key_docs: Vec<Key> = typed("keys", snapshot.keys)?;
    let version_docs: Vec<KeyVersion> = typed("keyVersions", snapshot.key_versions)?;
    let secret_docs: Vec<Secret> = typed("secrets", snapshot.secrets)?;
    let secret_version_docs: Vec<SecretVersion> =
        typed("secretVersions", snapshot.secret_versions)?;
    wipe(tx)?;
    let conflict = |what: &str, e: Error| match e {
        Error::Internal(cause) => {
            Error::InvalidParameter(format!("{what}: {}", cause.root_cause()))
        }
        other => other,
    };
    for (i, v) in vault_docs.iter().enumerate() {
        vaults::save(tx, v).map_err(|e| conflict(&format!("vaults[{i}]"), e))?;
    }
    for (i, k) in key_docs.iter().enumerate() {
        keys::save(tx, k).map_err(|e| conflict(&format!("keys[{i}]"), e))?;
    }
    for (i, v) in version_docs.iter().enumerate() {
        keys::save_version(tx, v, i as i64)
            .map_err(|e| conflict(&format!("keyVersions[{i}]"), e))?;
    }
    for (i, s) in secret_docs.iter().enumerate() {
        secrets::save(tx, s).map_err(|e| conflict(&format!("secrets[{i}]"), e))?;
    }
    for (i, v) in secret_version_docs.iter().enumerate() {
        secrets::save_version(tx, v).map_err(|e| conflict(&format!("secretVersions[{i}]"), e))?;
    }
    for (i, b) in snapshot.backups.iter().enumerate() {
        super::backup::restore_stored(tx, b).map_err(|e| conflict(&format!("backups[{i}]"), e))?;
    }
    Ok(())
}
