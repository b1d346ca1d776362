//! Listings for the emulator's console (`/_emulator/inventory/…`): every
//! vault whatever its compartment, with how many keys and secrets it holds,
//! and a vault's secrets a page at a time. Resources come back settled at
//! `now`, like every other read; callers show their metadata only (the
//! version documents carry sealed content, which they must drop).

use rusqlite::{params, Connection};
use time::OffsetDateTime;

use super::secrets::Secret;
use super::vaults::Vault;
use super::Result;
use crate::store;

/// A vault and the number of keys and secrets stored in it (every state).
#[derive(Debug, Clone)]
pub struct VaultEntry {
    /// The vault, settled.
    pub vault: Vault,
    /// Keys in it.
    pub keys: i64,
    /// Secrets in it.
    pub secrets: i64,
}

/// Every vault, oldest first (by `timeCreated`, then id), with its counts.
pub fn vaults(tx: &Connection, now: OffsetDateTime) -> Result<Vec<VaultEntry>> {
    let vaults: Vec<Vault> = store::query_docs(tx, "SELECT doc FROM vaults", params![])?;
    let mut keys = tx.prepare_cached("SELECT count(*) FROM keys WHERE vault_id = ?1")?;
    let mut secrets = tx.prepare_cached("SELECT count(*) FROM secrets WHERE vault_id = ?1")?;
    let mut out = Vec::with_capacity(vaults.len());
    for vault in vaults {
        let k: i64 = keys.query_row(params![vault.id], |r| r.get(0))?;
        let s: i64 = secrets.query_row(params![vault.id], |r| r.get(0))?;
        out.push(VaultEntry {
            vault: vault.settle(now),
            keys: k,
            secrets: s,
        });
    }
    out.sort_by(|a, b| {
        (a.vault.time_created, &a.vault.id).cmp(&(b.vault.time_created, &b.vault.id))
    });
    Ok(out)
}

/// One page of a vault's secrets, by name, and how many match in all.
#[derive(Debug, Clone)]
pub struct SecretPage {
    /// Secrets whose name contains the filter (all when none).
    pub total: i64,
    /// At most `limit` of them from `offset`, ordered by name.
    pub secrets: Vec<Secret>,
}

/// The secrets of `vault_id` whose name contains `name_contains` (case
/// sensitive; all when empty), ordered by name, `limit` from `offset`.
pub fn secrets_page(
    tx: &Connection,
    vault_id: &str,
    name_contains: &str,
    offset: u32,
    limit: u32,
    now: OffsetDateTime,
) -> Result<SecretPage> {
    // instr() rather than LIKE: no wildcard in a name is special.
    let total: i64 = tx.query_row(
        "SELECT count(*) FROM secrets WHERE vault_id = ?1 AND instr(name, ?2) > 0",
        params![vault_id, name_contains],
        |r| r.get(0),
    )?;
    let secrets: Vec<Secret> = store::query_docs(
        tx,
        "SELECT doc FROM secrets WHERE vault_id = ?1 AND instr(name, ?2) > 0
         ORDER BY name LIMIT ?3 OFFSET ?4",
        params![vault_id, name_contains, limit, offset],
    )?;
    Ok(SecretPage {
        total,
        secrets: secrets.into_iter().map(|s| s.settle(now)).collect(),
    })
}
