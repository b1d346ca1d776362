//! Secrets and secret versions, after the Vault API's `Secret`,
//! `SecretVersion` and `UpdateSecretDetails` models and Oracle's "Secret
//! Versions" page (<https://docs.oracle.com/iaas/Content/secret-management/Concepts/secret-versions.htm>).
//!
//! Version stages: the first version is `CURRENT`+`LATEST`. New content is
//! version n+1, `LATEST`, and `CURRENT` unless staged `PENDING`. Promoting a
//! version to `CURRENT` moves the old `CURRENT` to `PREVIOUS` and the former
//! `PREVIOUS` to `DEPRECATED`. Exactly one version holds each of `CURRENT`,
//! `PREVIOUS`, `LATEST` and `PENDING` at a time; a version holding none of them
//! is `DEPRECATED`.
//!
//! Content is envelope-encrypted ([`crate::crypto`]): a fresh data key per
//! version, wrapped by the current version of the secret's master key. Only
//! ciphertext is stored.

use rusqlite::{params, Connection, OptionalExtension, Transaction};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::keys::{self, Key, KeyVersion};
use super::paging::{self, Cursor};
use super::rotation_config::{Rotation, RotationConfig};
use super::secret_generation::GenerationContext;
use super::secret_replication::{self, ReplicationConfig};
use super::secret_rules::SecretRules;
use super::vaults::Vault;
use super::{check_etag, deletion_time, ensure_fresh, new_etag, Error, Result, Tags};
use crate::crypto::{self, Keyring, B64};
use crate::ocid::{new_ocid, OcidKind};
use crate::store::{self, SECRETS};
use base64::Engine as _;

/// The most versions of one secret in use (neither pending deletion nor
/// deleted); a new version past it is 400 `LimitExceeded` (Oracle's "Secret
/// Versions": up to 30 in active use and 30 pending deletion per secret).
pub const MAX_VERSIONS_IN_USE: usize = 30;

/// The most versions of one secret pending deletion at once.
pub const MAX_VERSIONS_PENDING_DELETION: usize = 30;

/// The largest secret content accepted, in bytes after base64 decoding
/// (OCI's documented secret bundle limit is 25 KB).
pub const MAX_CONTENT_BYTES: usize = 25 * 1024;

/// `Secret.lifecycleState` values the emulator reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SecretState {
    /// Readable and updatable.
    Active,
    /// Scheduled for deletion: not readable as a bundle, not updatable.
    PendingDeletion,
    /// Deleted: gone for every read.
    Deleted,
}

impl SecretState {
    /// The wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            SecretState::Active => "ACTIVE",
            SecretState::PendingDeletion => "PENDING_DELETION",
            SecretState::Deleted => "DELETED",
        }
    }
}

/// A version stage (`SecretVersion.stages`), in OCI's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Stage {
    /// The version in use.
    Current,
    /// Staged, not yet promoted.
    Pending,
    /// The most recently created.
    Latest,
    /// The one that was `CURRENT` before the last promotion.
    Previous,
    /// None of the above.
    Deprecated,
}

impl Stage {
    /// The wire name (`CURRENT`, …), as serde writes it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Stage::Current => "CURRENT",
            Stage::Pending => "PENDING",
            Stage::Latest => "LATEST",
            Stage::Previous => "PREVIOUS",
            Stage::Deprecated => "DEPRECATED",
        }
    }
}

/// A secret as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Secret {
    /// `ocid1.vaultsecret.oc1.<region>.…`; never changes.
    pub id: String,
    /// The vault.
    pub vault_id: String,
    /// The compartment.
    pub compartment_id: String,
    /// `secretName`, unique per vault.
    pub secret_name: String,
    /// The master encryption key that wraps its data keys.
    pub key_id: String,
    /// `description`.
    #[serde(default)]
    pub description: Option<String>,
    /// `metadata`.
    #[serde(default)]
    pub metadata: Option<serde_json::Map<String, serde_json::Value>>,
    /// Lifecycle state as stored; read through [`Secret::settle`].
    pub lifecycle_state: SecretState,
    /// `currentVersionNumber`.
    pub current_version_number: u64,
    /// `timeCreated`.
    #[serde(with = "time::serde::rfc3339")]
    pub time_created: OffsetDateTime,
    /// `timeOfDeletion` while pending deletion.
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub time_of_deletion: Option<OffsetDateTime>,
    /// Tags.
    pub tags: Tags,
    /// `secretRules`.
    #[serde(default)]
    pub rules: SecretRules,
    /// `secretGenerationContext`.
    #[serde(default)]
    pub generation: Option<GenerationContext>,
    /// `isAutoGenerationEnabled`.
    #[serde(default)]
    pub is_auto_generation_enabled: bool,
    /// `timeOfCurrentVersionExpiry`: the `CURRENT` version's expiry under
    /// the rules (kept in step whenever the current version or rules change).
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub time_of_current_version_expiry: Option<OffsetDateTime>,
    /// The secret's own region: its vault's (`None`: the emulator's own
    /// `--region`; every secret made before regions were served).
    #[serde(default)]
    pub region: Option<String>,
    /// `replicationConfig` (`None`: not replicated).
    #[serde(default)]
    pub replication: Option<ReplicationConfig>,
    /// `rotationConfig` and the state of its rotations
    /// ([`super::secret_rotation`]); `None` until one is configured.
    #[serde(default)]
    pub rotation: Option<Rotation>,
    /// The current etag.
    pub etag: String,
}

impl Secret {
    /// How `region` (`None`: the emulator's own) sees this secret
    /// ([`secret_replication::view`]).
    pub fn view(&self, region: Option<&str>) -> Option<secret_replication::View<'_>> {
        secret_replication::view(self.region.as_deref(), self.replication.as_ref(), region)
    }

    /// Applies a deletion whose time has passed.
    pub fn settle(mut self, now: OffsetDateTime) -> Self {
        if self.lifecycle_state == SecretState::PendingDeletion
            && self.time_of_deletion.is_some_and(|t| t <= now)
        {
            self.lifecycle_state = SecretState::Deleted;
        }
        self
    }

    /// 409 `IncorrectState` unless the secret is `ACTIVE`.
    pub fn ensure_active(&self, action: &str) -> Result<()> {
        if self.lifecycle_state != SecretState::Active {
            return Err(Error::IncorrectState(format!(
                "Secret {} is in lifecycle state {}; it cannot be {action}.",
                self.id,
                self.lifecycle_state.as_str()
            )));
        }
        Ok(())
    }
}

/// A secret version as stored: metadata plus the encrypted content.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SecretVersion {
    /// The secret.
    pub secret_id: String,
    /// 1, 2, 3, … per secret.
    pub version_number: u64,
    /// The optional version name (`secretContent.name`).
    #[serde(default)]
    pub name: Option<String>,
    /// Stages, in OCI's order.
    pub stages: Vec<Stage>,
    /// `timeCreated`.
    #[serde(with = "time::serde::rfc3339")]
    pub time_created: OffsetDateTime,
    /// The key version whose material wraps `wrapped_data_key`.
    pub key_version_id: String,
    /// The data key, sealed under the key version (base64).
    pub wrapped_data_key: String,
    /// The content, sealed under the data key (base64).
    pub sealed_content: String,
    /// When the version expires under the secret's `SECRET_EXPIRY_RULE`
    /// (`timeOfCurrentVersionExpiry` / `timeOfExpiry` on the wire).
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub time_of_expiry: Option<OffsetDateTime>,
    /// `isContentAutoGenerated`.
    #[serde(default)]
    pub is_content_auto_generated: bool,
    /// `timeOfDeletion`: set while the version is scheduled for deletion;
    /// once it passes the version is deleted
    /// ([`crate::domain::secret_version_deletion`]).
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub time_of_deletion: Option<OffsetDateTime>,
}

impl SecretVersion {
    /// Whether the version has been deleted at `now` (its `timeOfDeletion`
    /// has passed): gone from every read, kept only for the reuse rule.
    pub fn is_deleted(&self, now: OffsetDateTime) -> bool {
        self.time_of_deletion.is_some_and(|t| t <= now)
    }

    /// Whether the version is scheduled for deletion at `now` and not yet
    /// deleted: listed with its `timeOfDeletion`, but its bundle is not read.
    pub fn is_pending_deletion(&self, now: OffsetDateTime) -> bool {
        self.time_of_deletion.is_some_and(|t| t > now)
    }

    /// Neither pending deletion nor deleted: counts toward
    /// [`MAX_VERSIONS_IN_USE`].
    pub fn in_use(&self, now: OffsetDateTime) -> bool {
        !self.is_deleted(now) && !self.is_pending_deletion(now)
    }

    /// The version's etag: derived from its state (OCI sends one on
    /// `GetSecretVersion`); it changes when the version's stages do.
    pub fn etag(&self) -> String {
        let stages: Vec<u8> = self.stages.iter().map(|s| *s as u8).collect();
        let deletion = self
            .time_of_deletion
            .map(|t| t.unix_timestamp_nanos().to_be_bytes().to_vec())
            .unwrap_or_default();
        crate::crypto::digest_token(&[
            self.secret_id.as_bytes(),
            &self.version_number.to_be_bytes(),
            &stages,
            &deletion,
        ])
    }
}

/// The content of a new version, validated from `Base64SecretContentDetails`.
pub struct NewContent {
    /// The decoded content bytes (never logged).
    pub bytes: crypto::KeyBytes,
    /// Optional version name.
    pub name: Option<String>,
    /// `CURRENT` (default) or `PENDING`.
    pub stage: Stage,
    /// Whether `bytes` came from a `secretGenerationContext`.
    pub auto_generated: bool,
}

impl std::fmt::Debug for NewContent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewContent")
            .field("name", &self.name)
            .field("stage", &self.stage)
            .finish_non_exhaustive()
    }
}

impl NewContent {
    /// Parses `content` (base64), `name` and `stage` (`CURRENT`/`PENDING`).
    pub fn parse(
        content: Option<&str>,
        name: Option<String>,
        stage: Option<Stage>,
    ) -> Result<Self> {
        let content = content
            .ok_or_else(|| Error::InvalidParameter("secretContent.content is required.".into()))?;
        let bytes = crypto::KeyBytes::new(B64.decode(content.trim()).map_err(|_| {
            Error::InvalidParameter("secretContent.content is not valid base64.".into())
        })?);
        if bytes.is_empty() {
            return Err(Error::InvalidParameter(
                "secretContent.content must not be empty.".into(),
            ));
        }
        if bytes.len() > MAX_CONTENT_BYTES {
            return Err(Error::InvalidParameter(format!(
                "secretContent.content is {} bytes; the limit is {MAX_CONTENT_BYTES} bytes.",
                bytes.len()
            )));
        }
        let stage = match stage {
            None | Some(Stage::Current) => Stage::Current,
            Some(Stage::Pending) => Stage::Pending,
            Some(_) => {
                return Err(Error::InvalidParameter(
                    "secretContent.stage must be CURRENT or PENDING.".into(),
                ));
            }
        };
        if let Some(n) = &name {
            if n.is_empty() || n.len() > 255 {
                return Err(Error::InvalidParameter(
                    "secretContent.name must be 1 to 255 characters.".into(),
                ));
            }
        }
        Ok(Self {
            bytes,
            name,
            stage,
            auto_generated: false,
        })
    }
}

/// What `CreateSecret` needs (validated from `CreateSecretDetails`).
#[derive(Debug)]
pub struct NewSecret {
    /// `compartmentId`.
    pub compartment_id: String,
    /// `vaultId`.
    pub vault_id: String,
    /// `keyId`.
    pub key_id: String,
    /// `secretName`.
    pub secret_name: String,
    /// `description`.
    pub description: Option<String>,
    /// `metadata`.
    pub metadata: Option<serde_json::Map<String, serde_json::Value>>,
    /// The first version's content.
    pub content: NewContent,
    /// `secretRules`, validated.
    pub rules: SecretRules,
    /// `secretGenerationContext`, validated.
    pub generation: Option<GenerationContext>,
    /// `enableAutoGeneration`.
    pub auto_generation: bool,
    /// `replicationConfig` as given (checked by [`create`]).
    pub replication: Option<ReplicationConfig>,
    /// `rotationConfig`, validated.
    pub rotation: Option<RotationConfig>,
    /// Tags.
    pub tags: Tags,
}

/// What `UpdateSecret` may change (validated from `UpdateSecretDetails`).
#[derive(Debug, Default)]
pub struct SecretUpdate {
    /// `currentVersionNumber`: promote that version to `CURRENT`.
    pub current_version_number: Option<u64>,
    /// `secretContent`: a new version.
    pub content: Option<NewContent>,
    /// `secretRules`: replaces the secret's rules (an empty list clears them).
    pub rules: Option<SecretRules>,
    /// `description`.
    pub description: Option<String>,
    /// `metadata`.
    pub metadata: Option<serde_json::Map<String, serde_json::Value>>,
    /// `freeformTags`.
    pub freeform_tags: Option<serde_json::Map<String, serde_json::Value>>,
    /// `definedTags`.
    pub defined_tags: Option<serde_json::Map<String, serde_json::Value>>,
    /// `replicationConfig`: replaces the secret's (no targets: replication
    /// off, and every replica goes).
    pub replication: Option<ReplicationConfig>,
    /// `secretGenerationContext`, validated: replaces the secret's.
    pub generation: Option<GenerationContext>,
    /// `enableAutoGeneration` (the caller has checked that a context exists
    /// when it is true).
    pub auto_generation: Option<bool>,
    /// `rotationConfig`: replaces the secret's (see [`Rotation::reconfigure`]).
    pub rotation: Option<RotationConfig>,
}

/// The message when more than one of `currentVersionNumber`,
/// `secretContent` and `secretRules` is given to UpdateSecret.
pub const EXCLUSIVE_UPDATE: &str =
    "currentVersionNumber, secretContent and secretRules cannot be combined in one request.";

/// Checks a secret name: 1–255 of letters, digits, `-`, `_`, `.`.
pub fn validate_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 255
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
    if !ok {
        return Err(Error::InvalidParameter(
            "secretName must be 1 to 255 characters of letters, digits, '-', '_' and '.'.".into(),
        ));
    }
    Ok(())
}

/// Writes a secret row (insert or update) to `secret_rows`, its document
/// without what the columns hold ([`store::lean_doc`]); the `secrets` view
/// reads it back whole.
pub fn save(tx: &Transaction<'_>, secret: &Secret) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO secret_rows (id, vault_id, compartment_id, name, doc, created_ns, state, deletion_ns, region)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
         ON CONFLICT (id) DO UPDATE SET compartment_id = ?3, doc = ?5, state = ?7, deletion_ns = ?8",
    )?
    .execute(params![
        secret.id,
        secret.vault_id,
        secret.compartment_id,
        secret.secret_name,
        store::lean_doc(secret, &["id", "vaultId", "compartmentId", "secretName"])?,
        unix_ns(secret.time_created),
        secret.lifecycle_state.as_str(),
        secret.time_of_deletion.map(unix_ns),
        secret.region.as_deref().unwrap_or(""),
    ])?;
    tx.prepare_cached("DELETE FROM secret_replicas WHERE secret_id = ?1")?
        .execute(params![secret.id])?;
    for target in secret.replication.iter().flat_map(|c| &c.targets) {
        tx.prepare_cached(
            "INSERT INTO secret_replicas (secret_id, region, vault_id) VALUES (?1, ?2, ?3)",
        )?
        .execute(params![
            secret.id,
            target.region.as_deref().unwrap_or(""),
            target.vault_id
        ])?;
    }
    Ok(())
}

/// Writes a secret version row (insert or update) to `secret_version_rows`
/// ([`store::lean_doc`]); the `secret_versions` view reads it back whole.
pub fn save_version(tx: &Transaction<'_>, version: &SecretVersion) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO secret_version_rows (secret_id, version_number, doc, name, deletion_ns)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (secret_id, version_number) DO UPDATE SET doc = ?3, name = ?4, deletion_ns = ?5",
    )?
    .execute(params![
        version.secret_id,
        version.version_number as i64,
        store::lean_doc(version, &["secretId"])?,
        version.name,
        version.time_of_deletion.map(unix_ns),
    ])?;
    Ok(())
}

/// `t` in Unix nanoseconds, as the `deletion_ns` column holds it
/// (saturating: OCI times are within a few centuries of now).
fn unix_ns(t: OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos()).unwrap_or(i64::MAX)
}

/// The versions of a secret not deleted at `now` (in use or pending
/// deletion; at most 60 under OCI's limits), oldest first: what an update
/// works on, without reading the deleted ones.
pub fn live_versions(
    tx: &Connection,
    secret_id: &str,
    now: OffsetDateTime,
) -> Result<Vec<SecretVersion>> {
    Ok(store::query_docs(
        tx,
        "SELECT doc FROM (
             SELECT doc, version_number FROM secret_versions
             WHERE secret_id = ?1 AND deletion_ns IS NULL
             UNION ALL
             SELECT doc, version_number FROM secret_versions
             WHERE secret_id = ?1 AND deletion_ns > ?2)
         ORDER BY version_number",
        params![secret_id, unix_ns(now)],
    )?)
}

/// The highest version number a secret has used (deleted versions too:
/// numbers are never reused); 0 for none.
/// The number and `timeCreated` of a secret's newest version, deleted or
/// not (`None` when it has none): a new version takes the next number and
/// a time no earlier than this one's.
fn last_version(tx: &Connection, secret_id: &str) -> Result<Option<(u64, OffsetDateTime)>> {
    let last: Option<(i64, String)> = tx
        .prepare_cached(
            "SELECT version_number, doc FROM secret_versions WHERE secret_id = ?1
             ORDER BY version_number DESC LIMIT 1",
        )?
        .query_row(params![secret_id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    last.map(|(number, doc)| {
        let version: SecretVersion = serde_json::from_str(&doc)?;
        Ok((number as u64, version.time_created))
    })
    .transpose()
}

/// Whether any version of a secret, deleted or not, has the name `name`.
fn version_name_taken(tx: &Connection, secret_id: &str, name: &str) -> Result<bool> {
    Ok(tx
        .prepare_cached("SELECT 1 FROM secret_versions WHERE secret_id = ?1 AND name = ?2")?
        .exists(params![secret_id, name])?)
}

/// The key a secret's content is wrapped with, loaded by the secret's
/// `keyId` (a related resource, not the request's target); 404 when gone.
fn secret_key(tx: &Connection, secret: &Secret, now: OffsetDateTime) -> Result<Key> {
    keys::find(tx, &secret.key_id, now)?.ok_or(Error::NotFound)
}

/// Encrypts `content` as version `version_number` of `secret_id` under a
/// fresh data key wrapped by `key_version` (stages left empty).
pub fn seal_content(
    keyring: &Keyring,
    key_version: &KeyVersion,
    secret_id: &str,
    version_number: u64,
    content: &NewContent,
    now: OffsetDateTime,
) -> Result<SecretVersion> {
    let master = keyring.material(&key_version.id, || key_version.sealed())?;
    let data_key = crypto::random_bytes(32);
    let wrapped = crypto::seal(&master, secret_id.as_bytes(), &data_key)?;
    let sealed = crypto::seal(
        &data_key,
        content_aad(secret_id, version_number).as_bytes(),
        &content.bytes,
    )?;
    Ok(SecretVersion {
        secret_id: secret_id.to_owned(),
        version_number,
        name: content.name.clone(),
        stages: Vec::new(),
        time_created: now,
        key_version_id: key_version.id.clone(),
        wrapped_data_key: B64.encode(wrapped),
        sealed_content: B64.encode(sealed),
        time_of_expiry: None,
        is_content_auto_generated: content.auto_generated,
        time_of_deletion: None,
    })
}

fn content_aad(secret_id: &str, version_number: u64) -> String {
    format!("{secret_id}/{version_number}")
}

/// Decrypts a version's content with the key version that wrapped it.
pub fn open_content(
    keyring: &Keyring,
    version: &SecretVersion,
    key_version: &KeyVersion,
) -> Result<crypto::KeyBytes> {
    let broken = |what: &str| {
        Error::Internal(anyhow::anyhow!(
            "stored secret version has a corrupt {what}"
        ))
    };
    let master = keyring.material(&key_version.id, || key_version.sealed())?;
    let wrapped = B64
        .decode(&version.wrapped_data_key)
        .map_err(|_| broken("data key"))?;
    let data_key = crypto::open(&master, version.secret_id.as_bytes(), &wrapped)
        .map_err(|_| broken("data key"))?;
    let sealed = B64
        .decode(&version.sealed_content)
        .map_err(|_| broken("content"))?;
    crypto::open(
        &data_key,
        content_aad(&version.secret_id, version.version_number).as_bytes(),
        &sealed,
    )
    .map_err(|_| broken("content"))
}

/// `CreateSecret`: version 1, `CURRENT`+`LATEST`. The vault must be `ACTIVE`,
/// the key an `ENABLED` AES key of that vault, and the name new in the vault.
/// `vault` and `key` are what the body's `vaultId` and `keyId` resolved to
/// (`None`: 400 `RelatedResourceNotAuthorizedOrNotFound`, as OCI answers).
pub fn create(
    tx: &Transaction<'_>,
    keyring: &Keyring,
    now: OffsetDateTime,
    region: &str,
    vault: Option<&Vault>,
    key: Option<&Key>,
    new: NewSecret,
) -> Result<(Secret, SecretVersion)> {
    let vault = vault.ok_or_else(|| {
        Error::RelatedNotFound(format!(
            "Vault {} was not found or is not authorized.",
            new.vault_id
        ))
    })?;
    ensure_fresh(tx, &store::VAULTS, &vault.id, &vault.etag)?;
    vault.ensure_active()?;
    validate_name(&new.secret_name)?;
    if new.content.stage != Stage::Current {
        return Err(Error::InvalidParameter(
            "The first version of a secret must have stage CURRENT.".into(),
        ));
    }
    let key = key.ok_or_else(|| {
        Error::RelatedNotFound(format!(
            "Key {} was not found or is not authorized.",
            new.key_id
        ))
    })?;
    ensure_fresh(tx, &store::KEYS, &key.id, &key.etag)?;
    let key_version = keys::usable_for_secrets(tx, &vault.id, key)?;
    if secret_replication::name_taken(tx, &vault.id, &new.secret_name, None)? {
        return Err(Error::InvalidParameter(format!(
            "A secret named {} already exists in vault {}; secret names are unique per vault.",
            new.secret_name, vault.id
        )));
    }
    let replication = match new.replication {
        Some(config) => secret_replication::validate(
            tx,
            now,
            vault.region.as_deref(),
            &new.secret_name,
            None,
            config,
        )?,
        None => None,
    };
    let id = new_ocid(OcidKind::Secret, region);
    let mut version = seal_content(keyring, &key_version, &id, 1, &new.content, now)?;
    version.stages = vec![Stage::Current, Stage::Latest];
    version.time_of_expiry = new.rules.expiry_from(now);
    let secret = Secret {
        id,
        vault_id: vault.id.clone(),
        compartment_id: new.compartment_id,
        secret_name: new.secret_name,
        key_id: new.key_id,
        description: new.description,
        metadata: new.metadata,
        lifecycle_state: SecretState::Active,
        current_version_number: 1,
        time_created: now,
        time_of_deletion: None,
        tags: new.tags,
        time_of_current_version_expiry: version.time_of_expiry,
        rules: new.rules,
        generation: new.generation,
        is_auto_generation_enabled: new.auto_generation,
        region: vault.region.clone(),
        replication,
        rotation: new.rotation.map(|c| Rotation::new(c, now)),
        etag: new_etag(),
    };
    save(tx, &secret)?;
    save_version(tx, &version)?;
    Ok((secret, version))
}

/// The secret `id` settled at `now`; `None` when absent or deleted (a
/// deleted secret is gone for every read, see `domain::target`).
pub fn find(tx: &Connection, id: &str, now: OffsetDateTime) -> Result<Option<Secret>> {
    Ok(store::get::<Secret>(tx, &SECRETS, id)?
        .map(|s| s.settle(now))
        .filter(|s| s.lifecycle_state != SecretState::Deleted))
}

/// `GetSecret`: 404 when absent or deleted.
pub fn get(tx: &Connection, id: &str, now: OffsetDateTime) -> Result<Secret> {
    find(tx, id, now)?.ok_or(Error::NotFound)
}

/// The secret named `name` in `vault_id`, as [`find`]; `None` when none.
pub fn find_by_name(
    tx: &Connection,
    vault_id: &str,
    name: &str,
    now: OffsetDateTime,
) -> Result<Option<Secret>> {
    let id: Option<String> = tx
        .prepare_cached("SELECT id FROM secrets WHERE vault_id = ?1 AND name = ?2")?
        .query_row(params![vault_id, name], |r| r.get(0))
        .optional()?;
    match id {
        Some(id) => find(tx, &id, now),
        None => Ok(None),
    }
}

/// What `ListSecrets` asks for: the compartment, the region it is read in
/// (`None`: the emulator's own), its filters, its order and its page.
#[derive(Debug, Clone)]
pub struct ListQuery {
    /// `compartmentId`.
    pub compartment_id: String,
    /// The region the request addresses.
    pub region: Option<String>,
    /// `name`: exact.
    pub name: Option<String>,
    /// `vaultId`: a replica's vault is its target vault.
    pub vault_id: Option<String>,
    /// `lifecycleState`, upper case, as settled at the request's time.
    pub state: Option<String>,
    /// `sortBy=NAME` (else `TIMECREATED`).
    pub by_name: bool,
    /// `sortOrder=DESC`.
    pub descending: bool,
    /// Where the previous page ended (`opc-next-page`).
    pub after: Option<Cursor>,
    /// `limit` (`None`: every row).
    pub limit: Option<usize>,
}

/// A listed secret and the replication target it is seen through (`None`:
/// its own region).
pub type Listed = (Secret, Option<secret_replication::ReplicationTarget>);

/// The replica named `name` in target vault `vault_id`, seen from `region`,
/// settled at `now` (`GetSecretBundleByName` at a replica region); `None`
/// when there is none or its source is deleted.
pub fn find_replica_by_name(
    tx: &Connection,
    vault_id: &str,
    name: &str,
    region: Option<&str>,
    now: OffsetDateTime,
) -> Result<Option<Secret>> {
    match secret_replication::replica_named(tx, vault_id, name, region)? {
        Some(id) => find(tx, &id, now),
        None => Ok(None),
    }
}

/// The two queries of a `ListSecrets` page, each walking its index in the
/// page's order and stopping at the limit: the secrets whose own region
/// this is, and the replicas seen here (a join from `secret_replicas`).
/// Parameters: `?1` compartment, `?2` region, `?3` name, `?4` vault, `?5`
/// state, `?6` now (ns), `?7`/`?8` the cursor's key and id, `?9` limit.
fn list_sql(by_name: bool, descending: bool) -> [String; 2] {
    let (key, op, order) = paging::order(by_name, descending, "name");
    let filters = "(?3 IS NULL OR s.name = ?3)
           AND (?5 IS NULL OR (CASE WHEN s.state = 'PENDING_DELETION' AND s.deletion_ns <= ?6
                                    THEN 'DELETED' ELSE s.state END) = ?5)";
    [
        format!(
            "SELECT s.doc, NULL FROM secrets s
             WHERE s.compartment_id = ?1 AND s.region = ?2 AND (?4 IS NULL OR s.vault_id = ?4)
               AND {filters} AND (?7 IS NULL OR (s.{key}, s.id) {op} (?7, ?8))
             ORDER BY s.{key} {order}, s.id {order} LIMIT ?9"
        ),
        format!(
            // CROSS JOIN fixes the order (SQLite keeps it as written): from
            // the region's few replicas, never from the whole compartment.
            "SELECT s.doc, r.vault_id FROM secret_replicas r CROSS JOIN secrets s ON s.id = r.secret_id
             WHERE r.region = ?2 AND s.compartment_id = ?1 AND (?4 IS NULL OR r.vault_id = ?4)
               AND {filters} AND (?7 IS NULL OR (s.{key}, s.id) {op} (?7, ?8))
             ORDER BY s.{key} {order}, s.id {order} LIMIT ?9"
        ),
    ]
}

/// `ListSecrets`: one page of a compartment's secrets as `q.region` sees
/// them, each with the replication target it is seen through (`None`: its
/// own region), settled at `now`, and the cursor after the page when more
/// rows follow. One indexed query with a `LIMIT`: a page costs the same in
/// a compartment of a hundred secrets and of a hundred thousand.
///
/// # Errors
/// 400 `InvalidParameter` for a cursor of the other sort order.
pub fn list(
    tx: &Connection,
    q: &ListQuery,
    now: OffsetDateTime,
) -> Result<(Vec<Listed>, Option<Cursor>)> {
    let (after_key, after_id) = Cursor::bounds(q.after.as_ref(), q.by_name)?;
    let [own, replicas] = list_sql(q.by_name, q.descending);
    let limit = paging::fetch_limit(q.limit);
    let args = params![
        q.compartment_id,
        q.region.as_deref().unwrap_or(""),
        q.name,
        q.vault_id,
        q.state,
        unix_ns(now),
        after_key,
        after_id,
        limit
    ];
    let mut page = Vec::new();
    for sql in [own, replicas] {
        let mut stmt = tx.prepare_cached(&sql)?;
        let rows = stmt.query_map(args, |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, Option<String>>(1)?))
        })?;
        for row in rows {
            let (doc, replica_vault) = row?;
            let secret: Secret = serde_json::from_str(&doc)?;
            let secret = secret.settle(now);
            let replica = match replica_vault {
                None => None,
                Some(vault_id) => secret
                    .replication
                    .iter()
                    .flat_map(|c| &c.targets)
                    .find(|t| t.vault_id == vault_id && t.region == q.region)
                    .cloned(),
            };
            page.push((secret, replica));
        }
    }
    page.sort_by(|(a, _), (b, _)| {
        let ord = if q.by_name {
            a.secret_name.cmp(&b.secret_name)
        } else {
            unix_ns(a.time_created).cmp(&unix_ns(b.time_created))
        }
        .then_with(|| a.id.cmp(&b.id));
        if q.descending {
            ord.reverse()
        } else {
            ord
        }
    });
    let next = paging::cut(&mut page, q.limit, |(s, _)| {
        if q.by_name {
            Cursor::Name(s.secret_name.clone(), s.id.clone())
        } else {
            Cursor::Time(unix_ns(s.time_created), s.id.clone())
        }
    });
    Ok((page, next))
}

/// All versions of a secret, oldest first.
pub fn versions(tx: &Connection, secret_id: &str) -> Result<Vec<SecretVersion>> {
    Ok(store::query_docs(
        tx,
        "SELECT doc FROM secret_versions WHERE secret_id = ?1 ORDER BY version_number",
        params![secret_id],
    )?)
}

/// The versions reads show at `now` (deleted ones left out), oldest first.
pub fn visible_versions(
    tx: &Connection,
    secret_id: &str,
    now: OffsetDateTime,
) -> Result<Vec<SecretVersion>> {
    let mut all = versions(tx, secret_id)?;
    all.retain(|v| !v.is_deleted(now));
    Ok(all)
}

/// One page of the versions reads show at `now` (deleted ones left out),
/// in version order (`descending`: newest first), after version `after`,
/// at most `limit` (`None`: all), and the cursor after the page when more
/// follow (`ListSecretVersions`, `ListSecretBundleVersions`). A walk of
/// the primary key with a `LIMIT`: a page costs the same at 10 versions
/// and at 2,000.
///
/// # Errors
/// A store failure only.
pub fn versions_page(
    tx: &Connection,
    secret_id: &str,
    now: OffsetDateTime,
    descending: bool,
    after: Option<u64>,
    limit: Option<usize>,
) -> Result<(Vec<SecretVersion>, Option<Cursor>)> {
    let sql = if descending {
        "SELECT doc FROM secret_versions
         WHERE secret_id = ?1 AND (deletion_ns IS NULL OR deletion_ns > ?2)
           AND (?3 IS NULL OR version_number < ?3)
         ORDER BY version_number DESC LIMIT ?4"
    } else {
        "SELECT doc FROM secret_versions
         WHERE secret_id = ?1 AND (deletion_ns IS NULL OR deletion_ns > ?2)
           AND (?3 IS NULL OR version_number > ?3)
         ORDER BY version_number LIMIT ?4"
    };
    let after = after.map(|n| i64::try_from(n).unwrap_or(i64::MAX));
    let fetch = paging::fetch_limit(limit);
    let mut page: Vec<SecretVersion> =
        store::query_docs(tx, sql, params![secret_id, unix_ns(now), after, fetch])?;
    let next = paging::cut(&mut page, limit, |v| Cursor::Version(v.version_number));
    Ok((page, next))
}

/// One version by number as reads see it at `now`; 404 when absent or
/// deleted.
pub fn visible_version(
    tx: &Connection,
    secret_id: &str,
    number: u64,
    now: OffsetDateTime,
) -> Result<SecretVersion> {
    let v = version(tx, secret_id, number)?;
    if v.is_deleted(now) {
        return Err(Error::NotFound);
    }
    Ok(v)
}

/// One version by number; 404 when absent.
pub fn version(tx: &Connection, secret_id: &str, number: u64) -> Result<SecretVersion> {
    let found: Vec<SecretVersion> = store::query_docs(
        tx,
        "SELECT doc FROM secret_versions WHERE secret_id = ?1 AND version_number = ?2",
        params![secret_id, number as i64],
    )?;
    found.into_iter().next().ok_or(Error::NotFound)
}

/// Moves stages so that `target` becomes `CURRENT`: the old `CURRENT` becomes
/// `PREVIOUS`, the former `PREVIOUS` loses it, and `target` loses `PENDING`.
fn promote(versions: &mut [SecretVersion], target: u64) {
    let old_current = versions
        .iter()
        .find(|v| v.stages.contains(&Stage::Current))
        .map(|v| v.version_number);
    if old_current == Some(target) {
        return;
    }
    for v in versions.iter_mut() {
        if v.version_number == target {
            v.stages
                .retain(|s| !matches!(s, Stage::Pending | Stage::Previous));
            v.stages.push(Stage::Current);
        } else if Some(v.version_number) == old_current {
            v.stages.retain(|s| *s != Stage::Current);
            v.stages.push(Stage::Previous);
        } else {
            v.stages.retain(|s| *s != Stage::Previous);
        }
    }
}

/// Marks versions without any stage `DEPRECATED` and sorts stages.
fn normalise(versions: &mut [SecretVersion]) {
    for v in versions.iter_mut() {
        v.stages.retain(|s| *s != Stage::Deprecated);
        v.stages.sort();
        v.stages.dedup();
        if v.stages.is_empty() {
            v.stages.push(Stage::Deprecated);
        }
    }
}

/// Checks that a resolved secret may be changed: the row is as it was read,
/// and `if-match` (when given) matches its etag.
pub fn for_change(tx: &Transaction<'_>, secret: &Secret, if_match: Option<&str>) -> Result<()> {
    ensure_fresh(tx, &SECRETS, &secret.id, &secret.etag)?;
    check_etag(if_match, &secret.etag)
}

/// Refuses `content` when the secret's `SECRET_REUSE_RULE` forbids it: equal
/// to an earlier version's content (deleted versions count only with
/// `isEnforcedOnDeletedSecretVersions`). 400 `InvalidParameter`; the
/// message never shows the content or which version holds it.
fn check_reuse(
    tx: &Connection,
    keyring: &Keyring,
    secret: &Secret,
    key: &Key,
    all: &[SecretVersion],
    content: &NewContent,
    now: OffsetDateTime,
) -> Result<()> {
    let Some(rule) = &secret.rules.reuse else {
        return Ok(());
    };
    let deleted;
    let all = if rule.enforced_on_deleted {
        deleted = versions(tx, &secret.id)?;
        &deleted[..]
    } else {
        all
    };
    for v in all {
        if !rule.enforced_on_deleted && v.is_deleted(now) {
            continue;
        }
        let key_version = keys::version(tx, &key.id, &v.key_version_id)?;
        if open_content(keyring, v, &key_version)?[..] == content.bytes[..] {
            return Err(Error::InvalidParameter(
                "secretContent.content was used by an earlier version of this secret; the secret's SECRET_REUSE_RULE forbids reusing it.".into(),
            ));
        }
    }
    Ok(())
}

/// `UpdateSecret`. New content adds a version (see the module doc for
/// stages); `currentVersionNumber` promotes an existing one; `secretRules`
/// replaces the rules and restarts every version's expiry clock at `now`.
/// Any two of the three together are refused (400 `InvalidParameter`, as
/// OCI's UpdateSecret documents).
pub fn update(
    tx: &Transaction<'_>,
    keyring: &Keyring,
    now: OffsetDateTime,
    mut secret: Secret,
    if_match: Option<&str>,
    change: SecretUpdate,
) -> Result<Secret> {
    for_change(tx, &secret, if_match)?;
    secret.ensure_active("updated")?;
    let given = [
        change.content.is_some(),
        change.current_version_number.is_some(),
        change.rules.is_some(),
    ];
    if given.iter().filter(|g| **g).count() > 1 {
        return Err(Error::InvalidParameter(EXCLUSIVE_UPDATE.into()));
    }
    if let Some(config) = change.replication {
        secret.replication = secret_replication::validate(
            tx,
            now,
            secret.region.as_deref(),
            &secret.secret_name,
            Some(&secret.id),
            config,
        )?;
    }
    // Deleted versions hold no stage and are gone from every read: an update
    // never touches them (only an enforced reuse rule reads them again).
    let mut all = live_versions(tx, &secret.id, now)?;
    // What each stored version looked like, so only the versions a change
    // touches are written back (a secret may have thousands).
    // (Versions keep their positions: changes edit them in place and a new
    // one is pushed at the end.)
    let before: Vec<(Vec<Stage>, Option<OffsetDateTime>)> = all
        .iter()
        .map(|v| (v.stages.clone(), v.time_of_expiry))
        .collect();
    if let Some(rules) = change.rules {
        for v in all.iter_mut() {
            v.time_of_expiry = rules.expiry_from(now);
        }
        secret.rules = rules;
    }
    if let Some(content) = &change.content {
        let key = secret_key(tx, &secret, now)?;
        let key_version = keys::usable_for_secrets(tx, &secret.vault_id, &key)?;
        check_reuse(tx, keyring, &secret, &key, &all, content, now)?;
        if all.iter().filter(|v| v.in_use(now)).count() >= MAX_VERSIONS_IN_USE {
            return Err(Error::LimitExceeded(format!(
                "Secret {} already has {MAX_VERSIONS_IN_USE} versions in use; schedule DEPRECATED versions for deletion first.",
                secret.id
            )));
        }
        if let Some(name) = &content.name {
            if version_name_taken(tx, &secret.id, name)? {
                return Err(Error::InvalidParameter(format!(
                    "A version named {name} already exists for this secret."
                )));
            }
        }
        let (last, last_created) = last_version(tx, &secret.id)?.unwrap_or((0, now));
        // `now` is the request's time, taken before this write waited its
        // turn: a concurrent update that started later may have committed
        // the version before this one. Versions are created in number order
        // (as OCI's are), so this one is never older than the one before.
        let created = now.max(last_created);
        let mut version = seal_content(
            keyring,
            &key_version,
            &secret.id,
            last + 1,
            content,
            created,
        )?;
        version.time_of_expiry = secret.rules.expiry_from(created);
        for v in all.iter_mut() {
            v.stages.retain(|s| {
                *s != Stage::Latest && (content.stage != Stage::Pending || *s != Stage::Pending)
            });
        }
        version.stages = vec![Stage::Latest];
        if content.stage == Stage::Pending {
            version.stages.push(Stage::Pending);
        }
        all.push(version);
        if content.stage == Stage::Current {
            promote(&mut all, last + 1);
        }
    } else if let Some(target) = change.current_version_number {
        match all.iter().find(|v| v.version_number == target) {
            Some(v) if !v.is_deleted(now) => {
                if v.is_pending_deletion(now) {
                    return Err(Error::IncorrectState(format!(
                        "Version {target} is scheduled for deletion; cancel its deletion before making it current."
                    )));
                }
            }
            _ => {
                return Err(Error::InvalidParameter(format!(
                    "currentVersionNumber {target} does not name a version of this secret."
                )));
            }
        }
        promote(&mut all, target);
    }
    normalise(&mut all);
    for (i, v) in all.iter().enumerate() {
        let unchanged = before
            .get(i)
            .is_some_and(|(stages, expiry)| *stages == v.stages && *expiry == v.time_of_expiry);
        if !unchanged {
            save_version(tx, v)?;
        }
    }
    if let Some(current) = all.iter().find(|v| v.stages.contains(&Stage::Current)) {
        secret.current_version_number = current.version_number;
        secret.time_of_current_version_expiry = current.time_of_expiry;
    }
    if let Some(d) = change.description {
        secret.description = Some(d);
    }
    if let Some(m) = change.metadata {
        secret.metadata = Some(m);
    }
    if let Some(t) = change.freeform_tags {
        secret.tags.freeform = t;
    }
    if let Some(t) = change.defined_tags {
        secret.tags.defined = t;
    }
    if let Some(g) = change.generation {
        secret.generation = Some(g);
    }
    if let Some(enabled) = change.auto_generation {
        secret.is_auto_generation_enabled = enabled;
    }
    if let Some(config) = change.rotation {
        secret.rotation = Some(Rotation::reconfigure(secret.rotation.take(), config, now));
    }
    secret.etag = new_etag();
    save(tx, &secret)?;
    Ok(secret)
}

/// `ScheduleSecretDeletion`: 1–30 days out (default 30); the secret becomes
/// `PENDING_DELETION` and unreadable as a bundle until cancelled.
pub fn schedule_deletion(
    tx: &Transaction<'_>,
    now: OffsetDateTime,
    mut secret: Secret,
    if_match: Option<&str>,
    requested: Option<OffsetDateTime>,
) -> Result<Secret> {
    for_change(tx, &secret, if_match)?;
    secret.ensure_active("scheduled for deletion")?;
    let at = deletion_time(requested, now, 1, 30, 30)?;
    secret.lifecycle_state = SecretState::PendingDeletion;
    secret.time_of_deletion = Some(at);
    secret.etag = new_etag();
    save(tx, &secret)?;
    Ok(secret)
}

/// `CancelSecretDeletion`: back to `ACTIVE`.
pub fn cancel_deletion(
    tx: &Transaction<'_>,
    mut secret: Secret,
    if_match: Option<&str>,
) -> Result<Secret> {
    for_change(tx, &secret, if_match)?;
    if secret.lifecycle_state != SecretState::PendingDeletion {
        return Err(Error::IncorrectState(format!(
            "Secret {} is in lifecycle state {}; only a secret pending deletion can have its deletion cancelled.",
            secret.id,
            secret.lifecycle_state.as_str()
        )));
    }
    secret.lifecycle_state = SecretState::Active;
    secret.time_of_deletion = None;
    secret.etag = new_etag();
    save(tx, &secret)?;
    Ok(secret)
}

/// How `GetSecretBundle` picks a version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    /// `versionNumber`.
    Number(u64),
    /// `secretVersionName`.
    Name(String),
    /// `stage`.
    Stage(Stage),
}

/// Everything a bundle read needs from the store, fetched in one short
/// transaction; decryption happens afterwards, outside the store's lock.
#[derive(Debug)]
pub struct BundleSource {
    /// The secret.
    pub secret: Secret,
    /// The selected version.
    pub version: SecretVersion,
    /// The key version that wrapped the version's data key.
    pub key_version: KeyVersion,
}

/// Resolves a bundle read: the secret must be `ACTIVE` (pending deletion →
/// 404, as OCI hides it), its key `ENABLED` (409 `IncorrectState`), and the
/// selected version must exist (404).
pub fn bundle_source(
    tx: &Connection,
    secret: Secret,
    selector: &Selector,
    now: OffsetDateTime,
) -> Result<BundleSource> {
    if secret.lifecycle_state != SecretState::Active {
        return Err(Error::NotFound);
    }
    let key = secret_key(tx, &secret, now)?;
    key.ensure_usable()?;
    // A version scheduled for deletion (or deleted) has no bundle: only
    // versions with no deletion time are read, and only the one selected
    // is decoded.
    let version = bundle_version(tx, &secret.id, selector)?.ok_or(Error::NotFound)?;
    if secret.rules.blocks(version.time_of_expiry, now) {
        return Err(Error::Conflict(format!(
            "Version {} of secret {} has expired and its SECRET_EXPIRY_RULE blocks retrieval of its content.",
            version.version_number, secret.id
        )));
    }
    let key_version = keys::version(tx, &key.id, &version.key_version_id)?;
    Ok(BundleSource {
        secret,
        version,
        key_version,
    })
}

/// The version `selector` picks among those with no deletion time (the
/// oldest, should two carry the stage), decoded alone; `None` when none.
/// It reads `secret_version_rows` itself, not the `secret_versions` view,
/// and puts the secret id back in Rust ([`store::splice`]): the view would
/// rebuild every candidate's document with `json_set` before the stage test.
fn bundle_version(
    tx: &Connection,
    secret_id: &str,
    selector: &Selector,
) -> Result<Option<SecretVersion>> {
    macro_rules! readable {
        ($cond:literal) => {
            concat!(
                "SELECT doc FROM secret_version_rows WHERE secret_id = ?1 AND deletion_ns IS NULL AND ",
                $cond,
                " ORDER BY version_number LIMIT 1"
            )
        };
    }
    let (sql, key) = match selector {
        Selector::Number(n) => (
            readable!("version_number = ?2"),
            rusqlite::types::Value::Integer(i64::try_from(*n).unwrap_or(i64::MAX)),
        ),
        Selector::Name(name) => (
            readable!("name = ?2"),
            rusqlite::types::Value::Text(name.clone()),
        ),
        Selector::Stage(stage) => (
            readable!("EXISTS (SELECT 1 FROM json_each(doc, '$.stages') WHERE value = ?2)"),
            rusqlite::types::Value::Text(stage.as_str().to_owned()),
        ),
    };
    let doc: Option<String> = tx
        .prepare_cached(sql)?
        .query_row(params![secret_id, key], |r| r.get(0))
        .optional()?;
    doc.map(|doc| {
        let whole = store::splice(&doc, &[("secretId", Some(secret_id))])?;
        Ok(serde_json::from_slice(&whole)?)
    })
    .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(n: u64, stages: &[Stage]) -> SecretVersion {
        SecretVersion {
            secret_id: "s".into(),
            version_number: n,
            name: None,
            stages: stages.to_vec(),
            time_created: OffsetDateTime::UNIX_EPOCH,
            key_version_id: String::new(),
            wrapped_data_key: String::new(),
            sealed_content: String::new(),
            time_of_expiry: None,
            is_content_auto_generated: false,
            time_of_deletion: None,
        }
    }

    fn stages(all: &[SecretVersion]) -> Vec<Vec<Stage>> {
        all.iter().map(|v| v.stages.clone()).collect()
    }

    #[test]
    fn promotion_moves_current_to_previous_and_previous_to_deprecated() {
        use Stage::*;
        let mut all = vec![v(1, &[Previous]), v(2, &[Current]), v(3, &[Latest])];
        promote(&mut all, 3);
        normalise(&mut all);
        assert_eq!(
            stages(&all),
            vec![vec![Deprecated], vec![Previous], vec![Current, Latest]]
        );
    }

    #[test]
    fn rollback_promotes_an_old_version() {
        use Stage::*;
        let mut all = vec![
            v(1, &[Deprecated]),
            v(2, &[Previous]),
            v(3, &[Current, Latest]),
        ];
        promote(&mut all, 1);
        normalise(&mut all);
        assert_eq!(
            stages(&all),
            vec![vec![Current], vec![Deprecated], vec![Latest, Previous]]
        );
    }

    #[test]
    fn promoting_a_pending_version_clears_pending() {
        use Stage::*;
        let mut all = vec![v(1, &[Current]), v(2, &[Pending, Latest])];
        promote(&mut all, 2);
        normalise(&mut all);
        assert_eq!(stages(&all), vec![vec![Previous], vec![Current, Latest]]);
    }

    #[test]
    fn content_must_be_base64_current_or_pending_and_small() {
        assert!(matches!(
            NewContent::parse(Some("***"), None, None),
            Err(Error::InvalidParameter(_))
        ));
        assert!(matches!(
            NewContent::parse(None, None, None),
            Err(Error::InvalidParameter(_))
        ));
        assert!(matches!(
            NewContent::parse(Some("aGk="), None, Some(Stage::Latest)),
            Err(Error::InvalidParameter(_))
        ));
        let big = B64.encode(vec![0u8; MAX_CONTENT_BYTES + 1]);
        assert!(matches!(
            NewContent::parse(Some(&big), None, None),
            Err(Error::InvalidParameter(_))
        ));
        let ok = NewContent::parse(Some("aGk="), Some("v1".into()), Some(Stage::Pending)).unwrap();
        assert_eq!((&ok.bytes[..], ok.stage), (&b"hi"[..], Stage::Pending));
    }

    /// A page walks an index in its order and stops at its limit: no
    /// temporary sort, so its cost does not grow with the compartment.
    #[test]
    fn a_list_page_is_an_index_walk_without_a_sort() {
        let store = crate::store::Store::in_memory().unwrap();
        for by_name in [false, true] {
            for descending in [false, true] {
                let [own, replicas] = list_sql(by_name, descending);
                let plan_of = |sql: &str| -> Vec<String> {
                    store
                        .blocking_write(|tx| {
                            let mut stmt = tx.prepare(&format!("EXPLAIN QUERY PLAN {sql}"))?;
                            let rows = stmt.query_map(
                                params![
                                    "c",
                                    "",
                                    None::<String>,
                                    None::<String>,
                                    None::<String>,
                                    0,
                                    None::<i64>,
                                    None::<String>,
                                    51
                                ],
                                |r| r.get::<_, String>(3),
                            )?;
                            Ok::<_, crate::store::Error>(
                                rows.collect::<rusqlite::Result<Vec<_>>>()?,
                            )
                        })
                        .unwrap()
                };
                // The replicas seen in a region are few: the query starts
                // from them, never from the compartment's secrets.
                let replica_plan = plan_of(&replicas);
                assert!(
                    replica_plan[0].contains("SEARCH r USING INDEX secret_replicas_by_region"),
                    "{replica_plan:?}"
                );
                let plan = plan_of(&own);
                let index = if by_name {
                    "secrets_by_name"
                } else {
                    "secrets_by_time"
                };
                assert!(plan.iter().any(|l| l.contains(index)), "{plan:?}");
                assert!(!plan.iter().any(|l| l.contains("TEMP B-TREE")), "{plan:?}");
            }
        }
    }

    fn secret(id: &str) -> Secret {
        Secret {
            id: id.into(),
            vault_id: "v".into(),
            compartment_id: "c".into(),
            secret_name: format!("name-{id}"),
            key_id: "k".into(),
            description: None,
            metadata: None,
            lifecycle_state: SecretState::Active,
            current_version_number: 1,
            time_created: OffsetDateTime::UNIX_EPOCH,
            time_of_deletion: None,
            tags: Tags::default(),
            rules: SecretRules::default(),
            generation: None,
            is_auto_generation_enabled: false,
            time_of_current_version_expiry: None,
            region: None,
            replication: None,
            rotation: None,
            etag: "e".into(),
        }
    }

    /// Every stage's `as_str` is the name serde writes.
    #[test]
    fn stage_wire_names_are_serdes() {
        for stage in [
            Stage::Current,
            Stage::Pending,
            Stage::Latest,
            Stage::Previous,
            Stage::Deprecated,
        ] {
            assert_eq!(serde_json::to_value(stage).unwrap(), stage.as_str());
        }
    }

    /// What `save` / `save_version` leave out of a row's document (the
    /// columns' values, members that read back as their default) the
    /// views put back: every secret and version reads back as written,
    /// empty and `null`-holding metadata included.
    #[test]
    fn stored_rows_read_back_whole() {
        let store = crate::store::Store::in_memory().unwrap();
        let bare = secret("s1");
        let mut full = secret("s2");
        full.description = Some(String::new());
        full.metadata = Some(serde_json::Map::new());
        full.is_auto_generation_enabled = true;
        full.time_of_deletion = Some(OffsetDateTime::UNIX_EPOCH);
        let mut nulls = secret("s3");
        nulls.metadata = serde_json::json!({"a": null}).as_object().cloned();
        let mut version = v(1, &[Stage::Current, Stage::Latest]);
        version.secret_id = "s1".into();
        version.name = Some("first".into());
        let mut plain = v(2, &[]);
        plain.secret_id = "s1".into();
        plain.is_content_auto_generated = true;
        store
            .blocking_write(|tx| {
                tx.execute("INSERT INTO vaults VALUES ('v', 'c', 'vk', '{}')", [])?;
                for s in [&bare, &full, &nulls] {
                    save(tx, s).map_err(|e| crate::store::Error::Task(e.to_string()))?;
                }
                for v in [&version, &plain] {
                    save_version(tx, v).map_err(|e| crate::store::Error::Task(e.to_string()))?;
                }
                Ok::<_, crate::store::Error>(())
            })
            .unwrap();
        fn json<T: Serialize>(value: &T) -> serde_json::Value {
            serde_json::to_value(value).unwrap()
        }
        let (read, read_versions, stored, bundled) = store
            .blocking_write(|tx| {
                let bundled: Vec<Option<SecretVersion>> = [
                    Selector::Stage(Stage::Current),
                    Selector::Name("first".into()),
                    Selector::Number(2),
                    Selector::Stage(Stage::Previous),
                ]
                .iter()
                .map(|selector| bundle_version(tx, "s1", selector))
                .collect::<Result<_>>()
                .map_err(|e| crate::store::Error::Task(e.to_string()))?;
                let read: Vec<Secret> = ["s1", "s2", "s3"]
                    .iter()
                    .map(|id| store::get::<Secret>(tx, &SECRETS, id).map(Option::unwrap))
                    .collect::<std::result::Result<_, _>>()?;
                let versions: Vec<SecretVersion> = store::query_docs(
                    tx,
                    "SELECT doc FROM secret_versions ORDER BY version_number",
                    params![],
                )?;
                let stored: String =
                    tx.query_row("SELECT doc FROM secret_rows WHERE id = 's1'", [], |r| {
                        r.get(0)
                    })?;
                Ok::<_, crate::store::Error>((read, versions, stored, bundled))
            })
            .unwrap();
        for (written, read) in [&bare, &full, &nulls].into_iter().zip(&read) {
            assert_eq!(json(written), json(read));
        }
        for (written, read) in [&version, &plain].into_iter().zip(&read_versions) {
            assert_eq!(json(written), json(read));
        }
        // A bundle read splices the secret id in Rust: the same versions.
        let bundled: Vec<Option<serde_json::Value>> =
            bundled.iter().map(|v| v.as_ref().map(json)).collect();
        assert_eq!(
            bundled,
            vec![
                Some(json(&version)),
                Some(json(&version)),
                Some(json(&plain)),
                None
            ]
        );
        assert!(!stored.contains("\"id\""), "{stored}");
        assert!(!stored.contains("\"description\""), "{stored}");
    }

    #[test]
    fn secret_names_allow_ocis_characters_only() {
        assert!(validate_name("db-password_1.prod").is_ok());
        for bad in ["", "has space", "slash/", &"x".repeat(256)] {
            assert!(validate_name(bad).is_err(), "{bad}");
        }
    }
}
