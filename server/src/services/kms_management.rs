//! KMS key management (`KmsManagementClient`), served at each vault's
//! `managementEndpoint`: the vault is the one the endpoint names, never one
//! from the request. Models:
//! <https://docs.oracle.com/en-us/iaas/api/#/en/key/release/Key/>.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::common::{self, ser_opt_time, ser_time, TagsIn, TagsOut};
use super::kms_vaults::{
    backup_file, destination, run_backup, BackupLocationDetails, ChangeCompartmentDetails,
    ScheduleDeletionDetails,
};
use super::{Ctx, Reply};
use crate::crypto::KeyBytes;
use crate::domain::backup;
use crate::domain::compartments;
use crate::domain::key_rotation::{self, AutoRotation, RotationRequest, RotationStatus};
use crate::domain::key_version_deletion;
use crate::domain::keys::{
    self, Algorithm, CurveId, Key as DomainKey, KeyShape as DomainShape, KeyState,
    KeyVersion as DomainVersion, NewKey, Origin, ProtectionMode,
};
use crate::domain::paging::Cursor;
use crate::domain::replicas;
use crate::domain::retry::idempotent;
use crate::domain::vaults;
use crate::domain::wrapping::{self, WrappingAlgorithm};
use crate::error::ApiError;
use crate::state::AppState;

/// `KeyShape`, as sent and returned.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyShape {
    /// `AES`, `RSA` or `ECDSA`.
    pub algorithm: Algorithm,
    /// Bytes (a JSON number or a numeric string, see [`common::int`]).
    #[serde(deserialize_with = "common::int")]
    pub length: u32,
    /// `NIST_P256`, `NIST_P384` or `NIST_P521` (ECDSA only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub curve_id: Option<CurveId>,
}

impl KeyShape {
    /// Validates the shape (400 `InvalidParameter` for a length the
    /// algorithm lacks, or a curve missing or not fitting).
    pub fn parse(&self) -> Result<DomainShape, ApiError> {
        Ok(DomainShape::parse(
            self.algorithm,
            self.length,
            self.curve_id,
        )?)
    }
}

impl From<DomainShape> for KeyShape {
    fn from(s: DomainShape) -> Self {
        Self {
            algorithm: s.algorithm,
            length: s.length,
            curve_id: s.curve_id,
        }
    }
}

/// Fresh material of `shape` (an RSA-4096 key pair takes up to a second),
/// made on the blocking pool before any write opens.
pub async fn new_material(shape: DomainShape) -> Result<KeyBytes, ApiError> {
    tokio::task::spawn_blocking(move || shape.generate())
        .await
        .map_err(|e| ApiError::internal(&anyhow::anyhow!("key generation: {e}")))?
        .map_err(ApiError::from)
}

/// `AutoKeyRotationDetails`, as sent (`CreateKeyDetails`,
/// `UpdateKeyDetails`) and answered (`Key`). Times are RFC 3339 date-times
/// or `YYYY-MM-DD` dates; KMS keeps only the day (see
/// `domain::key_rotation` for the rules).
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AutoKeyRotationDetails {
    /// `rotationIntervalInDays`: 60–365 (a number or a numeric string).
    #[serde(
        default,
        deserialize_with = "common::opt_int",
        skip_serializing_if = "Option::is_none"
    )]
    pub rotation_interval_in_days: Option<u64>,
    /// `timeOfScheduleStart` (default today).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_of_schedule_start: Option<String>,
    /// `timeOfNextRotation`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_of_next_rotation: Option<String>,
    /// `timeOfLastRotation` (set by the service).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_of_last_rotation: Option<String>,
    /// `lastRotationStatus` (set by the service).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_rotation_status: Option<RotationStatus>,
    /// `lastRotationMessage` (set by the service).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_rotation_message: Option<String>,
}

impl From<&AutoRotation> for AutoKeyRotationDetails {
    fn from(r: &AutoRotation) -> Self {
        Self {
            rotation_interval_in_days: Some(u64::from(r.interval_days)),
            time_of_schedule_start: Some(common::format_time(r.time_of_schedule_start)),
            time_of_next_rotation: r.time_of_next_rotation.map(common::format_time),
            time_of_last_rotation: r.time_of_last_rotation.map(common::format_time),
            last_rotation_status: r.last_rotation_status,
            last_rotation_message: r.last_rotation_message.clone(),
        }
    }
}

/// A rotation date as sent: an RFC 3339 date-time, or a `YYYY-MM-DD` date
/// (midnight UTC; the SDK docstrings call these fields dates). 400
/// `InvalidParameter` naming `field` otherwise.
fn parse_date(field: &str, value: Option<&str>) -> Result<Option<OffsetDateTime>, ApiError> {
    let date_only = time::macros::format_description!("[year]-[month]-[day]");
    match value {
        Some(text) => match time::Date::parse(text, date_only) {
            Ok(date) => Ok(Some(date.midnight().assume_utc())),
            Err(_) => common::parse_time(field, Some(text)).map_err(|_| {
                ApiError::invalid(format!(
                    "{field} must be an RFC 3339 date-time or a YYYY-MM-DD date."
                ))
            }),
        },
        None => Ok(None),
    }
}

/// What a create or an update asks of automatic rotation, from
/// `isAutoRotationEnabled` and `autoKeyRotationDetails`.
fn rotation_request(
    enabled: Option<bool>,
    details: Option<AutoKeyRotationDetails>,
) -> Result<RotationRequest, ApiError> {
    let details_given = details.is_some();
    let d = details.unwrap_or_default();
    let field = |name: &str| format!("autoKeyRotationDetails.{name}");
    Ok(RotationRequest {
        enabled,
        details_given,
        interval_days: d.rotation_interval_in_days,
        time_of_schedule_start: parse_date(
            &field("timeOfScheduleStart"),
            d.time_of_schedule_start.as_deref(),
        )?,
        time_of_next_rotation: parse_date(
            &field("timeOfNextRotation"),
            d.time_of_next_rotation.as_deref(),
        )?,
        time_of_last_rotation: parse_date(
            &field("timeOfLastRotation"),
            d.time_of_last_rotation.as_deref(),
        )?,
        last_rotation_status: d.last_rotation_status,
        last_rotation_message: d.last_rotation_message,
    })
}

/// `CreateKeyDetails`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateKeyDetails {
    /// `compartmentId`.
    pub compartment_id: String,
    /// `displayName`.
    pub display_name: String,
    /// `keyShape`.
    pub key_shape: KeyShape,
    /// `protectionMode` (default `HSM`).
    pub protection_mode: Option<ProtectionMode>,
    /// `isAutoRotationEnabled` (VIRTUAL_PRIVATE vaults only).
    pub is_auto_rotation_enabled: Option<bool>,
    /// `autoKeyRotationDetails`.
    pub auto_key_rotation_details: Option<AutoKeyRotationDetails>,
    /// Tags.
    #[serde(flatten)]
    pub tags: TagsIn,
}

/// `UpdateKeyDetails`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateKeyDetails {
    /// `displayName`.
    pub display_name: Option<String>,
    /// `isAutoRotationEnabled` (VIRTUAL_PRIVATE vaults only).
    pub is_auto_rotation_enabled: Option<bool>,
    /// `autoKeyRotationDetails`: given fields replace the stored ones.
    pub auto_key_rotation_details: Option<AutoKeyRotationDetails>,
    /// Tags.
    #[serde(flatten)]
    pub tags: TagsIn,
}

/// `Key`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Key {
    id: String,
    compartment_id: String,
    vault_id: String,
    display_name: String,
    key_shape: KeyShape,
    protection_mode: ProtectionMode,
    lifecycle_state: KeyState,
    current_key_version: String,
    #[serde(serialize_with = "ser_time")]
    time_created: OffsetDateTime,
    #[serde(
        serialize_with = "ser_opt_time",
        skip_serializing_if = "Option::is_none"
    )]
    time_of_deletion: Option<OffsetDateTime>,
    #[serde(skip_serializing_if = "Option::is_none")]
    restored_from_key_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    replica_details: Option<ReplicaDetails>,
    is_primary: bool,
    is_auto_rotation_enabled: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    auto_key_rotation_details: Option<AutoKeyRotationDetails>,
    #[serde(flatten)]
    tags: TagsOut,
}

/// `isAutoRotationEnabled` of a key.
fn auto_rotation_enabled(k: &DomainKey) -> bool {
    k.auto_rotation.as_ref().is_some_and(|r| r.enabled)
}

/// `KeyReplicaDetails` / `KeyVersionReplicaDetails`: on a key or key
/// version of a vault that has a replica.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReplicaDetails {
    /// The `replicationId` of the resource's latest change
    /// (`GetReplicationStatus` takes it).
    replication_id: String,
}

/// Whether the request's region sees the vault of its endpoint as a
/// replica, and the `replicaDetails` of a resource (`id`, `etag`) of a
/// vault that has a replica.
fn replica_view(ctx: &Ctx<'_>, id: &str, etag: &str) -> (bool, Option<ReplicaDetails>) {
    let Some(vault) = &ctx.target.vault else {
        return (true, None);
    };
    let primary = replicas::view(vault, ctx.region.as_deref()) != Some(replicas::View::Replica);
    let details = vault.replica.as_ref().map(|_| ReplicaDetails {
        replication_id: replicas::replication_id(id, etag),
    });
    (primary, details)
}

impl Key {
    /// The key as the request's region sees it (`isPrimary`, `replicaDetails`).
    fn at(mut self, ctx: &Ctx<'_>, etag: &str) -> Self {
        (self.is_primary, self.replica_details) = replica_view(ctx, &self.id, etag);
        self
    }
}

impl From<&DomainKey> for Key {
    fn from(k: &DomainKey) -> Self {
        Self {
            id: k.id.clone(),
            compartment_id: k.compartment_id.clone(),
            vault_id: k.vault_id.clone(),
            display_name: k.display_name.clone(),
            key_shape: k.key_shape.into(),
            protection_mode: k.protection_mode,
            lifecycle_state: k.lifecycle_state,
            current_key_version: k.current_key_version.clone(),
            time_created: k.time_created,
            time_of_deletion: k.time_of_deletion,
            restored_from_key_id: k.restored_from_key_id.clone(),
            replica_details: None,
            is_primary: true,
            is_auto_rotation_enabled: auto_rotation_enabled(k),
            auto_key_rotation_details: k.auto_rotation.as_ref().map(Into::into),
            tags: (&k.tags).into(),
        }
    }
}

/// `KeySummary`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KeySummary {
    id: String,
    compartment_id: String,
    vault_id: String,
    display_name: String,
    lifecycle_state: KeyState,
    protection_mode: ProtectionMode,
    algorithm: Algorithm,
    #[serde(serialize_with = "ser_time")]
    time_created: OffsetDateTime,
    is_auto_rotation_enabled: bool,
    #[serde(flatten)]
    tags: TagsOut,
}

/// `KeyVersion` (and `KeyVersionSummary`, which has the same fields here).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyVersion {
    id: String,
    key_id: String,
    vault_id: String,
    compartment_id: String,
    lifecycle_state: KeyState,
    origin: Origin,
    #[serde(serialize_with = "ser_time")]
    time_created: OffsetDateTime,
    #[serde(
        serialize_with = "ser_opt_time",
        skip_serializing_if = "Option::is_none"
    )]
    time_of_deletion: Option<OffsetDateTime>,
    #[serde(skip_serializing_if = "Option::is_none")]
    public_key: Option<String>,
    restored_from_key_version_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    replica_details: Option<ReplicaDetails>,
    is_primary: bool,
    is_auto_rotated: bool,
}

impl KeyVersion {
    /// The version as the request's region sees it (`isPrimary`, `replicaDetails`).
    fn at(mut self, ctx: &Ctx<'_>, etag: &str) -> Self {
        (self.is_primary, self.replica_details) = replica_view(ctx, &self.id, etag);
        self
    }
}

impl From<&DomainVersion> for KeyVersion {
    fn from(v: &DomainVersion) -> Self {
        Self {
            id: v.id.clone(),
            key_id: v.key_id.clone(),
            vault_id: v.vault_id.clone(),
            compartment_id: v.compartment_id.clone(),
            lifecycle_state: v.lifecycle_state,
            origin: v.origin,
            time_created: v.time_created,
            time_of_deletion: v.time_of_deletion,
            public_key: v.public_key.clone(),
            restored_from_key_version_id: v.restored_from_key_version_id.clone(),
            replica_details: None,
            is_primary: true,
            is_auto_rotated: v.is_auto_rotated,
        }
    }
}

/// A key answered as the request's region sees it, with its etag.
fn key_reply(ctx: &Ctx<'_>, key: &DomainKey) -> Result<Reply, ApiError> {
    Ok(Reply::json(&Key::from(key).at(ctx, &key.etag))?.etag(&key.etag))
}

/// A key version answered as the request's region sees it, with its etag.
fn version_reply(ctx: &Ctx<'_>, version: &DomainVersion) -> Result<Reply, ApiError> {
    let etag = version.etag();
    Ok(Reply::json(&KeyVersion::from(version).at(ctx, &etag))?.etag(&etag))
}

/// `CreateKey`: `POST /20180608/keys` at the vault's management endpoint,
/// with its automatic rotation schedule when asked (`domain::key_rotation`).
pub async fn create_key(app: &AppState, ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    let details: CreateKeyDetails = ctx.json()?;
    ctx.known_compartment(app, &details.compartment_id)?;
    common::display_name(&details.display_name)?;
    let key_shape = details.key_shape.parse()?;
    let material = new_material(key_shape).await?;
    let rotation = rotation_request(
        details.is_auto_rotation_enabled,
        details.auto_key_rotation_details,
    )?;
    let new = NewKey {
        compartment_id: details.compartment_id,
        display_name: details.display_name,
        key_shape,
        protection_mode: details.protection_mode.unwrap_or(ProtectionMode::Hsm),
        tags: details.tags.into_tags()?,
        origin: Origin::Internal,
    };
    create_in_vault(app, ctx, new, material, rotation).await
}

/// The write CreateKey and ImportKey share: the key (with `material` as its
/// first version) in the vault of this endpoint, its rotation schedule,
/// `opc-retry-token` honoured; answered as the request's region sees it.
async fn create_in_vault(
    app: &AppState,
    ctx: &Ctx<'_>,
    new: NewKey,
    material: KeyBytes,
    rotation: RotationRequest,
) -> Result<Reply, ApiError> {
    let (now, region, scope) = (ctx.now, ctx.region_name(app).to_owned(), ctx.retry_scope());
    let vault = ctx.target.vault()?.clone();
    let state = app.clone();
    let key = app
        .store
        .write(move |tx| {
            idempotent(
                tx,
                scope.as_deref(),
                now,
                |tx, id| keys::get(tx, &vault.id, id, now),
                |tx| {
                    let key =
                        keys::create(tx, &state.keyring, now, &region, &vault, new, &material)?;
                    key_rotation::configure(tx, now, &vault, key, rotation)
                },
                |k| &k.id,
            )
        })
        .await?;
    key_reply(ctx, &key)
}

/// `GetKey`: `GET /20180608/keys/{keyId}`.
pub async fn get_key(_app: &AppState, ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    key_reply(ctx, ctx.target.key()?)
}

/// `ListKeys`: `GET /20180608/keys?compartmentId=…`: this vault's keys only,
/// filtered by `algorithm` (AES, RSA, ECDSA), `protectionMode` (HSM,
/// SOFTWARE, EXTERNAL), `length` (bytes, a non-negative integer) and
/// `curveId` (NIST_P256, NIST_P384, NIST_P521), as in the SDK's `list_keys`;
/// any other value of those is 400 `InvalidParameter`.
pub async fn list_keys(app: &AppState, ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    let compartment = ctx.required_query("compartmentId")?;
    ctx.known_compartment(app, &compartment)?;
    let sort = common::sort(ctx, &["TIMECREATED", "DISPLAYNAME"])?;
    let algorithm = ctx.query_enum("algorithm", &["AES", "RSA", "ECDSA"])?;
    let protection = ctx.query_enum("protectionMode", &["HSM", "SOFTWARE", "EXTERNAL"])?;
    let curve = ctx.query_enum("curveId", &["NIST_P256", "NIST_P384", "NIST_P521"])?;
    let length = ctx.query_number("length")?;
    let query = keys::ListQuery {
        vault_id: ctx.target.vault()?.id.clone(),
        compartment_id: compartment,
        algorithm,
        protection_mode: protection,
        length,
        curve_id: curve,
        by_name: sort.by == 1,
        descending: sort.descending,
        after: common::page(ctx)?,
        limit: common::limit(ctx)?,
    };
    let now = ctx.now;
    let (page, next) = app
        .store
        .read(move |tx| keys::list(tx, &query, now))
        .await?;
    let next = common::next_page(ctx, next)?;
    let items: Vec<KeySummary> = page
        .iter()
        .map(|k| KeySummary {
            id: k.id.clone(),
            compartment_id: k.compartment_id.clone(),
            vault_id: k.vault_id.clone(),
            display_name: k.display_name.clone(),
            lifecycle_state: k.lifecycle_state,
            protection_mode: k.protection_mode,
            algorithm: k.key_shape.algorithm,
            time_created: k.time_created,
            is_auto_rotation_enabled: auto_rotation_enabled(k),
            tags: (&k.tags).into(),
        })
        .collect();
    Ok(Reply::json(&items)?.next_page(next))
}

/// `UpdateKey`: `PUT /20180608/keys/{keyId}`: display name, tags and the
/// automatic rotation schedule (`domain::key_rotation`).
pub async fn update_key(app: &AppState, ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    let mut details: UpdateKeyDetails = ctx.json()?;
    details.tags = details.tags.checked()?;
    if let Some(name) = &details.display_name {
        common::display_name(name)?;
    }
    let rotation = rotation_request(
        details.is_auto_rotation_enabled,
        details.auto_key_rotation_details,
    )?;
    let (current, if_match) = ctx.for_write(ctx.target.key())?;
    let (vault, now) = (ctx.target.vault()?.clone(), ctx.now);
    let tags = details.tags.merge_into(&current.tags);
    let name = details.display_name;
    let key = app
        .store
        .write(move |tx| {
            let key = keys::update(tx, current, if_match.as_deref(), name, tags)?;
            key_rotation::configure(tx, now, &vault, key, rotation)
        })
        .await?;
    key_reply(ctx, &key)
}

/// Runs a state change of the key in the path, inside one write, with the
/// vault this management endpoint names, the request's time and `if-match`.
async fn change_key(
    app: &AppState,
    ctx: &Ctx<'_>,
    change: impl FnOnce(
            &rusqlite::Transaction<'_>,
            OffsetDateTime,
            &vaults::Vault,
            DomainKey,
            Option<&str>,
        ) -> crate::domain::Result<DomainKey>
        + Send
        + 'static,
) -> Result<Reply, ApiError> {
    let (vault, now) = (ctx.target.vault()?.clone(), ctx.now);
    let (key, if_match) = ctx.for_write(ctx.target.key())?;
    let key = app
        .store
        .write(move |tx| change(tx, now, &vault, key, if_match.as_deref()))
        .await?;
    key_reply(ctx, &key)
}

/// `EnableKey` / `DisableKey`: `POST /20180608/keys/{keyId}/actions/enable|disable`.
pub async fn set_key_enabled(
    app: &AppState,
    ctx: &Ctx<'_>,
    enabled: bool,
) -> Result<Reply, ApiError> {
    change_key(app, ctx, move |tx, _, _, key, if_match| {
        keys::set_enabled(tx, key, if_match, enabled)
    })
    .await
}

/// `ScheduleKeyDeletion`: `POST /20180608/keys/{keyId}/actions/scheduleDeletion`.
pub async fn schedule_key_deletion(app: &AppState, ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    let details: ScheduleDeletionDetails = ctx.json_opt()?.unwrap_or_default();
    let at = common::parse_time("timeOfDeletion", details.time_of_deletion.as_deref())?;
    change_key(app, ctx, move |tx, now, _, key, if_match| {
        keys::schedule_deletion(tx, now, key, if_match, at)
    })
    .await
}

/// `CancelKeyDeletion`: `POST /20180608/keys/{keyId}/actions/cancelDeletion`.
pub async fn cancel_key_deletion(app: &AppState, ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    change_key(app, ctx, |tx, _, vault, key, if_match| {
        keys::cancel_deletion(tx, vault, key, if_match)
    })
    .await
}

/// `CreateKeyVersion`: `POST /20180608/keys/{keyId}/keyVersions` (rotation).
pub async fn create_key_version(app: &AppState, ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    let material = new_material(ctx.target.key()?.key_shape).await?;
    add_current_version(app, ctx, material, Origin::Internal, None).await
}

/// The write CreateKeyVersion and ImportKeyVersion share: `material` as the
/// key's new current version (`keys::rotate`), `opc-retry-token` honoured.
async fn add_current_version(
    app: &AppState,
    ctx: &Ctx<'_>,
    material: KeyBytes,
    origin: Origin,
    tags: Option<crate::domain::Tags>,
) -> Result<Reply, ApiError> {
    let (key, now, region, scope) = (
        ctx.target.key()?.clone(),
        ctx.now,
        ctx.region_name(app).to_owned(),
        ctx.retry_scope(),
    );
    let state = app.clone();
    let version = app
        .store
        .write(move |tx| {
            let key_id = key.id.clone();
            idempotent(
                tx,
                scope.as_deref(),
                now,
                |tx, version_id| keys::version(tx, &key_id, version_id),
                |tx| {
                    keys::rotate(
                        tx,
                        &state.keyring,
                        now,
                        &region,
                        key,
                        &material,
                        origin,
                        tags,
                    )
                },
                |v| &v.id,
            )
        })
        .await?;
    version_reply(ctx, &version)
}

/// `ListKeyVersions`: `GET /20180608/keys/{keyId}/keyVersions`.
pub async fn list_key_versions(app: &AppState, ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    // The SDKs offer DISPLAYNAME too; key versions have no name, so it
    // keeps creation order (ascending by default, as for names).
    let sort = common::sort(ctx, &["TIMECREATED", "DISPLAYNAME"])?;
    let (id, now) = (ctx.target.key()?.id.clone(), ctx.now);
    let after = Cursor::version(common::page(ctx)?.as_ref())?;
    let (descending, limit) = (sort.descending, common::limit(ctx)?);
    // Creation order; ties in time keep it.
    let (page, next) = app
        .store
        .read(move |tx| keys::versions_page(tx, &id, now, descending, after, limit))
        .await?;
    let next = common::next_page(ctx, next)?;
    let items: Vec<KeyVersion> = page
        .iter()
        .map(|v| KeyVersion::from(v).at(ctx, &v.etag()))
        .collect();
    Ok(Reply::json(&items)?.next_page(next))
}

/// `GetKeyVersion`: `GET /20180608/keys/{keyId}/keyVersions/{keyVersionId}`.
pub async fn get_key_version(app: &AppState, ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    let (key_id, now) = (ctx.target.key()?.id.clone(), ctx.now);
    let version_id = ctx.param("keyVersionId").to_owned();
    let version = app
        .store
        .read(move |tx| keys::version_at(tx, &key_id, &version_id, now))
        .await?;
    version_reply(ctx, &version)
}

/// `ScheduleKeyVersionDeletion`:
/// `POST /20180608/keys/{keyId}/keyVersions/{keyVersionId}/actions/scheduleDeletion`
/// with an optional `ScheduleKeyVersionDeletionDetails` (`timeOfDeletion`,
/// 7–30 days out, default 30). Answers the `KeyVersion`, `PENDING_DELETION`,
/// with its etag; rules in `domain::key_version_deletion`.
pub async fn schedule_key_version_deletion(
    app: &AppState,
    ctx: &Ctx<'_>,
) -> Result<Reply, ApiError> {
    let details: ScheduleDeletionDetails = ctx.json_opt()?.unwrap_or_default();
    let at = common::parse_time("timeOfDeletion", details.time_of_deletion.as_deref())?;
    let ((key, if_match), now) = (ctx.for_write(ctx.target.key())?, ctx.now);
    let version_id = ctx.param("keyVersionId").to_owned();
    let version = app
        .store
        .write(move |tx| {
            key_version_deletion::schedule(tx, now, &key, &version_id, if_match.as_deref(), at)
        })
        .await?;
    version_reply(ctx, &version)
}

/// `CancelKeyVersionDeletion`:
/// `POST /20180608/keys/{keyId}/keyVersions/{keyVersionId}/actions/cancelDeletion`
/// (no body). Answers the `KeyVersion`, `ENABLED` again, with its etag.
pub async fn cancel_key_version_deletion(app: &AppState, ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    let ((key, if_match), now) = (ctx.for_write(ctx.target.key())?, ctx.now);
    let version_id = ctx.param("keyVersionId").to_owned();
    let version = app
        .store
        .write(move |tx| {
            key_version_deletion::cancel(tx, now, &key, &version_id, if_match.as_deref())
        })
        .await?;
    version_reply(ctx, &version)
}

/// `WrappedImportKey`: key material wrapped to the vault's wrapping key.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WrappedImportKey {
    /// Base64 of the wrapped material.
    key_material: String,
    /// How it was wrapped.
    wrapping_algorithm: WrappingAlgorithm,
}

/// `ImportKeyDetails`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportKeyDetails {
    compartment_id: String,
    display_name: String,
    key_shape: KeyShape,
    wrapped_import_key: WrappedImportKey,
    protection_mode: Option<ProtectionMode>,
    is_auto_rotation_enabled: Option<bool>,
    auto_key_rotation_details: Option<AutoKeyRotationDetails>,
    #[serde(flatten)]
    tags: TagsIn,
}

/// `ImportKeyVersionDetails`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportKeyVersionDetails {
    wrapped_import_key: WrappedImportKey,
    #[serde(flatten)]
    tags: TagsIn,
}

/// `WrappingKey`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WrappingKeyOut {
    compartment_id: String,
    id: String,
    lifecycle_state: KeyState,
    public_key: String,
    #[serde(serialize_with = "ser_time")]
    time_created: OffsetDateTime,
    vault_id: String,
}

/// The vault's wrapping key, made (on the blocking pool, then stored) the
/// first time it is asked for.
async fn wrapping_key(app: &AppState, ctx: &Ctx<'_>) -> Result<wrapping::WrappingKey, ApiError> {
    let vault = ctx.target.vault()?.clone();
    let vault_id = vault.id.clone();
    if let Some(key) = app
        .store
        .read(move |tx| wrapping::find(tx, &vault_id))
        .await?
    {
        return Ok(key);
    }
    vault.ensure_active()?;
    let material = tokio::task::spawn_blocking(wrapping::generate)
        .await
        .map_err(|e| ApiError::internal(&anyhow::anyhow!("key generation: {e}")))??;
    let (state, now) = (app.clone(), ctx.now);
    Ok(app
        .store
        .write(move |tx| wrapping::get_or_create(tx, &state.keyring, now, &vault, &material))
        .await?)
}

/// `GetWrappingKey`: `GET /20180608/wrappingKeys` at the vault's management
/// endpoint: the RSA-4096 public key (PEM) to wrap imported material to.
pub async fn get_wrapping_key(app: &AppState, ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    let key = wrapping_key(app, ctx).await?;
    Reply::json(&WrappingKeyOut {
        compartment_id: key.compartment_id,
        id: key.id,
        lifecycle_state: KeyState::Enabled,
        public_key: key.public_key,
        time_created: key.time_created,
        vault_id: key.vault_id,
    })
}

/// Unwraps `WrappedImportKey` with the vault's wrapping key and checks the
/// material fits `shape` (400 `InvalidParameter` otherwise). AES material
/// may come either way; RSA and ECDSA private keys only with
/// `RSA_OAEP_AES_SHA256`, as Oracle's import guide says.
async fn unwrapped(
    app: &AppState,
    ctx: &Ctx<'_>,
    wrapped: WrappedImportKey,
    shape: DomainShape,
) -> Result<KeyBytes, ApiError> {
    use base64::Engine as _;
    if shape.algorithm != Algorithm::Aes
        && wrapped.wrapping_algorithm == WrappingAlgorithm::RsaOaepSha256
    {
        return Err(ApiError::invalid(
            "An RSA or ECDSA private key is imported with wrappingAlgorithm RSA_OAEP_AES_SHA256.",
        ));
    }
    let bytes = crate::crypto::B64
        .decode(wrapped.key_material.trim())
        .map_err(|_| ApiError::invalid("wrappedImportKey.keyMaterial must be base64."))?;
    let key = wrapping_key(app, ctx).await?;
    let state = app.clone();
    let algorithm = wrapped.wrapping_algorithm;
    let material = tokio::task::spawn_blocking(move || {
        wrapping::unwrap(&state.keyring, &key, algorithm, &bytes)
    })
    .await
    .map_err(|e| ApiError::internal(&anyhow::anyhow!("unwrap task: {e}")))??;
    shape.check_material(&material)?;
    Ok(material)
}

/// `ImportKey`: `POST /20180608/keys/import`: a new key whose first version
/// is the caller's material (origin `EXTERNAL`).
pub async fn import_key(app: &AppState, ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    let details: ImportKeyDetails = ctx.json()?;
    ctx.known_compartment(app, &details.compartment_id)?;
    common::display_name(&details.display_name)?;
    let key_shape = details.key_shape.parse()?;
    let protection_mode = details.protection_mode.unwrap_or(ProtectionMode::Hsm);
    if protection_mode == ProtectionMode::External {
        return Err(ApiError::invalid(
            "protectionMode must be HSM or SOFTWARE for an imported key.",
        ));
    }
    let rotation = rotation_request(
        details.is_auto_rotation_enabled,
        details.auto_key_rotation_details,
    )?;
    let material = unwrapped(app, ctx, details.wrapped_import_key, key_shape).await?;
    let new = NewKey {
        compartment_id: details.compartment_id,
        display_name: details.display_name,
        key_shape,
        protection_mode,
        tags: details.tags.into_tags()?,
        origin: Origin::External,
    };
    create_in_vault(app, ctx, new, material, rotation).await
}

/// `ImportKeyVersion`: `POST /20180608/keys/{keyId}/keyVersions/import`: a
/// new current version of the caller's material (origin `EXTERNAL`).
pub async fn import_key_version(app: &AppState, ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    let details: ImportKeyVersionDetails = ctx.json()?;
    let tags = details.tags.into_tags()?;
    let shape = ctx.target.key()?.key_shape;
    let material = unwrapped(app, ctx, details.wrapped_import_key, shape).await?;
    let tags = (tags != crate::domain::Tags::default()).then_some(tags);
    add_current_version(app, ctx, material, Origin::External, tags).await
}

/// `ChangeKeyCompartment`: `POST /20180608/keys/{keyId}/actions/changeCompartment`.
/// 200 with no body (the SDK's response type is none) and the key's new
/// etag; its versions move with it. The destination must be a compartment
/// of the tenancy (400 `RelatedResourceNotAuthorizedOrNotFound`), and IAM
/// has checked `KEY_MOVE` in both compartments.
pub async fn change_key_compartment(app: &AppState, ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    let details: ChangeCompartmentDetails = ctx.json()?;
    ctx.known_destination(app, &details.compartment_id)?;
    let (key, if_match) = ctx.for_write(ctx.target.key())?;
    let key = app
        .store
        .write(move |tx| {
            compartments::move_key(tx, key, if_match.as_deref(), details.compartment_id)
        })
        .await?;
    Ok(Reply::empty().etag(&key.etag))
}

/// `ReplicationStatusDetails`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReplicationStatusDetails {
    replica_details: Vec<ReplicaStatus>,
}

/// `ReplicaDetails` (an element of `ReplicationStatusDetails.replicaDetails`).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReplicaStatus {
    region: String,
    /// `REPLICATED`: the emulator replicates before it answers.
    status: &'static str,
}

/// `GetReplicationStatus`: `GET /20180608/replicaOperations/{replicationId}/status`
/// at a vault's management endpoint: `REPLICATED` in the replica's region
/// for the current `replicationId` of the vault or one of its keys or key
/// versions; 404 for any other id, and in a vault without a replica.
pub async fn get_replication_status(app: &AppState, ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    let vault = ctx.target.vault()?.clone();
    let (replication_id, now) = (ctx.param("replicationId").to_owned(), ctx.now);
    let region = app
        .store
        .read(move |tx| replicas::status(tx, &vault, &replication_id, now))
        .await?;
    let details = ReplicationStatusDetails {
        replica_details: vec![ReplicaStatus {
            region: region.unwrap_or_else(|| app.config.region.clone()),
            status: "REPLICATED",
        }],
    };
    Reply::json(&details)
}

/// `BackupKey`: `POST /20180608/keys/{keyId}/actions/backup`. The key (HSM,
/// `ENABLED` or `DISABLED`, in a `VIRTUAL_PRIVATE` vault) with
/// `opc-work-request-id`; the file (the key, all its versions, its vault's
/// metadata) is at `/_emulator/backups/<opc-work-request-id>` (OCI writes
/// it to the `backupLocation`, which the emulator answers as unreachable).
pub async fn backup_key(app: &AppState, ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    let details: BackupLocationDetails = ctx.json_opt()?.unwrap_or_default();
    let vault = ctx.target.vault()?.clone();
    let (key, if_match) = ctx.for_write(ctx.target.key())?;
    let (state, region, now) = (app.clone(), ctx.region_name(app).to_owned(), ctx.now);
    let current = key.clone();
    let work_request = run_backup(
        app,
        ctx,
        backup::Kind::Key,
        key.id.clone(),
        details.backup_location,
        move |tx| {
            backup::backup_key(
                tx,
                &state.keyring,
                now,
                &vault,
                &key,
                if_match.as_deref(),
                &region,
            )
        },
    )
    .await?;
    Ok(key_reply(ctx, &current)?.work_request(&work_request))
}

/// `RestoreKeyFromFile`: `POST /20180608/keys/actions/restoreFromFile` at
/// the management endpoint of the key's vault, with the backup file as an
/// `application/octet-stream` body. The key with all its versions (same
/// OCIDs in the backup's region), with `opc-work-request-id` and
/// `opc-content-md5`. 404 at another vault's endpoint; 409
/// `NotAuthorizedOrResourceAlreadyExists` when the key exists.
pub async fn restore_key_from_file(app: &AppState, ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    let md5 = backup_file(ctx)?;
    let vault = ctx.target.vault()?.clone();
    let (now, scope, into, file) = (
        ctx.now,
        ctx.retry_scope(),
        destination(app, ctx),
        ctx.body.clone(),
    );
    let state = app.clone();
    let key = app
        .store
        .write(move |tx| {
            let vault_id = vault.id.clone();
            idempotent(
                tx,
                scope.as_deref(),
                now,
                |tx, id| keys::get(tx, &vault_id, id, now),
                |tx| backup::restore_key(tx, &state.keyring, now, &file, &vault, &into),
                |k| &k.id,
            )
        })
        .await?;
    let work_request = crate::domain::new_work_request_id(ctx.region_name(app));
    Ok(key_reply(ctx, &key)?
        .work_request(&work_request)
        .header("opc-content-md5", &md5))
}
