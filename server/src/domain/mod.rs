//! The resources and their rules: vaults, master encryption keys and key
//! versions, secrets and secret versions. No HTTP here: functions take a store
//! transaction and the clock, and fail with [`Error`], which `error.rs` maps
//! to OCI's statuses and codes in one exhaustive table.

pub mod ids;
pub mod keys;
pub mod secrets;
pub mod seed;
pub mod state;
pub mod vaults;

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

/// A fresh etag: OCI's are opaque strings that change with every write.
pub fn new_etag() -> String {
    ids::random_base32(32)
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
pub fn deletion_time(
    requested: Option<OffsetDateTime>,
    now: OffsetDateTime,
    min_days: i64,
    max_days: i64,
    default_days: i64,
) -> Result<OffsetDateTime> {
    let Some(at) = requested else {
        return Ok(now + time::Duration::days(default_days));
    };
    let slack = time::Duration::minutes(1);
    if at + slack < now + time::Duration::days(min_days)
        || at - slack > now + time::Duration::days(max_days)
    {
        return Err(Error::InvalidParameter(format!(
            "timeOfDeletion must be between {min_days} and {max_days} days from now."
        )));
    }
    Ok(at)
}
