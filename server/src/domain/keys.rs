//! Master encryption keys and key versions, after the KMS API's `Key`,
//! `KeyVersion` and `KeyShape` models and the key operation docstrings of the
//! `oci` Python SDK (`oci/key_management/kms_management_client.py`).
//!
//! Keys belong to the vault whose management endpoint created them; every
//! lookup here takes the vault, so one vault's endpoint never reaches another
//! vault's keys. This emulator creates AES keys (16, 24 or 32 bytes);
//! RSA and ECDSA shapes are refused with a message saying so.

use rusqlite::{params, Transaction};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::vaults::Vault;
use super::{check_etag, deletion_time, ensure_fresh, new_etag, Error, Result, Tags};
use crate::crypto::{random_bytes, Keyring, B64};
use crate::ocid::{new_ocid, OcidKind};
use crate::store::{self, KEYS, KEY_VERSIONS};
use base64::Engine as _;

/// `Key.lifecycleState` / `KeyVersion.lifecycleState` values the emulator reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum KeyState {
    /// Usable.
    Enabled,
    /// Refuses crypto until enabled again.
    Disabled,
    /// Scheduled for deletion; refuses crypto.
    PendingDeletion,
    /// Deleted.
    Deleted,
}

impl KeyState {
    /// The wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            KeyState::Enabled => "ENABLED",
            KeyState::Disabled => "DISABLED",
            KeyState::PendingDeletion => "PENDING_DELETION",
            KeyState::Deleted => "DELETED",
        }
    }
}

/// `KeyShape.algorithm`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Algorithm {
    /// AES, 16/24/32-byte keys.
    Aes,
    /// RSA (not emulated yet).
    Rsa,
    /// ECDSA (not emulated yet).
    Ecdsa,
}

impl Algorithm {
    /// The wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Algorithm::Aes => "AES",
            Algorithm::Rsa => "RSA",
            Algorithm::Ecdsa => "ECDSA",
        }
    }
}

/// `protectionMode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ProtectionMode {
    /// Material in the (emulated) HSM. OCI's default.
    Hsm,
    /// Material in software, wrapped by an HSM key.
    Software,
    /// Material in an external key manager (not emulated).
    External,
}

impl ProtectionMode {
    /// The wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            ProtectionMode::Hsm => "HSM",
            ProtectionMode::Software => "SOFTWARE",
            ProtectionMode::External => "EXTERNAL",
        }
    }
}

/// A validated AES key shape: `length` in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyShape {
    /// Always AES for now.
    pub algorithm: Algorithm,
    /// Bytes: 16, 24 or 32.
    pub length: u32,
}

impl KeyShape {
    /// Checks a requested shape: AES 16/24/32 bytes; RSA and ECDSA are valid
    /// OCI shapes this emulator does not create yet (400 saying so).
    pub fn parse(algorithm: Algorithm, length: u32) -> Result<Self> {
        match algorithm {
            Algorithm::Aes if matches!(length, 16 | 24 | 32) => Ok(Self { algorithm, length }),
            Algorithm::Aes => Err(Error::InvalidParameter(format!(
                "keyShape.length {length} is not valid for AES; use 16, 24 or 32 (bytes)."
            ))),
            Algorithm::Rsa | Algorithm::Ecdsa => Err(Error::InvalidParameter(format!(
                "keyShape algorithm {} is not emulated yet; the emulator supports AES keys (length 16, 24 or 32).",
                algorithm.as_str()
            ))),
        }
    }
}

/// A master encryption key as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Key {
    /// `ocid1.key.oc1.<region>.…`
    pub id: String,
    /// The vault it belongs to.
    pub vault_id: String,
    /// Its compartment.
    pub compartment_id: String,
    /// `displayName`.
    pub display_name: String,
    /// `keyShape`.
    pub key_shape: KeyShape,
    /// `protectionMode`.
    pub protection_mode: ProtectionMode,
    /// Lifecycle state as stored; read through [`Key::settle`].
    pub lifecycle_state: KeyState,
    /// `currentKeyVersion`: the version new encryptions use.
    pub current_key_version: String,
    /// `timeCreated`.
    #[serde(with = "time::serde::rfc3339")]
    pub time_created: OffsetDateTime,
    /// `timeOfDeletion` while pending deletion.
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub time_of_deletion: Option<OffsetDateTime>,
    /// The state to return to when a deletion is cancelled.
    #[serde(default)]
    pub state_before_deletion: Option<KeyState>,
    /// Whether the pending deletion came from the vault's (cancelled with it).
    #[serde(default)]
    pub scheduled_with_vault: bool,
    /// Tags.
    pub tags: Tags,
    /// The current etag.
    pub etag: String,
    /// `restoredFromKeyId`: the key a restore brought this one back from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restored_from_key_id: Option<String>,
}

impl Key {
    /// Applies a deletion whose time has passed.
    pub fn settle(mut self, now: OffsetDateTime) -> Self {
        if self.lifecycle_state == KeyState::PendingDeletion
            && self.time_of_deletion.is_some_and(|t| t <= now)
        {
            self.lifecycle_state = KeyState::Deleted;
        }
        self
    }

    /// Refuses crypto with a key that is not `ENABLED` (409 `IncorrectState`,
    /// the code OCI uses for lifecycle conflicts).
    pub fn ensure_usable(&self) -> Result<()> {
        if self.lifecycle_state != KeyState::Enabled {
            return Err(Error::IncorrectState(format!(
                "Key {} is in lifecycle state {}; only an ENABLED key can be used.",
                self.id,
                self.lifecycle_state.as_str()
            )));
        }
        Ok(())
    }
}

/// A key version as stored, with its sealed material.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyVersion {
    /// `ocid1.keyversion.oc1.<region>.…`
    pub id: String,
    /// The key it belongs to.
    pub key_id: String,
    /// The vault.
    pub vault_id: String,
    /// The key's compartment.
    pub compartment_id: String,
    /// Lifecycle state.
    pub lifecycle_state: KeyState,
    /// `timeCreated`.
    #[serde(with = "time::serde::rfc3339")]
    pub time_created: OffsetDateTime,
    /// `timeOfDeletion`.
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub time_of_deletion: Option<OffsetDateTime>,
    /// The material, sealed under the root key (base64); never leaves the
    /// emulator.
    pub sealed_material: String,
    /// `restoredFromKeyVersionId`: the version a restore brought this one
    /// back from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restored_from_key_version_id: Option<String>,
}

impl KeyVersion {
    /// The version's etag: derived from its state (OCI sends one on
    /// `GetKeyVersion` and `CreateKeyVersion`; it changes when the version
    /// does, here when its lifecycle state or deletion time changes).
    pub fn etag(&self) -> String {
        let deletion = self
            .time_of_deletion
            .map(|t| t.unix_timestamp_nanos().to_string())
            .unwrap_or_default();
        crate::crypto::digest_token(&[
            self.id.as_bytes(),
            self.lifecycle_state.as_str().as_bytes(),
            deletion.as_bytes(),
        ])
    }

    /// The sealed material's bytes.
    pub fn sealed(&self) -> std::result::Result<Vec<u8>, crate::crypto::Error> {
        B64.decode(&self.sealed_material)
            .map_err(|e| crate::crypto::Error::Internal(anyhow::anyhow!("sealed material: {e}")))
    }
}

/// What `CreateKey` needs (validated from `CreateKeyDetails`).
#[derive(Debug)]
pub struct NewKey {
    /// `compartmentId`.
    pub compartment_id: String,
    /// `displayName`.
    pub display_name: String,
    /// `keyShape`.
    pub key_shape: KeyShape,
    /// `protectionMode` (default HSM).
    pub protection_mode: ProtectionMode,
    /// Tags.
    pub tags: Tags,
}

/// Writes a key row.
pub fn save(tx: &Transaction<'_>, key: &Key) -> Result<()> {
    tx.execute(
        "INSERT INTO keys (id, vault_id, compartment_id, doc) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (id) DO UPDATE SET compartment_id = ?3, doc = ?4",
        params![key.id, key.vault_id, key.compartment_id, store::doc(key)?],
    )?;
    Ok(())
}

fn new_version(
    tx: &Transaction<'_>,
    keyring: &Keyring,
    now: OffsetDateTime,
    region: &str,
    key: &Key,
) -> Result<KeyVersion> {
    let material = random_bytes(key.key_shape.length as usize);
    let id = new_ocid(OcidKind::KeyVersion, region);
    insert_version(tx, keyring, now, id, key, &material)
}

/// Adds key version `id` with the given material (sealed under the root
/// key before it is stored). `material` must be `key.key_shape.length` bytes.
pub fn insert_version(
    tx: &Transaction<'_>,
    keyring: &Keyring,
    now: OffsetDateTime,
    id: String,
    key: &Key,
    material: &[u8],
) -> Result<KeyVersion> {
    let sealed = keyring.root().seal_material(&id, material)?;
    let version = KeyVersion {
        id,
        key_id: key.id.clone(),
        vault_id: key.vault_id.clone(),
        compartment_id: key.compartment_id.clone(),
        lifecycle_state: KeyState::Enabled,
        time_created: now,
        time_of_deletion: None,
        sealed_material: B64.encode(sealed),
        restored_from_key_version_id: None,
    };
    let seq: i64 = tx.query_row(
        "SELECT coalesce(max(seq), 0) + 1 FROM key_versions WHERE key_id = ?1",
        params![key.id],
        |r| r.get(0),
    )?;
    tx.execute(
        "INSERT INTO key_versions (id, key_id, seq, doc) VALUES (?1, ?2, ?3, ?4)",
        params![version.id, version.key_id, seq, store::doc(&version)?],
    )?;
    Ok(version)
}

/// Writes a key version row with its ordering number `seq` (snapshot import).
pub fn save_version(tx: &Transaction<'_>, version: &KeyVersion, seq: i64) -> Result<()> {
    tx.execute(
        "INSERT INTO key_versions (id, key_id, seq, doc) VALUES (?1, ?2, ?3, ?4)",
        params![version.id, version.key_id, seq, store::doc(version)?],
    )?;
    Ok(())
}

/// `CreateKey` in `vault` (which must be `ACTIVE`): a new `ENABLED` key with
/// its first key version.
pub fn create(
    tx: &Transaction<'_>,
    keyring: &Keyring,
    now: OffsetDateTime,
    region: &str,
    vault: &Vault,
    new: NewKey,
) -> Result<Key> {
    ensure_fresh(tx, &store::VAULTS, &vault.id, &vault.etag)?;
    vault.ensure_active()?;
    if new.protection_mode == ProtectionMode::External {
        return Err(Error::InvalidParameter(
            "protectionMode EXTERNAL needs an external key manager, which the emulator does not emulate yet.".into(),
        ));
    }
    let mut key = Key {
        id: new_ocid(OcidKind::Key, region),
        vault_id: vault.id.clone(),
        compartment_id: new.compartment_id,
        display_name: new.display_name,
        key_shape: new.key_shape,
        protection_mode: new.protection_mode,
        lifecycle_state: KeyState::Enabled,
        current_key_version: String::new(),
        time_created: now,
        time_of_deletion: None,
        state_before_deletion: None,
        scheduled_with_vault: false,
        tags: new.tags,
        etag: new_etag(),
        restored_from_key_id: None,
    };
    save(tx, &key)?;
    key.current_key_version = new_version(tx, keyring, now, region, &key)?.id;
    save(tx, &key)?;
    Ok(key)
}

/// The key `id` if it belongs to `vault_id`; 404 otherwise.
pub fn get(tx: &Transaction<'_>, vault_id: &str, id: &str, now: OffsetDateTime) -> Result<Key> {
    match find(tx, id, now)? {
        Some(key) if key.vault_id == vault_id => Ok(key),
        _ => Err(Error::NotFound),
    }
}

/// The key `id` wherever it lives, settled at `now`; `None` when absent.
pub fn find(tx: &Transaction<'_>, id: &str, now: OffsetDateTime) -> Result<Option<Key>> {
    Ok(store::get::<Key>(tx, &KEYS, id)?.map(|k| k.settle(now)))
}

/// Every key of a vault.
pub fn in_vault(tx: &Transaction<'_>, vault_id: &str, now: OffsetDateTime) -> Result<Vec<Key>> {
    let keys: Vec<Key> = store::query_docs(
        tx,
        "SELECT doc FROM keys WHERE vault_id = ?1",
        params![vault_id],
    )?;
    Ok(keys.into_iter().map(|k| k.settle(now)).collect())
}

/// `ListKeys`: the keys of one vault in one compartment.
pub fn list(
    tx: &Transaction<'_>,
    vault_id: &str,
    compartment_id: &str,
    now: OffsetDateTime,
) -> Result<Vec<Key>> {
    let keys: Vec<Key> = store::query_docs(
        tx,
        "SELECT doc FROM keys WHERE vault_id = ?1 AND compartment_id = ?2",
        params![vault_id, compartment_id],
    )?;
    Ok(keys.into_iter().map(|k| k.settle(now)).collect())
}

/// Checks that a resolved key may be changed: the row is as it was read,
/// and `if-match` (when given) matches its etag.
pub(super) fn for_change(tx: &Transaction<'_>, key: &Key, if_match: Option<&str>) -> Result<()> {
    ensure_fresh(tx, &KEYS, &key.id, &key.etag)?;
    check_etag(if_match, &key.etag)
}

pub(super) fn incorrect(key: &Key, action: &str) -> Error {
    Error::IncorrectState(format!(
        "Key {} is in lifecycle state {}; it cannot be {action}.",
        key.id,
        key.lifecycle_state.as_str()
    ))
}

/// `UpdateKey`: display name and tags; the key must be `ENABLED` or `DISABLED`.
pub fn update(
    tx: &Transaction<'_>,
    mut key: Key,
    if_match: Option<&str>,
    display_name: Option<String>,
    tags: Option<Tags>,
) -> Result<Key> {
    for_change(tx, &key, if_match)?;
    if !matches!(key.lifecycle_state, KeyState::Enabled | KeyState::Disabled) {
        return Err(incorrect(&key, "updated"));
    }
    if let Some(name) = display_name {
        key.display_name = name;
    }
    if let Some(tags) = tags {
        key.tags = tags;
    }
    key.etag = new_etag();
    save(tx, &key)?;
    Ok(key)
}

/// `EnableKey` / `DisableKey`: `ENABLED` ⇄ `DISABLED` (a no-op when already
/// there); a key pending deletion refuses both.
pub fn set_enabled(
    tx: &Transaction<'_>,
    mut key: Key,
    if_match: Option<&str>,
    enabled: bool,
) -> Result<Key> {
    for_change(tx, &key, if_match)?;
    if !matches!(key.lifecycle_state, KeyState::Enabled | KeyState::Disabled) {
        return Err(incorrect(
            &key,
            if enabled { "enabled" } else { "disabled" },
        ));
    }
    let target = if enabled {
        KeyState::Enabled
    } else {
        KeyState::Disabled
    };
    if key.lifecycle_state != target {
        key.lifecycle_state = target;
        key.etag = new_etag();
        save(tx, &key)?;
    }
    Ok(key)
}

/// `ScheduleKeyDeletion`: 7–30 days out (default 30).
pub fn schedule_deletion(
    tx: &Transaction<'_>,
    now: OffsetDateTime,
    mut key: Key,
    if_match: Option<&str>,
    requested: Option<OffsetDateTime>,
) -> Result<Key> {
    for_change(tx, &key, if_match)?;
    if !matches!(key.lifecycle_state, KeyState::Enabled | KeyState::Disabled) {
        return Err(incorrect(&key, "scheduled for deletion"));
    }
    let at = deletion_time(requested, now, 7, 30, 30)?;
    key.state_before_deletion = Some(key.lifecycle_state);
    key.lifecycle_state = KeyState::PendingDeletion;
    key.time_of_deletion = Some(at);
    key.scheduled_with_vault = false;
    key.etag = new_etag();
    save(tx, &key)?;
    Ok(key)
}

/// `CancelKeyDeletion`: back to the state before the deletion was scheduled.
pub fn cancel_deletion(
    tx: &Transaction<'_>,
    vault: &Vault,
    mut key: Key,
    if_match: Option<&str>,
) -> Result<Key> {
    for_change(tx, &key, if_match)?;
    if key.lifecycle_state != KeyState::PendingDeletion {
        return Err(incorrect(&key, "taken out of deletion"));
    }
    if key.scheduled_with_vault {
        vault.ensure_active()?;
    }
    key.lifecycle_state = key
        .state_before_deletion
        .take()
        .unwrap_or(KeyState::Enabled);
    key.time_of_deletion = None;
    key.scheduled_with_vault = false;
    key.etag = new_etag();
    save(tx, &key)?;
    Ok(key)
}

/// `CreateKeyVersion` (rotation): the key must be `ENABLED`; the new version
/// becomes `currentKeyVersion`. Older versions keep decrypting.
pub fn rotate(
    tx: &Transaction<'_>,
    keyring: &Keyring,
    now: OffsetDateTime,
    region: &str,
    mut key: Key,
) -> Result<KeyVersion> {
    ensure_fresh(tx, &KEYS, &key.id, &key.etag)?;
    key.ensure_usable()?;
    let version = new_version(tx, keyring, now, region, &key)?;
    key.current_key_version = version.id.clone();
    key.etag = new_etag();
    save(tx, &key)?;
    Ok(version)
}

/// `ListKeyVersions`: a key's versions, oldest first.
pub fn versions(tx: &Transaction<'_>, key_id: &str) -> Result<Vec<KeyVersion>> {
    Ok(store::query_docs(
        tx,
        "SELECT doc FROM key_versions WHERE key_id = ?1 ORDER BY seq",
        params![key_id],
    )?)
}

/// The key version a crypto call uses: `version_id` when given (it must be
/// a version of `key`, else 400 `InvalidParameter`), else the current one.
/// The key must be `ENABLED` and the version too (409 `IncorrectState`).
pub fn usable_version(
    tx: &Transaction<'_>,
    key: &Key,
    version_id: Option<&str>,
) -> Result<KeyVersion> {
    key.ensure_usable()?;
    let wanted = version_id.unwrap_or(&key.current_key_version);
    let version = version(tx, &key.id, wanted).map_err(|_| {
        Error::InvalidParameter(format!(
            "keyVersionId {wanted} is not a version of key {}.",
            key.id
        ))
    })?;
    if version.lifecycle_state != KeyState::Enabled {
        return Err(Error::IncorrectState(format!(
            "Key version {} is in lifecycle state {}.",
            version.id,
            version.lifecycle_state.as_str()
        )));
    }
    Ok(version)
}

/// A key version by OCID if it belongs to `key_id`; 404 otherwise.
pub fn version(tx: &Transaction<'_>, key_id: &str, version_id: &str) -> Result<KeyVersion> {
    match store::get::<KeyVersion>(tx, &KEY_VERSIONS, version_id)? {
        Some(v) if v.key_id == key_id => Ok(v),
        _ => Err(Error::NotFound),
    }
}
