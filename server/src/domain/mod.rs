//! The resources and their rules: vaults, master encryption keys and key
//! versions, secrets and secret versions. No HTTP and no wire types here:
//! functions take a store transaction, the request's time and the resources
//! the pipeline resolved ([`target::Target`]), and fail with [`Error`], which
//! `error.rs` maps to OCI's statuses and codes in one exhaustive table.
//!
//! A write that starts from a resolved resource first checks, in its own
//! transaction, that the row still has the etag it was read with
//! ([`ensure_fresh`]); so resolving once per request never loses an update
//! made by a concurrent request.

pub mod audit;
pub mod backup;
pub mod catalog;
pub mod compartments;
pub mod key_rotation;
pub mod key_version_deletion;
pub mod keys;
pub mod leak_scan;
pub mod paging;
pub mod replicas;
pub mod retry;
pub mod rotation_config;
pub mod secret_generation;
pub mod secret_replication;
pub mod secret_rotation;
pub mod secret_rules;
pub mod secret_version_deletion;
pub mod secrets;
pub mod seed;
pub mod state;
pub mod target;
pub mod usage;
pub mod vault_deletion;
pub mod vaults;
pub mod wrapping;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// What went wrong, in domain terms. Messages are shown to clients, so they
/// never include secret content or key material.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The resource does not exist (or is deleted); on the wire this is the
    /// same 404 `NotAuthorizedOrNotFound` as a denial.
    #[error("not found")]
    NotFound,
    /// A parameter is invalid.
    #[error("invalid parameter: {0}")]
    InvalidParameter(String),
    /// A required parameter is absent.
    #[error("missing parameter: {0}")]
    MissingParameter(String),
    /// The resource's lifecycle state forbids the operation.
    #[error("incorrect state: {0}")]
    IncorrectState(String),
    /// A conflict that will not resolve by waiting.
    #[error("conflict: {0}")]
    Conflict(String),
    /// What a restore would create exists already (OCI: "If a vault with
    /// the same OCID already exists, this operation returns … 409").
    #[error("already exists: {0}")]
    AlreadyExists(String),
    /// An Oracle-defined limit would be exceeded (400 `LimitExceeded`).
    #[error("limit exceeded: {0}")]
    LimitExceeded(String),
    /// A resource named in the body (not the URI) does not exist.
    #[error("related resource not found: {0}")]
    RelatedNotFound(String),
    /// `if-match` did not match the resource's etag.
    #[error("etag mismatch")]
    NoEtagMatch,
    /// Ciphertext that does not decrypt (corrupt, other key, other AAD).
    #[error("invalid ciphertext")]
    InvalidCiphertext,
    /// Anything else: logged with its cause, shown as a generic 500.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        Error::Internal(anyhow::Error::new(e).context("store"))
    }
}

impl From<crate::store::Error> for Error {
    fn from(e: crate::store::Error) -> Self {
        Error::Internal(anyhow::Error::new(e))
    }
}

impl From<crate::crypto::Error> for Error {
    fn from(e: crate::crypto::Error) -> Self {
        match e {
            crate::crypto::Error::InvalidCiphertext => Error::InvalidCiphertext,
            crate::crypto::Error::Internal(cause) => Error::Internal(cause),
        }
    }
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Error::Internal(anyhow::Error::new(e).context("stored document"))
    }
}

/// Result of domain functions.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Freeform and defined tags, kept as given (OCI validates tag namespaces;
/// the emulator does not).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Tags {
    /// `freeformTags`: string → string.
    #[serde(default)]
    pub freeform: serde_json::Map<String, serde_json::Value>,
    /// `definedTags`: namespace → key → value.
    #[serde(default)]
    pub defined: serde_json::Map<String, serde_json::Value>,
}

/// Parses an ISO 8601 duration in whole days, `P<n>D` with `n` from `min`
/// to `max` (the interval fields of `SecretExpiryRule` and
/// `RotationConfig`); `field` names the field in the 400
/// `InvalidParameter` message.
pub fn parse_days(text: &str, field: &str, min: u32, max: u32) -> Result<u32> {
    let bad = || {
        Error::InvalidParameter(format!(
            "{field} must be an ISO 8601 duration in days from P{min}D to P{max}D."
        ))
    };
    let digits = text
        .strip_prefix('P')
        .and_then(|t| t.strip_suffix('D'))
        .ok_or_else(bad)?;
    if digits.is_empty() || digits.len() > 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let days: u32 = digits.parse().map_err(|_| bad())?;
    if !(min..=max).contains(&days) {
        return Err(bad());
    }
    Ok(days)
}

/// A fresh etag: OCI's are opaque strings that change with every write.
pub fn new_etag() -> String {
    crate::ocid::random_base32(32)
}

/// A fresh `opc-work-request-id` for an operation OCI runs asynchronously
/// (backups, restores, replica changes) in `region`: the emulator completes
/// them before answering, so the id only names what was done.
pub fn new_work_request_id(region: &str) -> String {
    crate::ocid::new_ocid(crate::ocid::OcidKind::WorkRequest, region)
}

/// Checks an `if-match` header value against the resource's etag
/// (`NoEtagMatch` on mismatch; absent header always passes).
pub fn check_etag(if_match: Option<&str>, etag: &str) -> Result<()> {
    match if_match {
        Some(given) if given != etag && given != "*" => Err(Error::NoEtagMatch),
        _ => Ok(()),
    }
}

/// Validates a requested deletion time: `min_days`..=`max_days` after `now`
/// (inclusive, with a minute of slack for clients that compute "now + 7 days"
/// a moment before sending); absent → `default_days` after `now`.
///
/// The window is compared as a distance from `now`, so a time at the edge
/// of the calendar (`9999-12-31T23:59:59Z`) is refused like any other time
/// out of the window, with no date arithmetic that could overflow.
pub fn deletion_time(
    requested: Option<OffsetDateTime>,
    now: OffsetDateTime,
    min_days: i64,
    max_days: i64,
    default_days: i64,
) -> Result<OffsetDateTime> {
    let out_of_window = || {
        Error::InvalidParameter(format!(
            "timeOfDeletion must be between {min_days} and {max_days} days from now."
        ))
    };
    let Some(at) = requested else {
        return now
            .checked_add(time::Duration::days(default_days))
            .ok_or_else(out_of_window);
    };
    let slack = time::Duration::minutes(1);
    let ahead = at - now;
    if ahead + slack < time::Duration::days(min_days)
        || ahead - slack > time::Duration::days(max_days)
    {
        return Err(out_of_window());
    }
    Ok(at)
}

/// Refuses a write that starts from a copy of row `id` read earlier in the
/// request when another request changed the row since (its etag differs):
/// 409 `IncorrectState`, what OCI answers while a resource is `UPDATING`
/// for another request, and which the SDKs' default retry repeats; the
/// retry then starts from fresh state instead of overwriting a change it
/// never saw.
pub fn ensure_fresh(
    tx: &rusqlite::Transaction<'_>,
    table: &crate::store::Table,
    id: &str,
    etag: &str,
) -> Result<()> {
    if crate::store::unchanged(tx, table, id, etag)? {
        Ok(())
    } else {
        Err(Error::IncorrectState(format!(
            "{id} is being updated by another request; retry."
        )))
    }
}
