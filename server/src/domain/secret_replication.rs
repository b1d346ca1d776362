//! Cross-region secret replication, after the Vault API's
//! `ReplicationConfig`, `ReplicationTarget` and `SourceRegionInformation`
//! models and Oracle's "Replicating Secrets"
//! (<https://docs.oracle.com/iaas/Content/secret-management/Concepts/secret-replication.htm>):
//!
//! - a secret names up to three targets, each a region of the tenancy other
//!   than its own, a vault there and an AES key in that vault;
//! - "the replica secrets and secret versions use the same OCIDs as the
//!   source": a replica is the source secret seen from a target region, not
//!   a copy, so every change to the source (new versions, promotions,
//!   deletion, compartment moves) is at once the replica's, and removing a
//!   target from the configuration removes that replica;
//! - "the replica is read-only": writes addressed to a replica region are
//!   refused, unless `isWriteForwardEnabled`, when they act on the source.
//!
//! Like vault replicas ([`super::replicas`]), regions are `None` for the
//! emulator's own `--region` and `Some(name)` for another region of the
//! tenancy, so the domain never needs the home region's name.

use rusqlite::{params, Connection};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::{keys, replicas, vaults, Error, Result};

/// The most replication targets one secret may have (OCI's default limit:
/// "By default, a maximum of 3 targets is allowed").
pub const MAX_TARGETS: usize = 3;

/// `ReplicationConfig` as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReplicationConfig {
    /// `replicationTargets`, in the order given; at most [`MAX_TARGETS`],
    /// one per region.
    pub targets: Vec<ReplicationTarget>,
    /// `isWriteForwardEnabled`: writes at a replica act on the source.
    #[serde(default)]
    pub is_write_forward_enabled: bool,
}

/// `ReplicationTarget` as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReplicationTarget {
    /// `targetRegion` (`None`: the emulator's own region).
    pub region: Option<String>,
    /// `targetVaultId`: a vault whose primary region is `region`.
    pub vault_id: String,
    /// `targetKeyId`: an AES key of that vault.
    pub key_id: String,
}

/// How a region sees a secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View<'a> {
    /// The secret's own region (its vault's).
    Source,
    /// The region of one of its replication targets.
    Replica(&'a ReplicationTarget),
}

/// How `region` (`None`: the emulator's own) sees a secret whose own region
/// is `own_region` and whose configuration is `replication`: its own
/// region, a replica's, or neither (`None`: the secret does not exist
/// there). `Secret::view` is the same for a loaded secret.
pub fn view<'a>(
    own_region: Option<&str>,
    replication: Option<&'a ReplicationConfig>,
    region: Option<&str>,
) -> Option<View<'a>> {
    if own_region == region {
        return Some(View::Source);
    }
    replication?
        .targets
        .iter()
        .find(|t| t.region.as_deref() == region)
        .map(View::Replica)
}

/// Checks a configuration for `secret_name` in a secret whose own region is
/// `source_region` (`secret_id`: the secret itself when it exists, whose
/// own name never conflicts with itself). An empty target list means no
/// replication (`None`).
///
/// # Errors
/// 400 `InvalidParameter`: more than [`MAX_TARGETS`] targets, a target in
/// the secret's own region or two in one region, a target vault not in its
/// region or not `ACTIVE`, a target key not in the target vault, not AES or
/// not `ENABLED`, or a name the target vault already holds (a secret's or
/// another replica's). 400 `RelatedResourceNotAuthorizedOrNotFound` for a
/// target vault or key that does not exist.
pub fn validate(
    tx: &Connection,
    now: OffsetDateTime,
    source_region: Option<&str>,
    secret_name: &str,
    secret_id: Option<&str>,
    config: ReplicationConfig,
) -> Result<Option<ReplicationConfig>> {
    if config.targets.is_empty() {
        return Ok(None);
    }
    if config.targets.len() > MAX_TARGETS {
        return Err(Error::InvalidParameter(format!(
            "replicationConfig.replicationTargets may name at most {MAX_TARGETS} targets."
        )));
    }
    for (i, target) in config.targets.iter().enumerate() {
        if target.region.as_deref() == source_region {
            return Err(Error::InvalidParameter(format!(
                "replicationConfig.replicationTargets[{i}].targetRegion is the secret's own region; a replica must be in another region."
            )));
        }
        if config.targets[..i]
            .iter()
            .any(|t| t.region == target.region)
        {
            return Err(Error::InvalidParameter(format!(
                "replicationConfig.replicationTargets[{i}].targetRegion repeats a region; a secret has at most one replica per region."
            )));
        }
        let vault = vaults::find(tx, &target.vault_id, now)?
            .filter(|v| {
                replicas::view(v, target.region.as_deref()) == Some(replicas::View::Primary)
            })
            .ok_or_else(|| {
                Error::RelatedNotFound(format!(
                    "Vault {} was not found in the target region or is not authorized.",
                    target.vault_id
                ))
            })?;
        vault.ensure_active()?;
        let key = keys::find(tx, &target.key_id, now)?.ok_or_else(|| {
            Error::RelatedNotFound(format!(
                "Key {} was not found or is not authorized.",
                target.key_id
            ))
        })?;
        keys::usable_for_secrets(tx, &vault.id, &key)?;
        if name_taken(tx, &vault.id, secret_name, secret_id)? {
            return Err(Error::InvalidParameter(format!(
                "A secret named {secret_name} already exists in target vault {}; secret names are unique per vault.",
                vault.id
            )));
        }
    }
    Ok(Some(config))
}

/// Whether `vault_id` already holds a secret named `name` as a source (in
/// any lifecycle state: a deleted secret keeps its name) or as a replica;
/// `except` is the asking secret itself.
pub fn name_taken(
    tx: &Connection,
    vault_id: &str,
    name: &str,
    except: Option<&str>,
) -> Result<bool> {
    Ok(tx
        .prepare_cached(
            "SELECT 1 FROM secrets WHERE vault_id = ?1 AND name = ?2 AND id IS NOT ?3
             UNION ALL
             SELECT 1 FROM secret_replicas r CROSS JOIN secrets s ON s.id = r.secret_id
             WHERE r.vault_id = ?1 AND s.name = ?2 AND s.id IS NOT ?3",
        )?
        .exists(params![vault_id, name, except])?)
}

/// The OCID of the secret named `name` that target vault `vault_id` holds
/// as a replica in `region` (`None`: the emulator's own), if any
/// (`GetSecretBundleByName` at a replica region).
pub fn replica_named(
    tx: &Connection,
    vault_id: &str,
    name: &str,
    region: Option<&str>,
) -> Result<Option<String>> {
    use rusqlite::OptionalExtension as _;
    Ok(tx
        .prepare_cached(
            "SELECT s.id FROM secret_replicas r CROSS JOIN secrets s ON s.id = r.secret_id
             WHERE r.vault_id = ?1 AND r.region = ?2 AND s.name = ?3",
        )?
        .query_row(params![vault_id, region.unwrap_or(""), name], |r| r.get(0))
        .optional()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(region: Option<&str>) -> ReplicationTarget {
        ReplicationTarget {
            region: region.map(str::to_owned),
            vault_id: "ocid1.vault.oc1.phx.t".into(),
            key_id: "ocid1.key.oc1.phx.t".into(),
        }
    }

    #[test]
    fn a_secret_is_seen_in_its_own_region_and_its_targets_only() {
        assert_eq!(view(None, None, None), Some(View::Source));
        assert_eq!(view(None, None, Some("us-phoenix-1")), None);
        let config = ReplicationConfig {
            targets: vec![target(Some("us-phoenix-1"))],
            is_write_forward_enabled: false,
        };
        let seen = view(None, Some(&config), Some("us-phoenix-1"));
        assert!(matches!(seen, Some(View::Replica(t)) if t.vault_id.ends_with(".t")));
        assert_eq!(view(None, Some(&config), Some("eu-frankfurt-1")), None);
        assert_eq!(view(None, Some(&config), None), Some(View::Source));
        // A secret of another region, replicated to the emulator's own.
        let home = ReplicationConfig {
            targets: vec![target(None)],
            is_write_forward_enabled: true,
        };
        assert!(matches!(
            view(Some("us-phoenix-1"), Some(&home), None),
            Some(View::Replica(_))
        ));
    }
}
