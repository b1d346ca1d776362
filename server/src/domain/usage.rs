//! `GetVaultUsage`: how many keys and key versions a vault holds, after
//! the `VaultUsage` model of the `oci` Python SDK
//! (`oci/key_management/models/vault_usage.py`): counted across all
//! compartments, split by where the material lives (`HSM` keys in
//! `keyCount`/`keyVersionCount`, `SOFTWARE` keys in the `software…`
//! fields), excluding what is `DELETED`. A key pending deletion still
//! counts (it is not deleted yet); the versions of a deleted key do not.

use rusqlite::Connection;
use time::OffsetDateTime;

use super::keys::{self, KeyState, ProtectionMode};
use super::Result;

/// The counts of one vault (`VaultUsage`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    /// HSM-protected keys not `DELETED`.
    pub key_count: u64,
    /// Their key versions not `DELETED`.
    pub key_version_count: u64,
    /// Software-protected keys not `DELETED`.
    pub software_key_count: u64,
    /// Their key versions not `DELETED`.
    pub software_key_version_count: u64,
}

/// The usage of vault `vault_id` at `now` (keys settled at `now`).
pub fn of_vault(tx: &Connection, vault_id: &str, now: OffsetDateTime) -> Result<Usage> {
    let mut usage = Usage::default();
    for key in keys::in_vault(tx, vault_id, now)? {
        if key.lifecycle_state == KeyState::Deleted {
            continue;
        }
        let versions = keys::versions(tx, &key.id, now)?
            .iter()
            .filter(|v| v.lifecycle_state != KeyState::Deleted)
            .count() as u64;
        match key.protection_mode {
            ProtectionMode::Hsm => {
                usage.key_count += 1;
                usage.key_version_count += versions;
            }
            ProtectionMode::Software => {
                usage.software_key_count += 1;
                usage.software_key_version_count += versions;
            }
            // External keys hold no material here and are not created by
            // the emulator; OCI's model has no field for them.
            ProtectionMode::External => {}
        }
    }
    Ok(usage)
}

/// What the tenancy holds that OCI bills per month (`GET /_emulator/usage`):
/// key versions not `DELETED`, HSM and software apart (as
/// [`of_vault`] counts them), and secret versions.
pub fn billable(tx: &Connection, now: OffsetDateTime) -> Result<(Usage, u64)> {
    let mut usage = Usage::default();
    let vault_ids: Vec<String> = {
        let mut stmt = tx.prepare_cached("SELECT id FROM vaults")?;
        let ids = stmt.query_map([], |r| r.get::<_, String>(0))?;
        ids.collect::<std::result::Result<_, _>>()?
    };
    for id in vault_ids {
        let u = of_vault(tx, &id, now)?;
        usage.key_count += u.key_count;
        usage.key_version_count += u.key_version_count;
        usage.software_key_count += u.software_key_count;
        usage.software_key_version_count += u.software_key_version_count;
    }
    let secret_versions: i64 =
        tx.query_row("SELECT count(*) FROM secret_versions", [], |r| r.get(0))?;
    Ok((usage, u64::try_from(secret_versions).unwrap_or(0)))
}
