//! Master encryption keys and key versions, after the KMS API's `Key`,
//! `KeyVersion` and `KeyShape` models and the key operation docstrings of the
//! `oci` Python SDK (`oci/key_management/kms_management_client.py`).
//!
//! Keys belong to the vault whose management endpoint created them; every
//! lookup here takes the vault, so one vault's endpoint never reaches another
//! vault's keys. AES, RSA and ECDSA shapes are created; a version's material
//! (AES bytes or a PKCS #8 key pair) is stored sealed under the root key,
//! and an asymmetric version carries its public key.

use rusqlite::{params, Connection, OptionalExtension, Transaction};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::paging::{self, Cursor};
use super::vaults::Vault;
use super::{check_etag, deletion_time, ensure_fresh, new_etag, Error, Result, Tags};
use crate::crypto::asymmetric::{self, Curve, Kind};
use crate::crypto::{random_bytes, KeyBytes, Keyring, B64};
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
    /// RSA, 256/384/512-byte moduli.
    Rsa,
    /// ECDSA on a NIST curve.
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

/// `KeyShape.curveId`: the NIST curve of an ECDSA key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CurveId {
    /// P-256, 32-byte keys.
    NistP256,
    /// P-384, 48-byte keys.
    NistP384,
    /// P-521, 66-byte keys.
    NistP521,
}

impl CurveId {
    /// The wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            CurveId::NistP256 => "NIST_P256",
            CurveId::NistP384 => "NIST_P384",
            CurveId::NistP521 => "NIST_P521",
        }
    }

    /// The key length this curve has in `KeyShape.length` (bytes).
    pub const fn length(self) -> u32 {
        match self {
            CurveId::NistP256 => 32,
            CurveId::NistP384 => 48,
            CurveId::NistP521 => 66,
        }
    }

    const fn curve(self) -> Curve {
        match self {
            CurveId::NistP256 => Curve::P256,
            CurveId::NistP384 => Curve::P384,
            CurveId::NistP521 => Curve::P521,
        }
    }
}

/// A validated key shape, after the SDK's `KeyShape` docstring: AES with
/// `length` 16, 24 or 32 bytes; RSA with 256, 384 or 512 bytes (2048, 3072
/// or 4096 bits); ECDSA with `curveId` and the curve's length (32, 48, 66).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyShape {
    /// `AES`, `RSA` or `ECDSA`.
    pub algorithm: Algorithm,
    /// Bytes.
    pub length: u32,
    /// The curve, for ECDSA only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub curve_id: Option<CurveId>,
}

impl KeyShape {
    /// Checks a requested shape (400 `InvalidParameter` naming what is wrong):
    /// a length the algorithm does not have, ECDSA without a curve or with
    /// a curve that does not fit the length, a curve on AES or RSA.
    pub fn parse(algorithm: Algorithm, length: u32, curve_id: Option<CurveId>) -> Result<Self> {
        let shape = Self {
            algorithm,
            length,
            curve_id,
        };
        match (algorithm, curve_id) {
            (Algorithm::Aes, None) if matches!(length, 16 | 24 | 32) => Ok(shape),
            (Algorithm::Aes, None) => Err(Error::InvalidParameter(format!(
                "keyShape.length {length} is not valid for AES; use 16, 24 or 32 (bytes)."
            ))),
            (Algorithm::Rsa, None) if matches!(length, 256 | 384 | 512) => Ok(shape),
            (Algorithm::Rsa, None) => Err(Error::InvalidParameter(format!(
                "keyShape.length {length} is not valid for RSA; use 256, 384 or 512 (bytes: 2048, 3072 or 4096 bits)."
            ))),
            (Algorithm::Aes | Algorithm::Rsa, Some(_)) => Err(Error::InvalidParameter(format!(
                "keyShape.curveId applies to ECDSA keys only, not to {}.",
                algorithm.as_str()
            ))),
            (Algorithm::Ecdsa, None) => Err(Error::InvalidParameter(
                "keyShape.curveId is required for ECDSA keys: NIST_P256, NIST_P384 or NIST_P521."
                    .into(),
            )),
            (Algorithm::Ecdsa, Some(curve)) if curve.length() == length => Ok(shape),
            (Algorithm::Ecdsa, Some(curve)) => Err(Error::InvalidParameter(format!(
                "keyShape.length {length} does not fit curveId {}; it takes length {}.",
                curve.as_str(),
                curve.length()
            ))),
        }
    }

    /// The asymmetric key pair kind, or `None` for AES.
    pub fn asymmetric(&self) -> Option<Kind> {
        match (self.algorithm, self.curve_id) {
            (Algorithm::Aes, _) => None,
            (Algorithm::Rsa, _) => Some(Kind::Rsa(self.length as usize)),
            (Algorithm::Ecdsa, Some(c)) => Some(Kind::Ecdsa(c.curve())),
            (Algorithm::Ecdsa, None) => None,
        }
    }

    /// Fresh material of this shape: random bytes for AES, a PKCS #8 key
    /// pair for RSA and ECDSA. RSA generation takes up to a second for
    /// 4096 bits, so callers make it before they open a write.
    pub fn generate(&self) -> Result<KeyBytes> {
        match self.asymmetric() {
            None => Ok(random_bytes(self.length as usize)),
            Some(kind) => Ok(asymmetric::generate(kind)?),
        }
    }

    /// Checks imported material against the shape: exactly `length` bytes
    /// for AES; a PKCS #8 private key of the modulus length or curve for RSA
    /// and ECDSA (400 `InvalidParameter` otherwise, never echoing it).
    pub fn check_material(&self, material: &[u8]) -> Result<()> {
        let fits = match self.asymmetric() {
            None => material.len() == self.length as usize,
            Some(kind) => asymmetric::check_private(kind, material).is_ok(),
        };
        if fits {
            Ok(())
        } else {
            Err(Error::InvalidParameter(format!(
                "The unwrapped key material does not fit keyShape {} {}{}: {}.",
                self.algorithm.as_str(),
                self.length,
                self.curve_id
                    .map(|c| format!(" {}", c.as_str()))
                    .unwrap_or_default(),
                match self.asymmetric() {
                    None => format!("an AES key is exactly {} bytes", self.length),
                    Some(_) => "it must be an unencrypted PKCS #8 private key of that size".into(),
                }
            )))
        }
    }

    /// The public key (PEM) of `material` of this shape; `None` for AES.
    pub fn public_key(&self, material: &[u8]) -> Result<Option<String>> {
        match self.asymmetric() {
            None => Ok(None),
            Some(kind) => Ok(Some(asymmetric::pem(&asymmetric::public_key_der(
                kind, material,
            )?))),
        }
    }
}

/// `AutoKeyRotationDetails.lastRotationStatus` values the emulator reaches
/// (`IN_PROGRESS` never shows: a rotation here completes in its write).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RotationStatus {
    /// The scheduled rotation made a new key version.
    Success,
    /// The key or vault was not usable on the scheduled day.
    Failed,
    /// Accepted in a request only, as the SDK's enum has it; never stored.
    InProgress,
}

/// A key's automatic rotation schedule, as stored (its rules are in
/// `domain::key_rotation`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AutoRotation {
    /// `isAutoRotationEnabled`.
    pub enabled: bool,
    /// `rotationIntervalInDays`, 60–365.
    pub interval_days: u16,
    /// `timeOfScheduleStart`, a UTC midnight.
    #[serde(with = "time::serde::rfc3339")]
    pub time_of_schedule_start: OffsetDateTime,
    /// `timeOfNextRotation`, a UTC midnight; `None` while disabled.
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub time_of_next_rotation: Option<OffsetDateTime>,
    /// `timeOfLastRotation`: the day of the last successful rotation.
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub time_of_last_rotation: Option<OffsetDateTime>,
    /// `lastRotationStatus` of the last scheduled rotation.
    #[serde(default)]
    pub last_rotation_status: Option<RotationStatus>,
    /// `lastRotationMessage`: what the last scheduled rotation did.
    #[serde(default)]
    pub last_rotation_message: Option<String>,
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
    /// `isAutoRotationEnabled` and `autoKeyRotationDetails`; `None` until a
    /// schedule is set (see `domain::key_rotation`).
    #[serde(default)]
    pub auto_rotation: Option<AutoRotation>,
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

/// `KeyVersion.origin`: made by the emulator, or imported.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Origin {
    /// Generated here (`CreateKey`, `CreateKeyVersion`).
    #[default]
    Internal,
    /// Imported (`ImportKey`, `ImportKeyVersion`).
    External,
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
    /// `publicKey` (PEM) of an RSA or ECDSA version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key: Option<String>,
    /// `origin`.
    #[serde(default)]
    pub origin: Origin,
    /// Tags an `ImportKeyVersion` carried (the `KeyVersion` model returns
    /// none; they are kept, not dropped).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Tags>,
    /// `isAutoRotated`: made by the key's automatic rotation.
    #[serde(default)]
    pub is_auto_rotated: bool,
    /// `restoredFromKeyVersionId`: the version a restore brought this one
    /// back from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restored_from_key_version_id: Option<String>,
}

impl KeyVersion {
    /// Applies a deletion whose time has passed (`PENDING_DELETION` →
    /// `DELETED`), as [`Key::settle`] does for keys.
    pub fn settle(mut self, now: OffsetDateTime) -> Self {
        if self.lifecycle_state == KeyState::PendingDeletion
            && self.time_of_deletion.is_some_and(|t| t <= now)
        {
            self.lifecycle_state = KeyState::Deleted;
        }
        self
    }

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
    /// `INTERNAL` for `CreateKey`, `EXTERNAL` for `ImportKey`.
    pub origin: Origin,
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

/// Adds a new key version of `key` with fresh material of its shape,
/// created at `now` (not yet the key's current version: the caller sets
/// that).
pub fn new_version(
    tx: &Transaction<'_>,
    keyring: &Keyring,
    now: OffsetDateTime,
    region: &str,
    key: &Key,
    material: &[u8],
    origin: Origin,
) -> Result<KeyVersion> {
    let id = new_ocid(OcidKind::KeyVersion, region);
    insert(tx, keyring, now, id, key, material, origin, None)
}

/// Adds key version `id` with the given material (sealed under the root
/// key before it is stored): `key.key_shape.length` bytes for AES, a PKCS #8
/// key pair of the key's shape for RSA and ECDSA.
pub fn insert_version(
    tx: &Transaction<'_>,
    keyring: &Keyring,
    now: OffsetDateTime,
    id: String,
    key: &Key,
    material: &[u8],
) -> Result<KeyVersion> {
    insert(tx, keyring, now, id, key, material, Origin::Internal, None)
}

/// [`insert_version`] with the version's `origin` and the tags an import
/// carried, written once.
#[allow(clippy::too_many_arguments)]
fn insert(
    tx: &Transaction<'_>,
    keyring: &Keyring,
    now: OffsetDateTime,
    id: String,
    key: &Key,
    material: &[u8],
    origin: Origin,
    tags: Option<Tags>,
) -> Result<KeyVersion> {
    let public_key = key.key_shape.public_key(material)?;
    let sealed = keyring.root().seal_material(&id, material)?;
    let last: Option<(i64, String)> = tx
        .prepare_cached(
            "SELECT seq, doc FROM key_versions WHERE key_id = ?1 ORDER BY seq DESC LIMIT 1",
        )?
        .query_row(params![key.id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let (seq, now) = match last {
        // `now` was taken before this write waited its turn; a version made
        // by a write that committed first is never newer than this one.
        Some((seq, doc)) => {
            let previous: KeyVersion = serde_json::from_str(&doc)?;
            (seq + 1, now.max(previous.time_created))
        }
        None => (1, now),
    };
    let version = KeyVersion {
        id,
        key_id: key.id.clone(),
        vault_id: key.vault_id.clone(),
        compartment_id: key.compartment_id.clone(),
        lifecycle_state: KeyState::Enabled,
        time_created: now,
        time_of_deletion: None,
        sealed_material: B64.encode(sealed),
        public_key,
        origin,
        tags,
        is_auto_rotated: false,
        restored_from_key_version_id: None,
    };
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

/// Rewrites an existing key version row (its lifecycle changed); its order
/// among the key's versions stays.
pub fn update_version(tx: &Transaction<'_>, version: &KeyVersion) -> Result<()> {
    tx.execute(
        "UPDATE key_versions SET doc = ?2 WHERE id = ?1",
        params![version.id, store::doc(version)?],
    )?;
    Ok(())
}

/// `CreateKey` in `vault` (which must be `ACTIVE`): a new `ENABLED` key with
/// its first key version, of `material` (from [`KeyShape::generate`]).
pub fn create(
    tx: &Transaction<'_>,
    keyring: &Keyring,
    now: OffsetDateTime,
    region: &str,
    vault: &Vault,
    new: NewKey,
    material: &[u8],
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
        auto_rotation: None,
        tags: new.tags,
        etag: new_etag(),
        restored_from_key_id: None,
    };
    save(tx, &key)?;
    key.current_key_version = new_version(tx, keyring, now, region, &key, material, new.origin)?.id;
    save(tx, &key)?;
    Ok(key)
}

/// The key `id` if it belongs to `vault_id`; 404 otherwise.
pub fn get(tx: &Connection, vault_id: &str, id: &str, now: OffsetDateTime) -> Result<Key> {
    match find(tx, id, now)? {
        Some(key) if key.vault_id == vault_id => Ok(key),
        _ => Err(Error::NotFound),
    }
}

/// The key `id` wherever it lives, settled at `now`; `None` when absent.
pub fn find(tx: &Connection, id: &str, now: OffsetDateTime) -> Result<Option<Key>> {
    Ok(store::get::<Key>(tx, &KEYS, id)?.map(|k| k.settle(now)))
}

/// Every key of a vault.
pub fn in_vault(tx: &Connection, vault_id: &str, now: OffsetDateTime) -> Result<Vec<Key>> {
    let keys: Vec<Key> = store::query_docs(
        tx,
        "SELECT doc FROM keys WHERE vault_id = ?1",
        params![vault_id],
    )?;
    Ok(keys.into_iter().map(|k| k.settle(now)).collect())
}

/// What `ListKeys` asks for: the vault whose management endpoint was
/// called, the compartment, the filters of the SDK's `list_keys`, the order
/// and the page.
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    /// The vault (keys of other vaults are never listed).
    pub vault_id: String,
    /// `compartmentId`.
    pub compartment_id: String,
    /// `algorithm`: `AES`, `RSA` or `ECDSA`.
    pub algorithm: Option<String>,
    /// `protectionMode`: `HSM`, `SOFTWARE` or `EXTERNAL`.
    pub protection_mode: Option<String>,
    /// `length`, in bytes.
    pub length: Option<u64>,
    /// `curveId`: a key without a curve never matches.
    pub curve_id: Option<String>,
    /// `sortBy=DISPLAYNAME` (else `TIMECREATED`).
    pub by_name: bool,
    /// `sortOrder=DESC`.
    pub descending: bool,
    /// Where the previous page ended (`opc-next-page`).
    pub after: Option<Cursor>,
    /// `limit` (`None`: every row).
    pub limit: Option<usize>,
}

/// The query of a `ListKeys` page, walking `keys_by_time` or
/// `keys_by_name` in the page's order. Parameters: `?1` vault, `?2`
/// compartment, `?3`–`?6` the filters, `?7`/`?8` the cursor's key and id,
/// `?9` the limit.
fn list_sql(by_name: bool, descending: bool) -> String {
    let (key, op, order) = paging::order(by_name, descending, "display_name");
    format!(
        "SELECT doc, created_ns FROM keys
         WHERE vault_id = ?1 AND compartment_id = ?2
           AND (?3 IS NULL OR json_extract(doc, '$.keyShape.algorithm') = ?3)
           AND (?4 IS NULL OR json_extract(doc, '$.protectionMode') = ?4)
           AND (?5 IS NULL OR json_extract(doc, '$.keyShape.length') = ?5)
           AND (?6 IS NULL OR json_extract(doc, '$.keyShape.curveId') = ?6)
           AND (?7 IS NULL OR ({key}, id) {op} (?7, ?8))
         ORDER BY {key} {order}, id {order} LIMIT ?9"
    )
}

/// `ListKeys`: one page of a vault's keys in a compartment, settled at
/// `now`, and the cursor after it when more rows follow. One walk of the
/// `keys_by_time` / `keys_by_name` index with a `LIMIT` (migration 0007),
/// the filters in the query: a page costs the same in a vault of ten keys
/// and of ten thousand.
///
/// # Errors
/// 400 `InvalidParameter` for a cursor of the other sort order.
pub fn list(
    tx: &Connection,
    q: &ListQuery,
    now: OffsetDateTime,
) -> Result<(Vec<Key>, Option<Cursor>)> {
    let sql = list_sql(q.by_name, q.descending);
    let (after_key, after_id) = Cursor::bounds(q.after.as_ref(), q.by_name)?;
    let limit = paging::fetch_limit(q.limit);
    let length = q.length.map(|l| i64::try_from(l).unwrap_or(i64::MAX));
    let mut stmt = tx.prepare_cached(&sql)?;
    let rows = stmt.query_map(
        params![
            q.vault_id,
            q.compartment_id,
            q.algorithm,
            q.protection_mode,
            length,
            q.curve_id,
            after_key,
            after_id,
            limit
        ],
        |row| Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?)),
    )?;
    let (page, next) =
        paging::decode_page(rows, q.limit, q.by_name, |k: &Key| (&k.display_name, &k.id))?;
    Ok((page.into_iter().map(|k| k.settle(now)).collect(), next))
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

/// `CreateKeyVersion` (rotation) and `ImportKeyVersion`: the key must be
/// `ENABLED`; the new version, of `material` (from [`KeyShape::generate`],
/// or imported and already checked against the key's shape), becomes
/// `currentKeyVersion`, with `origin` `INTERNAL` or `EXTERNAL` and the tags
/// an import carried (kept on the version; the `KeyVersion` model returns
/// none). Older versions keep decrypting and verifying.
#[allow(clippy::too_many_arguments)]
pub fn rotate(
    tx: &Transaction<'_>,
    keyring: &Keyring,
    now: OffsetDateTime,
    region: &str,
    mut key: Key,
    material: &[u8],
    origin: Origin,
    tags: Option<Tags>,
) -> Result<KeyVersion> {
    ensure_fresh(tx, &KEYS, &key.id, &key.etag)?;
    key.ensure_usable()?;
    let id = new_ocid(OcidKind::KeyVersion, region);
    let version = insert(tx, keyring, now, id, &key, material, origin, tags)?;
    key.current_key_version = version.id.clone();
    key.etag = new_etag();
    save(tx, &key)?;
    Ok(version)
}

/// `ListKeyVersions`: a key's versions, oldest first, settled at `now`.
pub fn versions(tx: &Connection, key_id: &str, now: OffsetDateTime) -> Result<Vec<KeyVersion>> {
    let versions: Vec<KeyVersion> = store::query_docs(
        tx,
        "SELECT doc FROM key_versions WHERE key_id = ?1 ORDER BY seq",
        params![key_id],
    )?;
    Ok(versions.into_iter().map(|v| v.settle(now)).collect())
}

/// One page of a key's versions settled at `now`, in creation order
/// (`descending`: newest first), after the version created `after`-th
/// (the cursor's number is the row's creation sequence), at most `limit`
/// (`None`: all), and the cursor after the page when more follow
/// (`ListKeyVersions`). A walk of `key_versions_key` with a `LIMIT`.
///
/// # Errors
/// A store failure only.
pub fn versions_page(
    tx: &Connection,
    key_id: &str,
    now: OffsetDateTime,
    descending: bool,
    after: Option<u64>,
    limit: Option<usize>,
) -> Result<(Vec<KeyVersion>, Option<Cursor>)> {
    let sql = if descending {
        "SELECT doc, seq FROM key_versions WHERE key_id = ?1 AND (?2 IS NULL OR seq < ?2)
         ORDER BY seq DESC LIMIT ?3"
    } else {
        "SELECT doc, seq FROM key_versions WHERE key_id = ?1 AND (?2 IS NULL OR seq > ?2)
         ORDER BY seq LIMIT ?3"
    };
    let after = after.map(|n| i64::try_from(n).unwrap_or(i64::MAX));
    let fetch = paging::fetch_limit(limit);
    let mut stmt = tx.prepare_cached(sql)?;
    let rows = stmt.query_map(params![key_id, after, fetch], |row| {
        Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?))
    })?;
    let mut page = Vec::new();
    for row in rows {
        let (doc, seq) = row?;
        page.push((serde_json::from_str::<KeyVersion>(&doc)?, seq));
    }
    let next = paging::cut(&mut page, limit, |(_, seq)| {
        Cursor::Version(u64::try_from(*seq).unwrap_or(0))
    });
    Ok((page.into_iter().map(|(v, _)| v.settle(now)).collect(), next))
}

/// The key version a crypto call uses: `version_id` when given (it must be
/// a version of `key`, else 400 `InvalidParameter`), else the current one.
/// The key must be `ENABLED` and the version too, settled at `now`: a
/// version `PENDING_DELETION` or `DELETED` (ScheduleKeyVersionDeletion)
/// neither encrypts nor decrypts (409 `IncorrectState`, as for a key that
/// is not `ENABLED`).
pub fn usable_version(
    tx: &Connection,
    key: &Key,
    version_id: Option<&str>,
    now: OffsetDateTime,
) -> Result<KeyVersion> {
    key.ensure_usable()?;
    let wanted = version_id.unwrap_or(&key.current_key_version);
    let version = version_at(tx, &key.id, wanted, now).map_err(|_| {
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

/// A key version by OCID if it belongs to `key_id`, as stored (a deletion
/// whose time passed is not applied; see [`version_at`]); 404 otherwise.
pub fn version(tx: &Connection, key_id: &str, version_id: &str) -> Result<KeyVersion> {
    match store::get::<KeyVersion>(tx, &KEY_VERSIONS, version_id)? {
        Some(v) if v.key_id == key_id => Ok(v),
        _ => Err(Error::NotFound),
    }
}

/// [`version`], settled at `now` (what `GetKeyVersion` answers).
pub fn version_at(
    tx: &Connection,
    key_id: &str,
    version_id: &str,
    now: OffsetDateTime,
) -> Result<KeyVersion> {
    Ok(version(tx, key_id, version_id)?.settle(now))
}

/// The key a secret's content is wrapped with (a secret's own key, or a
/// replication target's): it must be in `vault_id`, be AES, and be
/// `ENABLED`. Returns its current version.
///
/// # Errors
/// 400 `InvalidParameter` for a key of another vault or not AES; the
/// key's own refusal when it is not usable (disabled, pending deletion).
pub fn usable_for_secrets(tx: &Connection, vault_id: &str, key: &Key) -> Result<KeyVersion> {
    let key_id = &key.id;
    if key.vault_id != vault_id {
        return Err(Error::InvalidParameter(format!(
            "Key {key_id} is not in vault {vault_id}."
        )));
    }
    if key.key_shape.algorithm != Algorithm::Aes {
        return Err(Error::InvalidParameter(
            "A secret's key must be a symmetric (AES) key.".into(),
        ));
    }
    key.ensure_usable()?;
    version(tx, &key.id, &key.current_key_version)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `ListKeys` page walks an index in its order and stops at its
    /// limit: no temporary sort, so its cost does not grow with the vault.
    #[test]
    fn a_key_list_page_is_an_index_walk_without_a_sort() {
        let store = crate::store::Store::in_memory().unwrap();
        for (by_name, index) in [(false, "keys_by_time"), (true, "keys_by_name")] {
            for descending in [false, true] {
                let sql = list_sql(by_name, descending);
                let plan: Vec<String> = store
                    .blocking_write(|tx| {
                        let mut stmt = tx.prepare(&format!("EXPLAIN QUERY PLAN {sql}"))?;
                        let rows = stmt.query_map(
                            params![
                                "v",
                                "c",
                                None::<String>,
                                None::<String>,
                                None::<i64>,
                                None::<String>,
                                None::<i64>,
                                None::<String>,
                                51
                            ],
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
}
