//! The resolve stage: the one place that reads a request's target from the
//! store. It turns the ids a request names ([`Named`]: path, query, body, a
//! secret's name, a vault's endpoint key) into the resources themselves
//! ([`Target`]), in one read transaction, settled at the request's time.
//! Faults, IAM and the handlers all take that `Target`.
//!
//! [`resolve_settled`] is what the pipeline calls: settling a key's
//! automatic rotation needs a write (new key versions), so a key whose
//! rotation has come gets it first, then the target is read.

use rusqlite::Connection;
use time::OffsetDateTime;

use crate::domain::target::Target;
use crate::domain::{
    backup, key_rotation, keys, replicas, secret_replication, secrets, vaults, Result,
};
use crate::iam::authz::{Resource, Targets};
use crate::operation::{Named, Operation};
use crate::state::AppState;

/// Runs key generation on the blocking pool, outside any store lock.
///
/// # Errors
/// The generator's, or an internal error when the task dies.
pub async fn generate_off_lock(
    work: impl FnOnce() -> Result<key_rotation::Materials> + Send + 'static,
) -> Result<key_rotation::Materials> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| crate::domain::Error::Internal(anyhow::anyhow!("key generation: {e}")))?
}

/// [`resolve`] at `now`, after the time-driven changes that need a write:
/// when the key the request names has an automatic rotation due by `now`
/// ([`key_rotation::is_due`]), one write applies it
/// ([`key_rotation::rotate_due`]) and the target is read again, so the
/// handler, IAM and faults all see the rotated key. Otherwise this is the
/// one read it always was.
///
/// # Errors
/// A store failure.
pub async fn resolve_settled(app: &AppState, named: &Named, now: OffsetDateTime) -> Result<Target> {
    let target = app.store.read(|tx| resolve(tx, named, now)).await?;
    let Some(key) = target.key.clone().filter(|k| key_rotation::is_due(k, now)) else {
        return Ok(target);
    };
    let key_id = key.id.clone();
    let mut materials = generate_off_lock(move || key_rotation::pregenerate(&[key], now)).await?;
    let state = app.clone();
    app.store
        .write(move |tx| {
            key_rotation::rotate_due(
                tx,
                &state.keyring,
                now,
                &state.config.region,
                &key_id,
                &mut materials,
            )
        })
        .await?;
    app.store.read(|tx| resolve(tx, named, now)).await
}

/// Loads what `named` names (see [`Target`] for each field's rule).
///
/// At a vault's management or crypto endpoint the vault is that endpoint's,
/// and a key is found only if it belongs to that vault (one vault's
/// endpoint never reaches another vault's keys); an endpoint key that names
/// no vault leaves vault and key absent, so every call there answers 404.
///
/// A vault exists only in its own region and its replica's
/// (`domain::replicas::view`), a secret only in its own region and its
/// replication targets' (`domain::secret_replication::view`): in any other
/// region they are absent, like a resource that was never created.
///
/// # Errors
/// A store failure only; what does not exist is absent, not an error.
pub fn resolve(tx: &Connection, named: &Named, now: OffsetDateTime) -> Result<Target> {
    let region = named.region.as_deref();
    let here = |v: Option<vaults::Vault>| v.filter(|v| replicas::view(v, region).is_some());
    let endpoint_vault = match &named.vault_endpoint {
        Some(key) => here(vaults::by_endpoint_key(tx, key, now)?),
        None => None,
    };
    let vault = match &named.vault_id {
        Some(id) => here(vaults::find(tx, id, now)?),
        None => endpoint_vault.clone(),
    };
    let key = match &named.key_id {
        Some(id) => keys::find(tx, id, now)?.filter(|k| match &named.vault_endpoint {
            None => true,
            Some(_) => endpoint_vault.as_ref().is_some_and(|v| v.id == k.vault_id),
        }),
        None => None,
    };
    let secret = match (&named.secret_id, &named.vault_id, &named.secret_name) {
        (Some(id), _, _) => secrets::find(tx, id, now)?,
        (None, Some(vault_id), Some(name)) => match secrets::find_by_name(tx, vault_id, name, now)?
        {
            Some(secret) => Some(secret),
            None => secrets::find_replica_by_name(tx, vault_id, name, region, now)?,
        },
        _ => None,
    };
    let (secret, secret_replica) = match secret {
        Some(s) => match s.view(region) {
            Some(secret_replication::View::Source) => (Some(s), None),
            Some(secret_replication::View::Replica(t)) => {
                let t = t.clone();
                (Some(s), Some(t))
            }
            None => (None, None),
        },
        None => (None, None),
    };
    Ok(Target {
        compartment_id: named.compartment_id.clone(),
        vault,
        key,
        secret,
        secret_replica,
        new_secret_name: named.new_secret_name.clone(),
    })
}

/// The ids a `RestoreKeyFromFile` names inside its body: the compartment
/// the key was backed up in (where it is restored, so where `KEY_RESTORE`
/// is checked), from the backup file's clear header. The restore itself
/// opens the file, whose header is authenticated, so a changed header only
/// makes the request fail later. A body that is not a backup names nothing
/// (the handler answers 400).
pub fn name_from_backup(operation: Operation, named: &mut Named, body: &[u8]) {
    if operation == Operation::RestoreKeyFromFile {
        named.compartment_id = backup::peek(body).map(|h| h.compartment_id);
    }
}

/// What IAM sees of a target: ids, compartments, names, vaults.
pub fn iam_targets(target: &Target) -> Targets {
    Targets {
        compartment_id: target.compartment_id.clone(),
        vault: target.vault.as_ref().map(|v| Resource {
            id: v.id.clone(),
            compartment_id: v.compartment_id.clone(),
            name: None,
            vault_id: None,
        }),
        key: target.key.as_ref().map(|k| Resource {
            id: k.id.clone(),
            compartment_id: k.compartment_id.clone(),
            name: None,
            vault_id: Some(k.vault_id.clone()),
        }),
        secret: target.secret.as_ref().map(|s| Resource {
            id: s.id.clone(),
            compartment_id: s.compartment_id.clone(),
            name: Some(s.secret_name.clone()),
            // At a replica region the secret is in the target vault.
            vault_id: Some(match &target.secret_replica {
                Some(replica) => replica.vault_id.clone(),
                None => s.vault_id.clone(),
            }),
        }),
        new_secret_name: target.new_secret_name.clone(),
    }
}
