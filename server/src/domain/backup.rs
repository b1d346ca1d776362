//! Backing up and restoring vaults and keys, after the `BackupVault`,
//! `BackupKey`, `RestoreVaultFromFile` and `RestoreKeyFromFile` docstrings of
//! the `oci` Python SDK (`oci/key_management/kms_vault_client.py`,
//! `kms_management_client.py`) and Oracle's "Backing Up and Restoring Vaults
//! and Keys":
//!
//! - only a `VIRTUAL_PRIVATE` vault can be backed up, and only an
//!   HSM-protected key of one; a key backup holds all its key versions and
//!   the metadata of its vault; a vault backup holds the vault and, with
//!   `isIncludeKeys`, its HSM keys and their versions;
//! - restoring in the region of the backup keeps the OCIDs (of the vault,
//!   its keys and key versions); in another region they are new, and
//!   `restoredFrom…Id` names the originals either way;
//! - restoring what exists already is 409; restoring a key needs its vault
//!   (the one it was backed up from, or one restored from it) at the
//!   management endpoint the call uses, else 404.
//!
//! # The backup file
//!
//! Base64 text (the CLI reads a key backup in text mode, so the file must
//! be text) of `b"OEBK" | 0x01 | header length (u16, big endian) | header |
//! sealed`, where the header is JSON naming what the file holds (kind,
//! OCIDs, compartment, region: nothing secret, so IAM can authorise a
//! restore without opening the file) and `sealed` is AES-256-GCM under the
//! emulator's root key of the resources' documents, with everything before
//! it as associated data. Key material inside stays sealed under the root
//! key as it is at rest. A file changed anywhere, or made under another
//! root key, does not open: 400 `InvalidParameter`.

use base64::Engine as _;
use rusqlite::{params, Connection, OptionalExtension, Transaction};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::keys::{self, Key, KeyState, KeyVersion, ProtectionMode};
use super::vaults::{self, Vault, VaultState, VaultType};
use super::{new_etag, Error, Result};
use crate::crypto::{Keyring, B64};
use crate::ocid::{new_ocid, random_base32, OcidKind};
use crate::store::{self, KEYS, VAULTS};

const MAGIC: &[u8; 4] = b"OEBK";
const FORMAT: u8 = 1;

/// What a backup file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Kind {
    /// A vault (and, with `isIncludeKeys`, its keys).
    Vault,
    /// One key with its versions and its vault's metadata.
    Key,
}

impl Kind {
    /// `VAULT` or `KEY`, as stored and shown by `/_emulator/backups`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Kind::Vault => "VAULT",
            Kind::Key => "KEY",
        }
    }
}

/// The clear header of a backup file: what it holds and where it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Header {
    /// Vault or key.
    pub kind: Kind,
    /// The OCID of the vault or key backed up.
    pub resource_id: String,
    /// The vault (the key's, for a key backup).
    pub vault_id: String,
    /// The compartment of the resource backed up.
    pub compartment_id: String,
    /// The region it was backed up in (`us-ashburn-1`).
    pub region: String,
}

/// The sealed part: documents as stored (key material still sealed under
/// the root key). Never `Debug`: it is only ever held to be written.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Contents {
    vault: Vault,
    keys: Vec<KeyContents>,
}

/// A key and its versions, oldest first.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct KeyContents {
    key: Key,
    versions: Vec<KeyVersion>,
}

fn not_a_backup() -> Error {
    Error::InvalidParameter(
        "The backup file cannot be restored: it is not a backup made by this emulator, it was changed, or it was made under another root key.".into(),
    )
}

/// Splits the decoded file into (header bytes, header, sealed part).
fn parse(bytes: &[u8]) -> Option<(&[u8], Header, &[u8])> {
    let rest = bytes.strip_prefix(MAGIC.as_slice())?;
    let (&[format, hi, lo], rest) = rest.split_first_chunk::<3>()?;
    if format != FORMAT {
        return None;
    }
    let len = usize::from(u16::from_be_bytes([hi, lo]));
    if rest.len() < len {
        return None;
    }
    let (header, sealed) = rest.split_at(len);
    let parsed = serde_json::from_slice(header).ok()?;
    Some((&bytes[..MAGIC.len() + 3 + len], parsed, sealed))
}

fn decode(file: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(file).ok()?;
    B64.decode(text.trim()).ok()
}

/// The clear header of a backup file, without opening it (`None` for
/// anything that is not one). Only what the header says: the pipeline
/// reads it to know which compartment a key restore writes to; the restore
/// itself opens the file, so a changed header fails there.
pub fn peek(file: &[u8]) -> Option<Header> {
    let bytes = decode(file)?;
    parse(&bytes).map(|(_, header, _)| header)
}

fn seal(keyring: &Keyring, header: &Header, contents: &Contents) -> Result<String> {
    let header_json = serde_json::to_vec(header)?;
    let len = u16::try_from(header_json.len())
        .map_err(|_| Error::Internal(anyhow::anyhow!("backup header too long")))?;
    let mut out = Vec::with_capacity(256);
    out.extend_from_slice(MAGIC);
    out.push(FORMAT);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&header_json);
    let plaintext = zeroize::Zeroizing::new(serde_json::to_vec(contents)?);
    let sealed = keyring.root().seal_backup(&out, &plaintext)?;
    out.extend_from_slice(&sealed);
    Ok(B64.encode(out))
}

fn open(keyring: &Keyring, file: &[u8]) -> Result<(Header, Contents)> {
    let bytes = decode(file).ok_or_else(not_a_backup)?;
    let (aad, header, sealed) = parse(&bytes).ok_or_else(not_a_backup)?;
    let plaintext = keyring
        .root()
        .open_backup(aad, sealed)
        .map_err(|_| not_a_backup())?;
    let contents: Contents = serde_json::from_slice(&plaintext).map_err(|_| not_a_backup())?;
    Ok((header, contents))
}

/// A key and its versions as they go into a backup: the key `ENABLED` or
/// `DISABLED`, its versions not deleted.
fn key_contents(tx: &Connection, key: &Key, now: OffsetDateTime) -> Result<KeyContents> {
    let versions = keys::versions(tx, &key.id, now)?
        .into_iter()
        .filter(|v| v.lifecycle_state != KeyState::Deleted)
        .collect();
    Ok(KeyContents {
        key: key.clone(),
        versions,
    })
}

fn backupable_vault(vault: &Vault) -> Result<()> {
    if vault.vault_type != VaultType::VirtualPrivate {
        return Err(Error::InvalidParameter(format!(
            "Vault {} is not a VIRTUAL_PRIVATE vault; only virtual private vaults and their keys can be backed up.",
            vault.id
        )));
    }
    vault.ensure_active()
}

/// The vault as it goes into a backup: what the restore brings back, so
/// without its replica (a restored vault has none).
fn vault_contents(vault: &Vault) -> Vault {
    let mut vault = vault.clone();
    vault.replica = None;
    vault
}

/// `BackupVault`: the backup file of `vault` (a `VIRTUAL_PRIVATE` vault,
/// `ACTIVE`; 400 / 409 `IncorrectState` otherwise) in `region`, with its
/// HSM keys that are `ENABLED` or `DISABLED` when `include_keys`.
pub fn backup_vault(
    tx: &Transaction<'_>,
    keyring: &Keyring,
    now: OffsetDateTime,
    vault: &Vault,
    if_match: Option<&str>,
    region: &str,
    include_keys: bool,
) -> Result<String> {
    vaults::for_change(tx, vault, if_match)?;
    backupable_vault(vault)?;
    let mut contents = Contents {
        vault: vault_contents(vault),
        keys: Vec::new(),
    };
    if include_keys {
        for key in keys::in_vault(tx, &vault.id, now)? {
            if key.protection_mode == ProtectionMode::Hsm
                && matches!(key.lifecycle_state, KeyState::Enabled | KeyState::Disabled)
            {
                contents.keys.push(key_contents(tx, &key, now)?);
            }
        }
    }
    let header = Header {
        kind: Kind::Vault,
        resource_id: vault.id.clone(),
        vault_id: vault.id.clone(),
        compartment_id: vault.compartment_id.clone(),
        region: region.to_owned(),
    };
    seal(keyring, &header, &contents)
}

/// `BackupKey`: the backup file of `key` (HSM-protected, `ENABLED` or
/// `DISABLED`, in `vault`, a `VIRTUAL_PRIVATE` vault) in `region`: the key,
/// all its versions and the vault's metadata.
pub fn backup_key(
    tx: &Transaction<'_>,
    keyring: &Keyring,
    now: OffsetDateTime,
    vault: &Vault,
    key: &Key,
    if_match: Option<&str>,
    region: &str,
) -> Result<String> {
    keys::for_change(tx, key, if_match)?;
    backupable_vault(vault)?;
    if key.protection_mode != ProtectionMode::Hsm {
        return Err(Error::InvalidParameter(format!(
            "Key {} is protected by {}; only HSM-protected keys can be backed up.",
            key.id,
            key.protection_mode.as_str()
        )));
    }
    if !matches!(key.lifecycle_state, KeyState::Enabled | KeyState::Disabled) {
        return Err(keys::incorrect(key, "backed up"));
    }
    let contents = Contents {
        vault: vault_contents(vault),
        keys: vec![key_contents(tx, key, now)?],
    };
    let header = Header {
        kind: Kind::Key,
        resource_id: key.id.clone(),
        vault_id: vault.id.clone(),
        compartment_id: key.compartment_id.clone(),
        region: region.to_owned(),
    };
    seal(keyring, &header, &contents)
}

/// A stored backup's metadata (`GET /_emulator/backups`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Stored {
    /// The `opc-work-request-id` of the backup call.
    pub work_request_id: String,
    /// `VAULT` or `KEY`.
    pub kind: String,
    /// The vault or key backed up.
    pub resource_id: String,
    /// When, RFC 3339.
    pub time_created: String,
    /// The backup file (base64 text, sealed; nothing in it is readable
    /// without the root key but the header's OCIDs).
    pub file: String,
}

/// Keeps a backup file as the result of work request `work_request_id`.
pub fn keep(
    tx: &Transaction<'_>,
    work_request_id: &str,
    kind: Kind,
    resource_id: &str,
    file: &str,
    now: OffsetDateTime,
) -> Result<()> {
    tx.execute(
        "INSERT INTO backups (work_request_id, kind, resource_id, time_created, file)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            work_request_id,
            kind.as_str(),
            resource_id,
            crate::clock::format_time(now),
            file
        ],
    )?;
    Ok(())
}

fn stored_of(row: &rusqlite::Row<'_>) -> rusqlite::Result<Stored> {
    Ok(Stored {
        work_request_id: row.get(0)?,
        kind: row.get(1)?,
        resource_id: row.get(2)?,
        time_created: row.get(3)?,
        file: row.get(4)?,
    })
}

/// The backup kept for work request `work_request_id`.
pub fn stored(tx: &Connection, work_request_id: &str) -> Result<Option<Stored>> {
    Ok(tx
        .query_row(
            "SELECT work_request_id, kind, resource_id, time_created, file FROM backups
             WHERE work_request_id = ?1",
            params![work_request_id],
            stored_of,
        )
        .optional()?)
}

/// Every kept backup, oldest first.
pub fn all(tx: &Connection) -> Result<Vec<Stored>> {
    let mut stmt = tx.prepare_cached(
        "SELECT work_request_id, kind, resource_id, time_created, file FROM backups
         ORDER BY time_created, work_request_id",
    )?;
    let rows = stmt.query_map([], stored_of)?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// Puts a kept backup back (snapshot import).
pub fn restore_stored(tx: &Transaction<'_>, stored: &Stored) -> Result<()> {
    tx.execute(
        "INSERT INTO backups (work_request_id, kind, resource_id, time_created, file)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            stored.work_request_id,
            stored.kind,
            stored.resource_id,
            stored.time_created,
            stored.file
        ],
    )?;
    Ok(())
}

/// Where a restore puts what it brings back.
#[derive(Debug, Clone)]
pub struct Destination {
    /// The region it is restored in (`None`: the emulator's own), as stored.
    pub region: Option<String>,
    /// That region's name (`us-ashburn-1`): a backup of the same region
    /// keeps its OCIDs, and new OCIDs carry it.
    pub region_name: String,
}

/// Refuses a restore of `id` when a resource with that OCID exists and is
/// not `DELETED` (409 `NotAuthorizedOrResourceAlreadyExists`).
fn ensure_absent<T: serde::de::DeserializeOwned>(
    tx: &Connection,
    table: &store::Table,
    id: &str,
    deleted: impl Fn(&T) -> bool,
    what: &str,
) -> Result<()> {
    match store::get::<T>(tx, table, id)? {
        Some(existing) if !deleted(&existing) => Err(Error::AlreadyExists(format!(
            "{what} {id} already exists; only a deleted {} can be restored over.",
            what.to_lowercase()
        ))),
        _ => Ok(()),
    }
}

/// Writes a restored key (with its versions) into vault `vault_id`: same
/// OCIDs when `same_region`, else new ones (the material re-sealed for its
/// new version OCID). Refuses a key that exists and is not deleted.
fn restore_key_rows(
    tx: &Transaction<'_>,
    keyring: &Keyring,
    now: OffsetDateTime,
    into: &Destination,
    same_region: bool,
    vault_id: &str,
    saved: KeyContents,
) -> Result<Key> {
    let KeyContents { key: old, versions } = saved;
    let id = if same_region {
        old.id.clone()
    } else {
        new_ocid(OcidKind::Key, &into.region_name)
    };
    ensure_absent::<Key>(
        tx,
        &KEYS,
        &id,
        |k| k.clone().settle(now).lifecycle_state == KeyState::Deleted,
        "Key",
    )?;
    let mut key = old.clone();
    key.id = id;
    key.vault_id = vault_id.to_owned();
    key.time_of_deletion = None;
    key.state_before_deletion = None;
    key.scheduled_with_vault = false;
    key.restored_from_key_id = Some(old.id.clone());
    key.etag = new_etag();
    tx.execute(
        "DELETE FROM key_versions WHERE key_id = ?1",
        params![key.id],
    )?;
    keys::save(tx, &key)?;
    for (seq, saved) in versions.into_iter().enumerate() {
        let mut version = saved.clone();
        if !same_region {
            version.id = new_ocid(OcidKind::KeyVersion, &into.region_name);
            let material = keyring
                .root()
                .unseal_material(&saved.id, &saved.sealed()?)?;
            version.sealed_material =
                B64.encode(keyring.root().seal_material(&version.id, &material)?);
        }
        if saved.id == old.current_key_version {
            key.current_key_version = version.id.clone();
        }
        version.key_id = key.id.clone();
        version.vault_id = key.vault_id.clone();
        version.compartment_id = key.compartment_id.clone();
        version.restored_from_key_version_id = Some(saved.id.clone());
        keys::save_version(tx, &version, seq as i64 + 1)?;
    }
    keys::save(tx, &key)?;
    Ok(key)
}

/// `RestoreVaultFromFile`: the vault of a vault backup, `ACTIVE` in
/// `compartment_id`, with the keys the backup holds. 400 for a file that is
/// not a vault backup of this emulator (changed, another root key, a key
/// backup); 409 when the vault (or one of its keys) exists and is not
/// deleted.
pub fn restore_vault(
    tx: &Transaction<'_>,
    keyring: &Keyring,
    now: OffsetDateTime,
    file: &[u8],
    compartment_id: String,
    into: &Destination,
) -> Result<Vault> {
    let (header, contents) = open(keyring, file)?;
    if header.kind != Kind::Vault {
        return Err(Error::InvalidParameter(
            "The file is a key backup; restore it with RestoreKeyFromFile at its vault's management endpoint.".into(),
        ));
    }
    let same_region = header.region == into.region_name;
    let old = contents.vault;
    let id = if same_region {
        old.id.clone()
    } else {
        new_ocid(OcidKind::Vault, &into.region_name)
    };
    let existing = store::get::<Vault>(tx, &VAULTS, &id)?;
    if existing
        .as_ref()
        .is_some_and(|v| v.clone().settle(now).lifecycle_state != VaultState::Deleted)
    {
        return Err(Error::AlreadyExists(format!(
            "Vault {id} already exists; only a deleted vault can be restored over."
        )));
    }
    let key_taken = |key: &str| -> Result<bool> {
        Ok(tx
            .query_row(
                "SELECT 1 FROM vaults WHERE vault_key = ?1 AND id <> ?2",
                params![key, id],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
    };
    let mut vault = old.clone();
    vault.id = id.clone();
    vault.compartment_id = compartment_id;
    vault.lifecycle_state = VaultState::Active;
    vault.time_of_deletion = None;
    vault.replica = None;
    vault.region = into.region.clone();
    vault.restored_from_vault_id = Some(old.id.clone());
    vault.etag = new_etag();
    vault.vault_key = match existing {
        // Over its own deleted row: the same endpoints (the row keeps its key).
        Some(deleted) => deleted.vault_key,
        None if same_region && !key_taken(&old.vault_key)? => old.vault_key.clone(),
        None => random_base32(13),
    };
    if !same_region {
        vault.wrapping_key_id = new_ocid(OcidKind::Key, &into.region_name);
    }
    vaults::save(tx, &vault)?;
    for saved in contents.keys {
        restore_key_rows(tx, keyring, now, into, same_region, &vault.id, saved)?;
    }
    Ok(vault)
}

/// `RestoreKeyFromFile` at the management endpoint of `vault`: the key of a
/// key backup, with all its versions, in the state it was backed up in.
/// 404 when `vault` is neither the key's vault nor one restored from it
/// (a key needs its own vault); 409 `IncorrectState` unless `vault` is
/// `ACTIVE`; 400 / 409 as [`restore_vault`].
pub fn restore_key(
    tx: &Transaction<'_>,
    keyring: &Keyring,
    now: OffsetDateTime,
    file: &[u8],
    vault: &Vault,
    into: &Destination,
) -> Result<Key> {
    let (header, contents) = open(keyring, file)?;
    if header.kind != Kind::Key {
        return Err(Error::InvalidParameter(
            "The file is a vault backup; restore it with RestoreVaultFromFile.".into(),
        ));
    }
    let its_vault = vault.id == contents.vault.id
        || vault.restored_from_vault_id.as_deref() == Some(contents.vault.id.as_str());
    if !its_vault {
        return Err(Error::NotFound);
    }
    vaults::for_change(tx, vault, None)?;
    vault.ensure_active()?;
    let same_region = header.region == into.region_name;
    let saved = contents.keys.into_iter().next().ok_or_else(not_a_backup)?;
    restore_key_rows(tx, keyring, now, into, same_region, &vault.id, saved)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::RootKey;

    fn header() -> Header {
        Header {
            kind: Kind::Key,
            resource_id: "ocid1.key.oc1.iad.k".into(),
            vault_id: "ocid1.vault.oc1.iad.v".into(),
            compartment_id: "ocid1.compartment.oc1..c".into(),
            region: "us-ashburn-1".into(),
        }
    }

    fn contents() -> Contents {
        let vault: Vault = serde_json::from_value(serde_json::json!({
            "id": "ocid1.vault.oc1.iad.v", "compartmentId": "ocid1.compartment.oc1..c",
            "displayName": "secret-name-of-the-vault", "vaultType": "VIRTUAL_PRIVATE",
            "lifecycleState": "ACTIVE", "timeCreated": "2026-01-01T00:00:00Z",
            "tags": {}, "vaultKey": "abc", "wrappingKeyId": "w", "etag": "e"}))
        .unwrap();
        Contents {
            vault,
            keys: Vec::new(),
        }
    }

    #[test]
    fn a_backup_is_base64_text_whose_header_is_readable_and_contents_are_not() {
        let keyring = Keyring::new(RootKey::generate());
        let file = seal(&keyring, &header(), &contents()).unwrap();
        assert!(file.bytes().all(|b| b.is_ascii_graphic()), "{file}");
        assert!(serde_json::from_str::<serde_json::Value>(&file).is_err());
        assert_eq!(peek(file.as_bytes()), Some(header()));
        let bytes = B64.decode(&file).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains("secret-name-of-the-vault"), "{text}");
        let (h, c) = open(&keyring, file.as_bytes()).unwrap();
        assert_eq!(h, header());
        assert_eq!(c.vault.display_name, "secret-name-of-the-vault");
    }

    #[test]
    fn a_changed_file_or_another_root_key_does_not_open() {
        let keyring = Keyring::new(RootKey::generate());
        let file = seal(&keyring, &header(), &contents()).unwrap();
        let other = Keyring::new(RootKey::generate());
        assert!(matches!(
            open(&other, file.as_bytes()),
            Err(Error::InvalidParameter(_))
        ));
        let mut bytes = B64.decode(&file).unwrap();
        for at in [0, 8, bytes.len() / 2, bytes.len() - 1] {
            bytes[at] ^= 0x20;
            let changed = B64.encode(&bytes);
            assert!(
                matches!(
                    open(&keyring, changed.as_bytes()),
                    Err(Error::InvalidParameter(_))
                ),
                "byte {at}"
            );
            bytes[at] ^= 0x20;
        }
        // Another compartment in the clear header: the header is
        // authenticated, so the file no longer opens.
        let forged = seal(
            &other,
            &Header {
                compartment_id: "x".into(),
                ..header()
            },
            &contents(),
        )
        .unwrap();
        assert!(open(&keyring, forged.as_bytes()).is_err());
        assert!(open(&keyring, b"not base64 at all!").is_err());
        assert!(peek(b"{\"kind\": \"KEY\"}").is_none());
    }
}
