//! The resources one request names, as the pipeline's resolver loaded them
//! (one read transaction, settled at the request's time). Faults, IAM and
//! the handlers all read this one value; no handler loads its target again.
//!
//! Settling is the same everywhere: a vault, key or secret whose deletion
//! time has passed is `DELETED`. A deleted vault or key is still a resource
//! (OCI's `GetVault`/`GetKey` show it as `DELETED`); a deleted secret is not
//! (`GetSecret` and every bundle read answer 404), so it is absent here.

use super::keys::Key;
use super::secret_replication::ReplicationTarget;
use super::secrets::Secret;
use super::vaults::Vault;
use super::{Error, Result};

/// What a request names, loaded. Fields are `None` when the request names
/// no such resource or the one it names does not exist.
#[derive(Debug, Clone, Default)]
pub struct Target {
    /// The compartment a list reads or a create writes to (query or body
    /// `compartmentId`), as given.
    pub compartment_id: Option<String>,
    /// The vault: by `vaultId` (path, query or body), else the vault whose
    /// management or crypto endpoint the call came in on.
    pub vault: Option<Vault>,
    /// The key: by `keyId` (path, or body for crypto and `CreateSecret`).
    /// At a vault's endpoint, only a key of that vault.
    pub key: Option<Key>,
    /// The secret: by `secretId`, or by `secretName` in `vaultId` for
    /// `GetSecretBundleByName`.
    pub secret: Option<Secret>,
    /// The replication target through which the request's region sees the
    /// secret (`None`: the secret's own region, or no secret). The secret
    /// itself is always the source as stored: a replica is a view of it.
    pub secret_replica: Option<ReplicationTarget>,
    /// `CreateSecret`'s `secretName` (the policy variable
    /// `target.secret.name` of a secret not created yet).
    pub new_secret_name: Option<String>,
}

impl Target {
    /// The vault, or `NotFound` (404 `NotAuthorizedOrNotFound`).
    pub fn vault(&self) -> Result<&Vault> {
        self.vault.as_ref().ok_or(Error::NotFound)
    }

    /// The key, or `NotFound`.
    pub fn key(&self) -> Result<&Key> {
        self.key.as_ref().ok_or(Error::NotFound)
    }

    /// The secret, or `NotFound`.
    pub fn secret(&self) -> Result<&Secret> {
        self.secret.as_ref().ok_or(Error::NotFound)
    }

    /// The compartment the request acts in: the one it names, else its
    /// resource's.
    pub fn acting_compartment(&self) -> Option<&str> {
        self.compartment_id.as_deref().or(self
            .secret
            .as_ref()
            .map(|s| s.compartment_id.as_str())
            .or(self.key.as_ref().map(|k| k.compartment_id.as_str()))
            .or(self.vault.as_ref().map(|v| v.compartment_id.as_str())))
    }
}
