//! Scheduling and cancelling the deletion of one key version, after the
//! `ScheduleKeyVersionDeletion` / `CancelKeyVersionDeletion` docstrings of
//! the `oci` Python SDK (`oci/key_management/kms_management_client.py`) and
//! its `KeyVersion` / `ScheduleKeyVersionDeletionDetails` models.
//!
//! Rules: the version must belong to the key in the path (404
//! `NotAuthorizedOrNotFound` otherwise); the key must be `ENABLED` or
//! `DISABLED`; the key's current version cannot be scheduled (rotate first);
//! the time of deletion is 7–30 days out (default 30), as for keys; a
//! version `PENDING_DELETION` is `DELETED` once its time passes (settled on
//! read, [`KeyVersion::settle`]) and until then cancelling returns it to
//! `ENABLED`. `if-match` is checked against the version's etag.
//!
//! The version is loaded here, inside the write's transaction, from the key
//! the pipeline resolved (checked fresh first), so its state is never read
//! twice.

use rusqlite::Transaction;
use time::OffsetDateTime;

use super::keys::{self, Key, KeyState, KeyVersion};
use super::{check_etag, deletion_time, ensure_fresh, Error, Result};
use crate::store::KEYS;

/// Loads version `version_id` of `key` for a change: the key row is as it
/// was resolved, the key is `ENABLED` or `DISABLED`, the version is the
/// key's (else `NotFound`) and `if_match` matches its etag.
fn for_change(
    tx: &Transaction<'_>,
    now: OffsetDateTime,
    key: &Key,
    version_id: &str,
    if_match: Option<&str>,
    action: &str,
) -> Result<KeyVersion> {
    ensure_fresh(tx, &KEYS, &key.id, &key.etag)?;
    let version = keys::version_at(tx, &key.id, version_id, now)?;
    check_etag(if_match, &version.etag())?;
    if !matches!(key.lifecycle_state, KeyState::Enabled | KeyState::Disabled) {
        return Err(Error::IncorrectState(format!(
            "Key {} is in lifecycle state {}; its key versions cannot be {action}.",
            key.id,
            key.lifecycle_state.as_str()
        )));
    }
    Ok(version)
}

fn incorrect(version: &KeyVersion, action: &str) -> Error {
    Error::IncorrectState(format!(
        "Key version {} is in lifecycle state {}; it cannot be {action}.",
        version.id,
        version.lifecycle_state.as_str()
    ))
}

/// `ScheduleKeyVersionDeletion`: the `ENABLED` version `version_id` of `key`
/// goes to `PENDING_DELETION` at `requested` (7–30 days from `now`,
/// default 30; else 400 `InvalidParameter`).
///
/// # Errors
/// `NotFound` for a version of another key or none; `NoEtagMatch`;
/// `IncorrectState` (409) for the key's current version, a version not
/// `ENABLED`, or a key not `ENABLED`/`DISABLED`; `InvalidParameter` for a
/// time out of the window.
pub fn schedule(
    tx: &Transaction<'_>,
    now: OffsetDateTime,
    key: &Key,
    version_id: &str,
    if_match: Option<&str>,
    requested: Option<OffsetDateTime>,
) -> Result<KeyVersion> {
    let action = "scheduled for deletion";
    let mut version = for_change(tx, now, key, version_id, if_match, action)?;
    if version.id == key.current_key_version {
        return Err(Error::IncorrectState(format!(
            "Key version {} is the current version of key {}; rotate the key (CreateKeyVersion) before scheduling this version for deletion.",
            version.id, key.id
        )));
    }
    if version.lifecycle_state != KeyState::Enabled {
        return Err(incorrect(&version, action));
    }
    let at = deletion_time(requested, now, 7, 30, 30)?;
    version.lifecycle_state = KeyState::PendingDeletion;
    version.time_of_deletion = Some(at);
    keys::update_version(tx, &version)?;
    Ok(version)
}

/// `CancelKeyVersionDeletion`: a version `PENDING_DELETION` (whose time has
/// not passed) returns to `ENABLED`, the only state it can be scheduled
/// from.
///
/// # Errors
/// `NotFound`, `NoEtagMatch`, and `IncorrectState` (409) for a version not
/// pending deletion (including one already `DELETED`) or a key not
/// `ENABLED`/`DISABLED`.
pub fn cancel(
    tx: &Transaction<'_>,
    now: OffsetDateTime,
    key: &Key,
    version_id: &str,
    if_match: Option<&str>,
) -> Result<KeyVersion> {
    let action = "taken out of deletion";
    let mut version = for_change(tx, now, key, version_id, if_match, action)?;
    if version.lifecycle_state != KeyState::PendingDeletion {
        return Err(incorrect(&version, action));
    }
    version.lifecycle_state = KeyState::Enabled;
    version.time_of_deletion = None;
    keys::update_version(tx, &version)?;
    Ok(version)
}
