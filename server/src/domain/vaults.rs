//! Vaults: lifecycle and rules, after the KMS API's `Vault` model and the
//! `ScheduleVaultDeletion`/`CancelVaultDeletion` docstrings of the `oci`
//! Python SDK (`oci/key_management/kms_vault_client.py`).
//!
//! The emulator goes straight to stable states: a created vault is `ACTIVE`
//! at once; a scheduled deletion is `PENDING_DELETION` until its time passes,
//! then `DELETED`.

use rusqlite::{params, Connection, Transaction};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::{check_etag, ensure_fresh, new_etag, paging, Error, Result, Tags};
use crate::ocid::{new_ocid, random_base32, OcidKind};
use crate::store::{self, VAULTS};

/// `Vault.vaultType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum VaultType {
    /// A virtual (shared-partition) vault.
    Default,
    /// A dedicated-partition vault.
    VirtualPrivate,
    /// Keys held in an external key manager.
    External,
}

/// `Vault.lifecycleState` values the emulator reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum VaultState {
    /// Usable.
    Active,
    /// Scheduled for deletion at `timeOfDeletion`.
    PendingDeletion,
    /// Deleted (its time of deletion passed).
    Deleted,
}

/// A vault's replica, as stored on the vault (its rules are in
/// `domain::replicas`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Replica {
    /// The replica's region (`None`: the emulator's own `--region`).
    #[serde(default)]
    pub region: Option<String>,
    /// When the replica was created.
    #[serde(with = "time::serde::rfc3339")]
    pub time_created: OffsetDateTime,
}

/// A vault as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Vault {
    /// `ocid1.vault.oc1.<region>.…`
    pub id: String,
    /// The compartment it lives in.
    pub compartment_id: String,
    /// `displayName`.
    pub display_name: String,
    /// `vaultType`.
    pub vault_type: VaultType,
    /// Lifecycle state as stored; read through [`Vault::settle`].
    pub lifecycle_state: VaultState,
    /// `timeCreated`.
    #[serde(with = "time::serde::rfc3339")]
    pub time_created: OffsetDateTime,
    /// `timeOfDeletion` while pending deletion.
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub time_of_deletion: Option<OffsetDateTime>,
    /// Tags.
    pub tags: Tags,
    /// The short name in this vault's endpoints (`/kms/<vault_key>/management`).
    pub vault_key: String,
    /// `wrappingkeyId`: the OCID of the vault's wrapping key.
    pub wrapping_key_id: String,
    /// The current etag.
    pub etag: String,
    /// The vault's (primary) region when it is not the emulator's own
    /// `--region` (`None`: the emulator's region).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Its replica in another region, if it has one (OCI allows one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replica: Option<Replica>,
    /// `restoredFromVaultId`: the vault a restore brought this one back
    /// from (its own OCID when restored in the same region).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restored_from_vault_id: Option<String>,
}

impl Vault {
    /// Applies a deletion whose time has passed.
    pub fn settle(mut self, now: OffsetDateTime) -> Self {
        if self.lifecycle_state == VaultState::PendingDeletion
            && self.time_of_deletion.is_some_and(|t| t <= now)
        {
            self.lifecycle_state = VaultState::Deleted;
        }
        self
    }

    /// Refuses use of a vault that is not `ACTIVE` (409 `IncorrectState`).
    pub fn ensure_active(&self) -> Result<()> {
        if self.lifecycle_state != VaultState::Active {
            return Err(Error::IncorrectState(format!(
                "Vault {} is in lifecycle state {}.",
                self.id,
                state_name(self.lifecycle_state)
            )));
        }
        Ok(())
    }
}

/// The wire name of a vault state.
pub fn state_name(state: VaultState) -> &'static str {
    match state {
        VaultState::Active => "ACTIVE",
        VaultState::PendingDeletion => "PENDING_DELETION",
        VaultState::Deleted => "DELETED",
    }
}

/// What `CreateVault` needs (validated from `CreateVaultDetails`).
#[derive(Debug)]
pub struct NewVault {
    /// The region it is created in (`None`: the emulator's own).
    pub region: Option<String>,
    /// `compartmentId`.
    pub compartment_id: String,
    /// `displayName`.
    pub display_name: String,
    /// `vaultType`.
    pub vault_type: VaultType,
    /// Tags.
    pub tags: Tags,
}

/// Writes a vault row (insert or update).
pub fn save(tx: &Transaction<'_>, vault: &Vault) -> Result<()> {
    tx.execute(
        "INSERT INTO vaults (id, compartment_id, vault_key, doc) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (id) DO UPDATE SET compartment_id = ?2, doc = ?4",
        params![
            vault.id,
            vault.compartment_id,
            vault.vault_key,
            store::doc(vault)?
        ],
    )?;
    Ok(())
}

/// `CreateVault`: a new `ACTIVE` vault; `region` (the region's name, for
/// the OCIDs) is where it is created, `new.region` the same as stored.
pub fn create(
    tx: &Transaction<'_>,
    now: OffsetDateTime,
    region: &str,
    new: NewVault,
) -> Result<Vault> {
    if new.vault_type == VaultType::External {
        return Err(Error::InvalidParameter(
            "vaultType EXTERNAL needs an external key manager, which the emulator does not emulate yet.".into(),
        ));
    }
    let vault = Vault {
        id: new_ocid(OcidKind::Vault, region),
        compartment_id: new.compartment_id,
        display_name: new.display_name,
        vault_type: new.vault_type,
        lifecycle_state: VaultState::Active,
        time_created: now,
        time_of_deletion: None,
        tags: new.tags,
        vault_key: random_base32(13),
        wrapping_key_id: new_ocid(OcidKind::Key, region),
        etag: new_etag(),
        region: new.region,
        replica: None,
        restored_from_vault_id: None,
    };
    save(tx, &vault)?;
    Ok(vault)
}

/// The vault `id`, settled at `now`; `None` when absent.
pub fn find(tx: &Connection, id: &str, now: OffsetDateTime) -> Result<Option<Vault>> {
    Ok(store::get::<Vault>(tx, &VAULTS, id)?.map(|v| v.settle(now)))
}

/// The vault `id`; 404 when absent.
pub fn get(tx: &Connection, id: &str, now: OffsetDateTime) -> Result<Vault> {
    find(tx, id, now)?.ok_or(Error::NotFound)
}

/// The vault whose endpoints carry `vault_key`; `None` when none. Only the
/// pipeline's resolver calls this: every key and crypto call gets its vault
/// from there.
pub fn by_endpoint_key(
    tx: &Connection,
    vault_key: &str,
    now: OffsetDateTime,
) -> Result<Option<Vault>> {
    let mut found: Vec<Vault> = store::query_docs(
        tx,
        "SELECT doc FROM vaults WHERE vault_key = ?1",
        params![vault_key],
    )?;
    Ok(found.pop().map(|v| v.settle(now)))
}

/// What a `ListVaults` page asks for.
#[derive(Debug, Clone)]
pub struct ListQuery {
    /// `compartmentId`.
    pub compartment_id: String,
    /// The region the request addresses (`None`: the emulator's own): the
    /// vaults whose primary region or replica region it is.
    pub region: Option<String>,
    /// `sortBy=DISPLAYNAME` (else `TIMECREATED`).
    pub by_name: bool,
    /// `sortOrder=DESC`.
    pub descending: bool,
    /// Where the previous page ended (`opc-next-page`).
    pub after: Option<paging::Cursor>,
    /// `limit` (`None`: every row).
    pub limit: Option<usize>,
}

/// The query of a `ListVaults` page, walking `vaults_by_time` or
/// `vaults_by_name` (migration 0009) in the page's order. Parameters: `?1`
/// compartment, `?2` region (`''`: the emulator's own), `?3`/`?4` the
/// cursor's key and id, `?5` the `LIMIT`.
fn list_sql(by_name: bool, descending: bool) -> String {
    let (key, op, order) = paging::order(by_name, descending, "display_name");
    format!(
        "SELECT doc, created_ns FROM vaults
         WHERE compartment_id = ?1
           AND (coalesce(json_extract(doc, '$.region'), '') = ?2
                OR (json_extract(doc, '$.replica') IS NOT NULL
                    AND coalesce(json_extract(doc, '$.replica.region'), '') = ?2))
           AND (?3 IS NULL OR ({key}, id) {op} (?3, ?4))
         ORDER BY {key} {order}, id {order} LIMIT ?5"
    )
}

/// `ListVaults`: one page of a compartment's vaults as `q.region` sees them
/// (its primary vaults and the replicas it holds, as
/// [`super::replicas::view`]), settled at `now`, and the cursor after the
/// page when more rows follow. One index walk with a `LIMIT`: a page costs
/// the same in a compartment of ten vaults and of ten thousand.
///
/// # Errors
/// 400 `InvalidParameter` for a cursor of the other sort order.
pub fn list(
    tx: &Connection,
    q: &ListQuery,
    now: OffsetDateTime,
) -> Result<(Vec<Vault>, Option<paging::Cursor>)> {
    let (after_key, after_id) = paging::Cursor::bounds(q.after.as_ref(), q.by_name)?;
    let mut stmt = tx.prepare_cached(&list_sql(q.by_name, q.descending))?;
    let rows = stmt.query_map(
        params![
            q.compartment_id,
            q.region.as_deref().unwrap_or(""),
            after_key,
            after_id,
            paging::fetch_limit(q.limit)
        ],
        |row| Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?)),
    )?;
    let (page, next) = paging::decode_page(rows, q.limit, q.by_name, |v: &Vault| {
        (&v.display_name, &v.id)
    })?;
    Ok((page.into_iter().map(|v| v.settle(now)).collect(), next))
}

/// Checks that a resolved vault may be changed: the row is as it was read,
/// and `if-match` (when given) matches its etag.
pub(super) fn for_change(
    tx: &Transaction<'_>,
    vault: &Vault,
    if_match: Option<&str>,
) -> Result<()> {
    ensure_fresh(tx, &VAULTS, &vault.id, &vault.etag)?;
    check_etag(if_match, &vault.etag)
}

/// `UpdateVault`: display name and tags; the vault must be `ACTIVE`.
pub fn update(
    tx: &Transaction<'_>,
    mut vault: Vault,
    if_match: Option<&str>,
    display_name: Option<String>,
    tags: Option<Tags>,
) -> Result<Vault> {
    for_change(tx, &vault, if_match)?;
    vault.ensure_active()?;
    if let Some(name) = display_name {
        vault.display_name = name;
    }
    if let Some(tags) = tags {
        vault.tags = tags;
    }
    vault.etag = new_etag();
    save(tx, &vault)?;
    Ok(vault)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    /// A page walks `vaults_by_time` / `vaults_by_name` in its order and
    /// stops at its limit: no temporary sort.
    #[test]
    fn a_list_page_is_an_index_walk_without_a_sort() {
        let store = Store::in_memory().unwrap();
        for (by_name, index) in [(false, "vaults_by_time"), (true, "vaults_by_name")] {
            for descending in [false, true] {
                let sql = format!("EXPLAIN QUERY PLAN {}", list_sql(by_name, descending));
                let plan: Vec<String> = store
                    .blocking_write(|tx| {
                        let mut stmt = tx.prepare(&sql)?;
                        let rows = stmt.query_map(
                            params!["c", "", None::<String>, None::<String>, 11],
                            |r| r.get::<_, String>(3),
                        )?;
                        Ok::<_, crate::store::Error>(rows.collect::<rusqlite::Result<Vec<_>>>()?)
                    })
                    .unwrap();
                assert!(plan.iter().any(|l| l.contains(index)), "{plan:?}");
                assert!(!plan.iter().any(|l| l.contains("TEMP B-TREE")), "{plan:?}");
            }
        }
    }

    fn new_vault(tx: &Transaction<'_>, now: OffsetDateTime) -> Vault {
        create(
            tx,
            now,
            "us-ashburn-1",
            NewVault {
                region: None,
                compartment_id: "ocid1.compartment.oc1..c".into(),
                display_name: "v".into(),
                vault_type: VaultType::Default,
                tags: Tags::default(),
            },
        )
        .unwrap()
    }

    /// Two requests resolved the same vault; the second to write must not
    /// overwrite the first's change.
    #[test]
    fn a_write_from_a_stale_copy_is_refused_and_keeps_the_other_change() {
        let store = Store::in_memory().unwrap();
        let now = OffsetDateTime::now_utc();
        let copy = store
            .blocking_write(|tx| Ok::<_, Error>(new_vault(tx, now)))
            .unwrap();
        let (id, stale) = (copy.id.clone(), copy.clone());
        store
            .blocking_write(|tx| update(tx, copy, None, Some("first".into()), None))
            .unwrap();
        let refused =
            store.blocking_write(|tx| update(tx, stale, None, Some("second".into()), None));
        assert!(
            matches!(&refused, Err(Error::IncorrectState(m)) if m.contains("another request")),
            "{refused:?}"
        );
        let stored = store.blocking_write(|tx| get(tx, &id, now)).unwrap();
        assert_eq!(stored.display_name, "first");
    }
}
