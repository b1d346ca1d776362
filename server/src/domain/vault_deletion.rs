//! Scheduling and cancelling a vault's deletion, which carries its keys
//! along (the `ScheduleVaultDeletion` / `CancelVaultDeletion` docstrings of
//! the `oci` Python SDK, `oci/key_management/kms_vault_client.py`). Apart
//! from `vaults` and `keys` so that neither of those imports the other's
//! functions.

use rusqlite::Transaction;
use time::OffsetDateTime;

use super::keys::{self, KeyState};
use super::vaults::{for_change, save, state_name, Vault, VaultState};
use super::{deletion_time, new_etag, Error, Result};

/// `ScheduleVaultDeletion`: 7–30 days out (default 30); every key not
/// already scheduled goes to `PENDING_DELETION` with the vault's time. A key
/// already scheduled later than the vault makes the call fail with 409.
pub fn schedule(
    tx: &Transaction<'_>,
    now: OffsetDateTime,
    mut vault: Vault,
    if_match: Option<&str>,
    requested: Option<OffsetDateTime>,
) -> Result<Vault> {
    for_change(tx, &vault, if_match)?;
    vault.ensure_active()?;
    let at = deletion_time(requested, now, 7, 30, 30)?;
    let vault_keys = keys::in_vault(tx, &vault.id, now)?;
    if let Some(late) = vault_keys.iter().find(|k| {
        k.lifecycle_state == KeyState::PendingDeletion && k.time_of_deletion.is_some_and(|t| t > at)
    }) {
        return Err(Error::Conflict(format!(
            "Key {} is scheduled for deletion after the requested vault deletion time.",
            late.id
        )));
    }
    for mut key in vault_keys {
        if matches!(key.lifecycle_state, KeyState::Enabled | KeyState::Disabled) {
            key.state_before_deletion = Some(key.lifecycle_state);
            key.lifecycle_state = KeyState::PendingDeletion;
            key.time_of_deletion = Some(at);
            key.scheduled_with_vault = true;
            key.etag = new_etag();
            keys::save(tx, &key)?;
        }
    }
    vault.lifecycle_state = VaultState::PendingDeletion;
    vault.time_of_deletion = Some(at);
    vault.etag = new_etag();
    save(tx, &vault)?;
    Ok(vault)
}

/// `CancelVaultDeletion`: back to `ACTIVE`; keys that were scheduled with the
/// vault return to their former state, keys scheduled on their own stay.
pub fn cancel(
    tx: &Transaction<'_>,
    now: OffsetDateTime,
    mut vault: Vault,
    if_match: Option<&str>,
) -> Result<Vault> {
    for_change(tx, &vault, if_match)?;
    if vault.lifecycle_state != VaultState::PendingDeletion {
        return Err(Error::IncorrectState(format!(
            "Vault {} is in lifecycle state {}; only a vault pending deletion can have its deletion cancelled.",
            vault.id,
            state_name(vault.lifecycle_state)
        )));
    }
    for mut key in keys::in_vault(tx, &vault.id, now)? {
        if key.scheduled_with_vault && key.lifecycle_state == KeyState::PendingDeletion {
            key.lifecycle_state = key
                .state_before_deletion
                .take()
                .unwrap_or(KeyState::Enabled);
            key.time_of_deletion = None;
            key.scheduled_with_vault = false;
            key.etag = new_etag();
            keys::save(tx, &key)?;
        }
    }
    vault.lifecycle_state = VaultState::Active;
    vault.time_of_deletion = None;
    vault.etag = new_etag();
    save(tx, &vault)?;
    Ok(vault)
}
