//! `opc-retry-token`: a create sent again with the same token within 24
//! hours replays the first result instead of creating a duplicate (OCI's
//! "Retry token" header, documented on every Create operation of the SDKs).

use rusqlite::Transaction;
use time::OffsetDateTime;

use super::Result;
use crate::store;

/// Runs a create under `opc-retry-token` semantics inside one transaction.
/// `scope` is the token's scope (operation, caller and token), `None` when
/// the request carries no token; `replay` loads the first result by its id.
pub fn idempotent<R>(
    tx: &Transaction<'_>,
    scope: Option<&str>,
    now: OffsetDateTime,
    replay: impl FnOnce(&Transaction<'_>, &str) -> Result<R>,
    create: impl FnOnce(&Transaction<'_>) -> Result<R>,
    id_of: impl Fn(&R) -> &str,
) -> Result<R> {
    if let Some(scope) = scope {
        if let Some(id) = store::retry_token(tx, scope, now)? {
            return replay(tx, &id);
        }
    }
    let created = create(tx)?;
    if let Some(scope) = scope {
        store::save_retry_token(tx, scope, id_of(&created), now)?;
    }
    Ok(created)
}
