//! Moving vaults, keys and secrets between compartments of the tenancy,
//! after the `ChangeVaultCompartment`, `ChangeKeyCompartment` and
//! `ChangeSecretCompartment` docstrings of the `oci` Python SDK
//! (`oci/key_management/kms_vault_client.py`, `kms_management_client.py`,
//! `oci/vault/vaults_client.py`): the resource keeps its OCID, endpoints,
//! versions and state; only `compartmentId` changes, so listing the old
//! compartment no longer shows it. A vault moves alone (its keys and
//! secrets keep their compartments, as they are resources of their own); a
//! key takes its key versions along (`KeyVersion.compartmentId` is the
//! key's). That the destination exists and that the caller may move the
//! resource out of one compartment and into the other is checked before
//! (the tenancy file, IAM).

use rusqlite::{params, Transaction};

use super::keys::{self, Key, KeyState};
use super::secrets::{self, Secret};
use super::vaults::{self, Vault};
use super::{new_etag, Result};

/// `ChangeVaultCompartment`: the vault must be `ACTIVE` (409
/// `IncorrectState` otherwise); moving it to the compartment it is in
/// already changes nothing.
pub fn move_vault(
    tx: &Transaction<'_>,
    mut vault: Vault,
    if_match: Option<&str>,
    compartment_id: String,
) -> Result<Vault> {
    vaults::for_change(tx, &vault, if_match)?;
    vault.ensure_active()?;
    if vault.compartment_id == compartment_id {
        return Ok(vault);
    }
    vault.compartment_id = compartment_id;
    vault.etag = new_etag();
    vaults::save(tx, &vault)?;
    Ok(vault)
}

/// `ChangeSecretCompartment`: the secret must be `ACTIVE` (409
/// `IncorrectState` otherwise; a secret pending deletion stays where it
/// is); its versions have no compartment of their own. Moving it to the
/// compartment it is in already changes nothing.
pub fn move_secret(
    tx: &Transaction<'_>,
    mut secret: Secret,
    if_match: Option<&str>,
    compartment_id: String,
) -> Result<Secret> {
    secrets::for_change(tx, &secret, if_match)?;
    secret.ensure_active("moved to another compartment")?;
    if secret.compartment_id == compartment_id {
        return Ok(secret);
    }
    secret.compartment_id = compartment_id;
    secret.etag = new_etag();
    secrets::save(tx, &secret)?;
    Ok(secret)
}

/// `ChangeKeyCompartment`: the key must be `ENABLED` or `DISABLED` (409
/// `IncorrectState` otherwise); its versions move with it. Moving it to
/// the compartment it is in already changes nothing.
pub fn move_key(
    tx: &Transaction<'_>,
    mut key: Key,
    if_match: Option<&str>,
    compartment_id: String,
) -> Result<Key> {
    keys::for_change(tx, &key, if_match)?;
    if !matches!(key.lifecycle_state, KeyState::Enabled | KeyState::Disabled) {
        return Err(keys::incorrect(&key, "moved to another compartment"));
    }
    if key.compartment_id == compartment_id {
        return Ok(key);
    }
    key.compartment_id = compartment_id;
    key.etag = new_etag();
    keys::save(tx, &key)?;
    tx.execute(
        "UPDATE key_versions SET doc = json_set(doc, '$.compartmentId', ?1) WHERE key_id = ?2",
        params![key.compartment_id, key.id],
    )?;
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::{Keyring, RootKey};
    use crate::domain::keys::{Algorithm, KeyShape, NewKey, ProtectionMode};
    use crate::domain::vaults::{NewVault, VaultType};
    use crate::domain::{Error, Tags};
    use crate::store::Store;
    use time::OffsetDateTime;

    #[test]
    fn a_key_moves_with_its_versions_and_a_stale_copy_is_refused() {
        let store = Store::in_memory().unwrap();
        let keyring = Keyring::new(RootKey::generate());
        let now = OffsetDateTime::now_utc();
        let key = store
            .blocking_write(|tx| {
                let vault = vaults::create(
                    tx,
                    now,
                    "us-ashburn-1",
                    NewVault {
                        region: None,
                        compartment_id: "ocid1.compartment.oc1..a".into(),
                        display_name: "v".into(),
                        vault_type: VaultType::Default,
                        tags: Tags::default(),
                    },
                )?;
                keys::create(
                    tx,
                    &keyring,
                    now,
                    "us-ashburn-1",
                    &vault,
                    NewKey {
                        compartment_id: "ocid1.compartment.oc1..a".into(),
                        display_name: "k".into(),
                        key_shape: KeyShape::parse(Algorithm::Aes, 32, None)?,
                        protection_mode: ProtectionMode::Hsm,
                        tags: Tags::default(),
                        origin: keys::Origin::Internal,
                    },
                    &[7u8; 32],
                )
            })
            .unwrap();
        let stale = key.clone();
        let moved = store
            .blocking_write(|tx| move_key(tx, key, None, "ocid1.compartment.oc1..b".into()))
            .unwrap();
        assert_eq!(moved.compartment_id, "ocid1.compartment.oc1..b");
        let versions = store
            .blocking_write(|tx| keys::versions(tx, &moved.id, now))
            .unwrap();
        assert_eq!(versions.len(), 1);
        assert_eq!(versions[0].compartment_id, "ocid1.compartment.oc1..b");
        let refused =
            store.blocking_write(|tx| move_key(tx, stale, None, "ocid1.compartment.oc1..c".into()));
        assert!(
            matches!(refused, Err(Error::IncorrectState(_))),
            "{refused:?}"
        );
    }
}
