//! Scheduling and cancelling the deletion of one secret version, after the
//! `ScheduleSecretVersionDeletion` / `CancelSecretVersionDeletion`
//! docstrings of the `oci` Python SDK (`oci/vault/vaults_client.py`), its
//! `SecretVersion` / `ScheduleSecretVersionDeletionDetails` models and
//! Oracle's "Secret Versions" page.
//!
//! Rules: only a `DEPRECATED` version may be scheduled (409 `IncorrectState`
//! otherwise, as for a key's current version); the secret must be `ACTIVE`;
//! `timeOfDeletion` is 1–30 days out (default 30, the oci-cli help's
//! window); at most [`MAX_VERSIONS_PENDING_DELETION`] versions of a secret
//! are pending deletion at once (400 `LimitExceeded` past that). Once the
//! time passes the version is deleted (settled on read: it leaves every
//! listing and read). Until then cancelling clears `timeOfDeletion`.
//! `if-match` is checked against the version's etag.

use rusqlite::Transaction;
use time::OffsetDateTime;

use super::secrets::{self, Secret, SecretVersion, Stage, MAX_VERSIONS_PENDING_DELETION};
use super::{check_etag, deletion_time, Error, Result};

/// Loads version `number` of `secret` for a change: the secret row is as it
/// was resolved, the secret is `ACTIVE`, the version exists and is not
/// deleted (else `NotFound`), and `if_match` matches its etag.
fn for_change(
    tx: &Transaction<'_>,
    now: OffsetDateTime,
    secret: &Secret,
    number: u64,
    if_match: Option<&str>,
    action: &str,
) -> Result<SecretVersion> {
    secrets::for_change(tx, secret, None)?;
    let version = secrets::visible_version(tx, &secret.id, number, now)?;
    check_etag(if_match, &version.etag())?;
    secret.ensure_active(&format!("changed ({action} one of its versions)"))?;
    Ok(version)
}

/// `ScheduleSecretVersionDeletion`: the `DEPRECATED` version `number` of
/// `secret` is deleted at `requested` (1–30 days from `now`, default 30;
/// else 400 `InvalidParameter`).
///
/// # Errors
/// `NotFound`; `NoEtagMatch`; `IncorrectState` (409) for a version that is
/// not `DEPRECATED` or already pending deletion, or a secret not `ACTIVE`;
/// `LimitExceeded` (400) with 30 versions already pending deletion.
pub fn schedule(
    tx: &Transaction<'_>,
    now: OffsetDateTime,
    secret: &Secret,
    number: u64,
    if_match: Option<&str>,
    requested: Option<OffsetDateTime>,
) -> Result<SecretVersion> {
    let mut version = for_change(tx, now, secret, number, if_match, "scheduling deletion of")?;
    if version.is_pending_deletion(now) {
        return Err(Error::IncorrectState(format!(
            "Version {number} of secret {} is already scheduled for deletion.",
            secret.id
        )));
    }
    if version.stages != [Stage::Deprecated] {
        return Err(Error::IncorrectState(format!(
            "Version {number} of secret {} is not DEPRECATED; only DEPRECATED secret versions can be scheduled for deletion.",
            secret.id
        )));
    }
    let pending = secrets::versions(tx, &secret.id)?
        .iter()
        .filter(|v| v.is_pending_deletion(now))
        .count();
    if pending >= MAX_VERSIONS_PENDING_DELETION {
        return Err(Error::LimitExceeded(format!(
            "Secret {} already has {MAX_VERSIONS_PENDING_DELETION} versions pending deletion.",
            secret.id
        )));
    }
    version.time_of_deletion = Some(deletion_time(requested, now, 1, 30, 30)?);
    secrets::save_version(tx, &version)?;
    Ok(version)
}

/// `CancelSecretVersionDeletion`: a version pending deletion (its time not
/// yet passed) is kept again.
///
/// # Errors
/// `NotFound` (also for a version already deleted), `NoEtagMatch`, and
/// `IncorrectState` (409) for a version not pending deletion or a secret
/// not `ACTIVE`.
pub fn cancel(
    tx: &Transaction<'_>,
    now: OffsetDateTime,
    secret: &Secret,
    number: u64,
    if_match: Option<&str>,
) -> Result<SecretVersion> {
    let mut version = for_change(tx, now, secret, number, if_match, "cancelling deletion of")?;
    if !version.is_pending_deletion(now) {
        return Err(Error::IncorrectState(format!(
            "Version {number} of secret {} is not scheduled for deletion.",
            secret.id
        )));
    }
    version.time_of_deletion = None;
    secrets::save_version(tx, &version)?;
    Ok(version)
}
