//! Cross-region vault replication, after the `CreateVaultReplica`,
//! `DeleteVaultReplica`, `ListVaultReplicas` and `GetReplicationStatus`
//! docstrings of the `oci` Python SDK (`oci/key_management/kms_vault_client.py`,
//! `kms_management_client.py`) and Oracle's "Replicating Vaults and Keys":
//!
//! - only a vault whose `isVaultReplicable` is true (a `VIRTUAL_PRIVATE`
//!   vault) that is `ACTIVE` can be replicated, to one other region of the
//!   tenancy at a time: asking again for the same region is a no-op, for
//!   another region a 409 until the replica is deleted;
//! - the replica keeps the vault's OCID, and its keys and key versions keep
//!   theirs; the replica region serves reads and cryptographic operations,
//!   never management writes;
//! - every change to the vault or its keys has a `replicationId`, whose
//!   status (`REPLICATED` here: replication is immediate) `GetReplicationStatus`
//!   reports per replica region.
//!
//! A replica is not a copy: it is the same rows, served under the replica
//! region's endpoints (`/regions/<region>/…`), so it can never lag or
//! diverge. Regions are `Option<String>`, `None` meaning the emulator's own
//! `--region`, so the domain never needs to know that name.

use rusqlite::{Connection, Transaction};
use time::OffsetDateTime;

use super::keys;
use super::vaults::{for_change, save, Vault, VaultType};
use super::{new_etag, Error, Result};

pub use super::vaults::Replica;

/// How a region sees a vault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    /// The vault's own region: everything is allowed there.
    Primary,
    /// The region of its replica: reads and cryptographic operations only.
    Replica,
}

/// How `region` (`None`: the emulator's own) sees `vault`: its primary
/// region, its replica's, or neither (`None`: the vault does not exist
/// there, so every call naming it is a 404).
pub fn view(vault: &Vault, region: Option<&str>) -> Option<View> {
    if vault.region.as_deref() == region {
        Some(View::Primary)
    } else if vault
        .replica
        .as_ref()
        .is_some_and(|r| r.region.as_deref() == region)
    {
        Some(View::Replica)
    } else {
        None
    }
}

/// `CreateVaultReplica` to `region` (already checked to be a region of the
/// tenancy). A no-op when the vault is already replicated there; 409
/// `Conflict` when it is replicated elsewhere; 400 when the vault is not
/// replicable or `region` is its own; 409 `IncorrectState` unless `ACTIVE`.
pub fn create(
    tx: &Transaction<'_>,
    now: OffsetDateTime,
    mut vault: Vault,
    if_match: Option<&str>,
    region: Option<String>,
) -> Result<Vault> {
    for_change(tx, &vault, if_match)?;
    vault.ensure_active()?;
    if vault.vault_type != VaultType::VirtualPrivate {
        return Err(Error::InvalidParameter(format!(
            "Vault {} cannot be replicated: its isVaultReplicable is false (only VIRTUAL_PRIVATE vaults replicate).",
            vault.id
        )));
    }
    if region == vault.region {
        return Err(Error::InvalidParameter(
            "replicaRegion is the vault's own region; a replica must be in another region.".into(),
        ));
    }
    match &vault.replica {
        Some(existing) if existing.region == region => return Ok(vault),
        Some(_) => {
            return Err(Error::Conflict(format!(
                "Vault {} is already replicated to another region; delete that replica first.",
                vault.id
            )))
        }
        None => {}
    }
    vault.replica = Some(Replica {
        region,
        time_created: now,
    });
    vault.etag = new_etag();
    save(tx, &vault)?;
    Ok(vault)
}

/// `DeleteVaultReplica` in `region`: the replica goes at once (its
/// endpoints answer 404 from then on). 400 when the vault has no replica
/// there.
pub fn delete(
    tx: &Transaction<'_>,
    mut vault: Vault,
    if_match: Option<&str>,
    region: Option<String>,
) -> Result<Vault> {
    for_change(tx, &vault, if_match)?;
    if vault.replica.as_ref().map(|r| &r.region) != Some(&region) {
        return Err(Error::InvalidParameter(format!(
            "Vault {} has no replica in that region.",
            vault.id
        )));
    }
    vault.replica = None;
    vault.etag = new_etag();
    save(tx, &vault)?;
    Ok(vault)
}

/// The `replicationId` of the latest change to a resource of a replicated
/// vault: derived from the resource's OCID and etag, so every write (by
/// any operation) has a new one, with nothing more to store.
pub fn replication_id(resource_id: &str, etag: &str) -> String {
    crate::crypto::digest_token(&[b"replication", resource_id.as_bytes(), etag.as_bytes()])
}

/// `GetReplicationStatus`: the replica's region when `replication_id` is
/// the current replication id of `vault`, one of its keys or one of their
/// key versions (it is then `REPLICATED`: replication is immediate); 404
/// otherwise, and for a vault without a replica.
pub fn status(
    tx: &Connection,
    vault: &Vault,
    replication_id: &str,
    now: OffsetDateTime,
) -> Result<Option<String>> {
    let replica = vault.replica.as_ref().ok_or(Error::NotFound)?;
    let mut current = vec![self::replication_id(&vault.id, &vault.etag)];
    for key in keys::in_vault(tx, &vault.id, now)? {
        current.push(self::replication_id(&key.id, &key.etag));
        for version in keys::versions(tx, &key.id, now)? {
            current.push(self::replication_id(&version.id, &version.etag()));
        }
    }
    if current.iter().any(|id| id == replication_id) {
        Ok(replica.region.clone())
    } else {
        Err(Error::NotFound)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::vaults::{self, NewVault};
    use crate::domain::Tags;
    use crate::store::Store;

    fn private_vault(store: &Store, now: OffsetDateTime) -> Vault {
        store
            .blocking_write(|tx| {
                vaults::create(
                    tx,
                    now,
                    "us-ashburn-1",
                    NewVault {
                        region: None,
                        compartment_id: "ocid1.compartment.oc1..c".into(),
                        display_name: "v".into(),
                        vault_type: VaultType::VirtualPrivate,
                        tags: Tags::default(),
                    },
                )
            })
            .unwrap()
    }

    #[test]
    fn one_replica_at_a_time_and_the_same_region_again_is_a_no_op() {
        let store = Store::in_memory().unwrap();
        let now = OffsetDateTime::now_utc();
        let vault = private_vault(&store, now);
        let phx = Some("us-phoenix-1".to_owned());
        let replicated = store
            .blocking_write(|tx| create(tx, now, vault, None, phx.clone()))
            .unwrap();
        assert_eq!(view(&replicated, None), Some(View::Primary));
        assert_eq!(view(&replicated, phx.as_deref()), Some(View::Replica));
        assert_eq!(view(&replicated, Some("eu-frankfurt-1")), None);
        let again = store
            .blocking_write(|tx| create(tx, now, replicated.clone(), None, phx.clone()))
            .unwrap();
        assert_eq!(again.etag, replicated.etag, "a no-op changes nothing");
        let elsewhere = store.blocking_write(|tx| {
            create(tx, now, again.clone(), None, Some("eu-frankfurt-1".into()))
        });
        assert!(
            matches!(elsewhere, Err(Error::Conflict(_))),
            "{elsewhere:?}"
        );
        let deleted = store
            .blocking_write(|tx| delete(tx, again, None, phx.clone()))
            .unwrap();
        assert_eq!(view(&deleted, phx.as_deref()), None);
    }

    #[test]
    fn a_default_vault_is_not_replicable_and_its_own_region_is_refused() {
        let store = Store::in_memory().unwrap();
        let now = OffsetDateTime::now_utc();
        let mut vault = private_vault(&store, now);
        let own = store.blocking_write(|tx| create(tx, now, vault.clone(), None, None));
        assert!(matches!(own, Err(Error::InvalidParameter(_))), "{own:?}");
        vault.vault_type = VaultType::Default;
        store
            .blocking_write(|tx| save(tx, &vault).map(|_| ()))
            .unwrap();
        let refused =
            store.blocking_write(|tx| create(tx, now, vault, None, Some("us-phoenix-1".into())));
        assert!(
            matches!(&refused, Err(Error::InvalidParameter(m)) if m.contains("isVaultReplicable")),
            "{refused:?}"
        );
    }
}
