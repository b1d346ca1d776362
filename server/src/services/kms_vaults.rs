//! KMS vault management (`KmsVaultClient`, regional `kms` host, `/20180608`).
//! Models: <https://docs.oracle.com/en-us/iaas/api/#/en/key/release/Vault/>.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::common::{self, ser_opt_time, ser_time, TagsIn, TagsOut};
use super::{Ctx, Reply};
use crate::domain::backup;
use crate::domain::compartments;
use crate::domain::replicas::{self, View};
use crate::domain::retry::idempotent;
use crate::domain::usage;
use crate::domain::vault_deletion;
use crate::domain::vaults::{self, NewVault, Vault as DomainVault, VaultState, VaultType};
use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;

/// `CreateVaultDetails`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateVaultDetails {
    /// `compartmentId`.
    pub compartment_id: String,
    /// `displayName`.
    pub display_name: String,
    /// `vaultType`.
    pub vault_type: VaultType,
    /// Tags.
    #[serde(flatten)]
    pub tags: TagsIn,
}

/// `UpdateVaultDetails`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateVaultDetails {
    /// `displayName`.
    pub display_name: Option<String>,
    /// Tags.
    #[serde(flatten)]
    pub tags: TagsIn,
}

/// `ScheduleVaultDeletionDetails` (also `ScheduleKeyDeletionDetails` and
/// `ScheduleSecretDeletionDetails`: the same one field).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScheduleDeletionDetails {
    /// `timeOfDeletion`, RFC 3339.
    pub time_of_deletion: Option<String>,
}

/// `ChangeVaultCompartmentDetails` (also `ChangeKeyCompartmentDetails` and
/// `ChangeSecretCompartmentDetails`:
/// the same one field).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChangeCompartmentDetails {
    /// `compartmentId`: the compartment to move into.
    pub compartment_id: String,
}

/// `Vault` (responses of Get/Create/Update/Schedule/Cancel).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Vault {
    id: String,
    compartment_id: String,
    display_name: String,
    vault_type: VaultType,
    lifecycle_state: VaultState,
    crypto_endpoint: String,
    management_endpoint: String,
    #[serde(serialize_with = "ser_time")]
    time_created: OffsetDateTime,
    #[serde(
        serialize_with = "ser_opt_time",
        skip_serializing_if = "Option::is_none"
    )]
    time_of_deletion: Option<OffsetDateTime>,
    #[serde(skip_serializing_if = "Option::is_none")]
    restored_from_vault_id: Option<String>,
    /// Note OCI's lowercase `k`.
    wrappingkey_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    replica_details: Option<VaultReplicaDetails>,
    is_primary: bool,
    is_vault_replicable: bool,
    #[serde(flatten)]
    tags: TagsOut,
}

/// `VaultReplicaDetails` (on a vault that has a replica, in both regions).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VaultReplicaDetails {
    /// The `replicationId` of the vault's latest change.
    replication_id: String,
}

/// `VaultSummary` (elements of ListVaults).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VaultSummary {
    id: String,
    compartment_id: String,
    display_name: String,
    vault_type: VaultType,
    lifecycle_state: VaultState,
    crypto_endpoint: String,
    management_endpoint: String,
    #[serde(serialize_with = "ser_time")]
    time_created: OffsetDateTime,
    #[serde(flatten)]
    tags: TagsOut,
}

/// The endpoints (management, crypto) of a vault in the region whose base
/// URL is `regional_base_url` (`Ctx::regional_base_url`), computed per
/// request (never stored, so they stay right behind port mappings and
/// across restarts). A replica's endpoints are the same paths under its
/// region's prefix.
pub fn endpoints(regional_base_url: &str, vault: &DomainVault) -> (String, String) {
    (
        format!("{regional_base_url}/kms/{}/management", vault.vault_key),
        format!("{regional_base_url}/kms/{}/crypto", vault.vault_key),
    )
}

impl Vault {
    /// The vault as the request's region sees it: `isPrimary` is false and
    /// the endpoints are the replica's in its replica region.
    fn new(v: &DomainVault, ctx: &Ctx<'_>) -> Self {
        let (management_endpoint, crypto_endpoint) = endpoints(&ctx.regional_base_url(), v);
        Self {
            id: v.id.clone(),
            compartment_id: v.compartment_id.clone(),
            display_name: v.display_name.clone(),
            vault_type: v.vault_type,
            lifecycle_state: v.lifecycle_state,
            crypto_endpoint,
            management_endpoint,
            time_created: v.time_created,
            time_of_deletion: v.time_of_deletion,
            restored_from_vault_id: v.restored_from_vault_id.clone(),
            wrappingkey_id: v.wrapping_key_id.clone(),
            replica_details: v.replica.as_ref().map(|_| VaultReplicaDetails {
                replication_id: replicas::replication_id(&v.id, &v.etag),
            }),
            is_primary: replicas::view(v, ctx.region.as_deref()) != Some(View::Replica),
            is_vault_replicable: v.vault_type == VaultType::VirtualPrivate,
            tags: (&v.tags).into(),
        }
    }
}

fn reply(v: &DomainVault, ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    Ok(Reply::json(&Vault::new(v, ctx))?.etag(&v.etag))
}

/// `CreateVault`: `POST /20180608/vaults`.
pub async fn create_vault(app: &AppState, ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    let details: CreateVaultDetails = ctx.json()?;
    ctx.known_compartment(app, &details.compartment_id)?;
    common::display_name(&details.display_name)?;
    let new = NewVault {
        region: ctx.region.clone(),
        compartment_id: details.compartment_id,
        display_name: details.display_name,
        vault_type: details.vault_type,
        tags: details.tags.into_tags()?,
    };
    let (now, region, scope) = (ctx.now, ctx.region_name(app).to_owned(), ctx.retry_scope());
    let vault = app
        .store
        .write(move |tx| {
            idempotent(
                tx,
                scope.as_deref(),
                now,
                |tx, id| vaults::get(tx, id, now),
                |tx| vaults::create(tx, now, &region, new),
                |v| &v.id,
            )
        })
        .await?;
    reply(&vault, ctx)
}

/// `GetVault`: `GET /20180608/vaults/{vaultId}`.
pub async fn get_vault(_app: &AppState, ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    reply(ctx.target.vault()?, ctx)
}

/// `ListVaults`: `GET /20180608/vaults?compartmentId=…`, a bare array.
pub async fn list_vaults(app: &AppState, ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    let compartment = ctx.required_query("compartmentId")?;
    ctx.known_compartment(app, &compartment)?;
    let sort = common::sort(ctx, &["TIMECREATED", "DISPLAYNAME"])?;
    let query = vaults::ListQuery {
        compartment_id: compartment,
        region: ctx.region.clone(),
        by_name: sort.by == 1,
        descending: sort.descending,
        after: common::page(ctx)?,
        limit: common::limit(ctx)?,
    };
    let now = ctx.now;
    let (page, next) = app
        .store
        .read(move |tx| vaults::list(tx, &query, now))
        .await?;
    let next = common::next_page(ctx, next)?;
    let base = ctx.regional_base_url();
    let items: Vec<VaultSummary> = page
        .iter()
        .map(|v| {
            let (management_endpoint, crypto_endpoint) = endpoints(&base, v);
            VaultSummary {
                id: v.id.clone(),
                compartment_id: v.compartment_id.clone(),
                display_name: v.display_name.clone(),
                vault_type: v.vault_type,
                lifecycle_state: v.lifecycle_state,
                crypto_endpoint,
                management_endpoint,
                time_created: v.time_created,
                tags: (&v.tags).into(),
            }
        })
        .collect();
    Ok(Reply::json(&items)?.next_page(next))
}

/// `UpdateVault`: `PUT /20180608/vaults/{vaultId}`.
pub async fn update_vault(app: &AppState, ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    let mut details: UpdateVaultDetails = ctx.json()?;
    details.tags = details.tags.checked()?;
    if let Some(name) = &details.display_name {
        common::display_name(name)?;
    }
    let (current, if_match) = ctx.for_write(ctx.target.vault())?;
    let tags = details.tags.merge_into(&current.tags);
    let vault = app
        .store
        .write(move |tx| {
            vaults::update(tx, current, if_match.as_deref(), details.display_name, tags)
        })
        .await?;
    reply(&vault, ctx)
}

/// `ScheduleVaultDeletion`: `POST /20180608/vaults/{vaultId}/actions/scheduleDeletion`.
pub async fn schedule_vault_deletion(app: &AppState, ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    let details: ScheduleDeletionDetails = ctx.json_opt()?.unwrap_or_default();
    let at = common::parse_time("timeOfDeletion", details.time_of_deletion.as_deref())?;
    let ((vault, if_match), now) = (ctx.for_write(ctx.target.vault())?, ctx.now);
    let vault = app
        .store
        .write(move |tx| vault_deletion::schedule(tx, now, vault, if_match.as_deref(), at))
        .await?;
    reply(&vault, ctx)
}

/// `CancelVaultDeletion`: `POST /20180608/vaults/{vaultId}/actions/cancelDeletion`.
pub async fn cancel_vault_deletion(app: &AppState, ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    let ((vault, if_match), now) = (ctx.for_write(ctx.target.vault())?, ctx.now);
    let vault = app
        .store
        .write(move |tx| vault_deletion::cancel(tx, now, vault, if_match.as_deref()))
        .await?;
    reply(&vault, ctx)
}

/// `ChangeVaultCompartment`: `POST /20180608/vaults/{vaultId}/actions/changeCompartment`.
/// 200 with no body (the SDK's response type is none) and the vault's new
/// etag; the destination must be a compartment of the tenancy (400
/// `RelatedResourceNotAuthorizedOrNotFound`), and IAM has checked
/// `VAULT_MOVE` in both compartments.
pub async fn change_vault_compartment(app: &AppState, ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    let details: ChangeCompartmentDetails = ctx.json()?;
    ctx.known_destination(app, &details.compartment_id)?;
    let (vault, if_match) = ctx.for_write(ctx.target.vault())?;
    let vault = app
        .store
        .write(move |tx| {
            compartments::move_vault(tx, vault, if_match.as_deref(), details.compartment_id)
        })
        .await?;
    Ok(Reply::empty().etag(&vault.etag))
}

/// `VaultUsage`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VaultUsage {
    key_count: u64,
    key_version_count: u64,
    software_key_count: u64,
    software_key_version_count: u64,
}

/// `GetVaultUsage`: `GET /20180608/vaults/{vaultId}/usage`: keys and key
/// versions by protection mode, `DELETED` ones excluded (no etag, as OCI).
pub async fn get_vault_usage(app: &AppState, ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    let (vault_id, now) = (ctx.target.vault()?.id.clone(), ctx.now);
    let u = app
        .store
        .read(move |tx| usage::of_vault(tx, &vault_id, now))
        .await?;
    Reply::json(&VaultUsage {
        key_count: u.key_count,
        key_version_count: u.key_version_count,
        software_key_count: u.software_key_count,
        software_key_version_count: u.software_key_version_count,
    })
}

/// `CreateVaultReplicaDetails`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateVaultReplicaDetails {
    /// `replicaRegion`: a region of the tenancy other than the vault's.
    pub replica_region: String,
    /// `replicaVaultMetadata` (polymorphic on `vaultType`, `EXTERNAL` only):
    /// for external vaults, which the emulator does not create, so any
    /// value is refused rather than ignored.
    pub replica_vault_metadata: Option<serde_json::Value>,
}

/// `DeleteVaultReplicaDetails`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeleteVaultReplicaDetails {
    /// `replicaRegion`: the region of the replica to delete.
    pub replica_region: String,
}

/// `VaultReplicaSummary` (elements of ListVaultReplicas).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VaultReplicaSummary {
    crypto_endpoint: String,
    management_endpoint: String,
    region: String,
    /// `CREATED`: the emulator completes a replica before answering.
    status: &'static str,
}

/// A `replicaRegion` checked against the tenancy's regions (400
/// `InvalidParameter` otherwise), as stored: `None` for the emulator's own.
fn replica_region(app: &AppState, name: &str) -> Result<Option<String>, ApiError> {
    if name == app.config.region {
        Ok(None)
    } else if app.tenancy.has_region(name) {
        Ok(Some(name.to_owned()))
    } else {
        Err(ApiError::invalid(
            "replicaRegion is not a region the tenancy is subscribed to (the tenancy file's homeRegion and regions).",
        ))
    }
}

/// `CreateVaultReplica`: `POST /20180608/vaults/{vaultId}/actions/createReplica`.
/// 202 with no body and an `opc-work-request-id`; the replica is `CREATED`
/// at once. Asking for the region the vault is already replicated to is a
/// no-op; another region while one replica exists is 409 `Conflict`.
pub async fn create_vault_replica(app: &AppState, ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    let details: CreateVaultReplicaDetails = ctx.json()?;
    let region = replica_region(app, &details.replica_region)?;
    if details.replica_vault_metadata.is_some() {
        return Err(ApiError::invalid(
            "replicaVaultMetadata applies to EXTERNAL vaults only, which the emulator does not emulate.",
        ));
    }
    let ((vault, if_match), now) = (ctx.for_write(ctx.target.vault())?, ctx.now);
    app.store
        .write(move |tx| replicas::create(tx, now, vault, if_match.as_deref(), region))
        .await?;
    let work_request = crate::domain::new_work_request_id(ctx.region_name(app));
    Ok(Reply::empty().accepted().work_request(&work_request))
}

/// `DeleteVaultReplica`: `POST /20180608/vaults/{vaultId}/actions/deleteReplica`.
/// 202 with no body and an `opc-work-request-id`; the replica is gone at
/// once. 400 when the vault has no replica in that region.
pub async fn delete_vault_replica(app: &AppState, ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    let details: DeleteVaultReplicaDetails = ctx.json()?;
    let region = replica_region(app, &details.replica_region)?;
    let (vault, if_match) = ctx.for_write(ctx.target.vault())?;
    app.store
        .write(move |tx| replicas::delete(tx, vault, if_match.as_deref(), region))
        .await?;
    let work_request = crate::domain::new_work_request_id(ctx.region_name(app));
    Ok(Reply::empty().accepted().work_request(&work_request))
}

/// `ListVaultReplicas`: `GET /20180608/vaults/{vaultId}/actions/listReplicas`,
/// a bare array (at most one replica), with the vault's etag.
pub async fn list_vault_replicas(app: &AppState, ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    // One replica at most: the sort is validated, there is nothing to order.
    common::sort(ctx, &["TIMECREATED", "DISPLAYNAME"])?;
    let vault = ctx.target.vault()?;
    let all: Vec<VaultReplicaSummary> = vault
        .replica
        .iter()
        .map(|r| {
            let base = super::regional_base_url(&ctx.base_url, r.region.as_deref());
            let (management_endpoint, crypto_endpoint) = endpoints(&base, vault);
            VaultReplicaSummary {
                crypto_endpoint,
                management_endpoint,
                region: r
                    .region
                    .clone()
                    .unwrap_or_else(|| app.config.region.clone()),
                status: "CREATED",
            }
        })
        .collect();
    let (page, next) = common::paginate(all, ctx)?;
    Ok(Reply::json(&page)?.next_page(next).etag(&vault.etag))
}

/// `UpdateRegisteredVaultForMtlsDetails`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateRegisteredVaultForMtlsDetails {
    /// `fleetId`.
    pub fleet_id: String,
}

/// `UpdateRegisteredVaultForMtls`: `PUT /20180608/vaults/{vaultId}/updateRegisteredVaultForMtls`.
/// Only a vault registered for mTLS has fleets; the emulator registers
/// none (such vaults sit behind an external key manager's private
/// endpoint), so a well-formed request for an existing vault is 400
/// `InvalidParameter` saying so, and changes nothing.
pub async fn update_registered_vault_for_mtls(
    _app: &AppState,
    ctx: &Ctx<'_>,
) -> Result<Reply, ApiError> {
    let details: UpdateRegisteredVaultForMtlsDetails = ctx.json()?;
    common::display_name(&details.fleet_id)
        .map_err(|_| ApiError::invalid("fleetId must be 1 to 255 characters."))?;
    let vault = ctx.target.vault()?;
    Err(ApiError::invalid(format!(
        "Vault {} is not registered for mTLS (it is a {} vault); only a vault registered for mTLS has a fleet to update.",
        vault.id,
        match vault.vault_type {
            VaultType::Default => "DEFAULT",
            VaultType::VirtualPrivate => "VIRTUAL_PRIVATE",
            VaultType::External => "EXTERNAL",
        }
    )))
}

/// `BackupLocation`, polymorphic on `destination`: where OCI writes a
/// backup (or reads one to restore). The emulator has no Object Storage, so
/// a location is validated, then answered as unreachable.
#[derive(Debug, Deserialize)]
#[serde(tag = "destination")]
pub enum BackupLocation {
    /// `BackupLocationBucket`.
    #[serde(rename = "BUCKET")]
    Bucket {
        /// `namespace`.
        namespace: String,
        /// `bucketName`.
        #[serde(rename = "bucketName")]
        bucket_name: String,
        /// `objectName`.
        #[serde(rename = "objectName")]
        object_name: String,
    },
    /// `BackupLocationURI`: a pre-authenticated request URI (a credential:
    /// never echoed).
    #[serde(rename = "PRE_AUTHENTICATED_REQUEST_URI")]
    PreAuthenticatedRequestUri {
        /// `uri`.
        uri: String,
    },
}

impl BackupLocation {
    /// What OCI answers for a location it cannot reach: the bucket (or the
    /// URI) is a resource named in the body, so 400
    /// `RelatedResourceNotAuthorizedOrNotFound`. The emulator reaches none.
    pub fn unreachable(&self) -> ApiError {
        let what = match self {
            BackupLocation::Bucket {
                namespace,
                bucket_name,
                object_name,
            } => format!(
                "Object {object_name} in bucket {bucket_name} of namespace {namespace} was not found or is not authorized"
            ),
            BackupLocation::PreAuthenticatedRequestUri { uri: _ } => {
                "The pre-authenticated request URI was not found or is not authorized".to_owned()
            }
        };
        ApiError::new(
            ErrorCode::RelatedResourceNotAuthorizedOrNotFound,
            format!(
                "{what} (the emulator has no Object Storage: back up without backupLocation and download the file from /_emulator/backups/<opc-work-request-id>, then use RestoreVaultFromFile / RestoreKeyFromFile)."
            ),
        )
    }
}

/// `BackupVaultDetails` (an optional body).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BackupVaultDetails {
    /// `backupLocation`: absent, the emulator keeps the file (see
    /// `/_emulator/backups`).
    pub backup_location: Option<BackupLocation>,
    /// `isIncludeKeys`: also back up the vault's HSM keys.
    pub is_include_keys: Option<bool>,
}

/// `RestoreVaultFromObjectStoreDetails` (also
/// `RestoreKeyFromObjectStoreDetails` and `BackupKeyDetails`: the same one
/// field).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BackupLocationDetails {
    /// `backupLocation`.
    pub backup_location: Option<BackupLocation>,
}

/// Runs a backup: `make` checks the resource and seals its file inside
/// one write. Without a `backupLocation` the file is kept as the result of
/// a new work request (whose id is returned), under `opc-retry-token` (a
/// retry answers the same work request). With one, the checks still come
/// first, then the location is answered as unreachable and nothing is kept.
pub async fn run_backup(
    app: &AppState,
    ctx: &Ctx<'_>,
    kind: backup::Kind,
    resource_id: String,
    location: Option<BackupLocation>,
    make: impl FnOnce(&rusqlite::Transaction<'_>) -> crate::domain::Result<String> + Send + 'static,
) -> Result<String, ApiError> {
    let keep = location.is_none();
    let scope = if keep { ctx.retry_scope() } else { None };
    let now = ctx.now;
    let work_request = crate::domain::new_work_request_id(ctx.region_name(app));
    let work_request = app
        .store
        .write(move |tx| {
            idempotent(
                tx,
                scope.as_deref(),
                now,
                |tx, id| {
                    backup::stored(tx, id)?
                        .map(|s| s.work_request_id)
                        .ok_or(crate::domain::Error::NotFound)
                },
                |tx| {
                    let file = make(tx)?;
                    if keep {
                        backup::keep(tx, &work_request, kind, &resource_id, &file, now)?;
                    }
                    Ok(work_request)
                },
                |id| id,
            )
        })
        .await?;
    match location {
        Some(location) => Err(location.unreachable()),
        None => Ok(work_request),
    }
}

/// `BackupVault`: `POST /20180608/vaults/{vaultId}/actions/backup`. The
/// vault (a `VIRTUAL_PRIVATE` vault, `ACTIVE`), with `opc-work-request-id`;
/// the file is at `/_emulator/backups/<opc-work-request-id>` (OCI writes it
/// to the `backupLocation`, which the emulator answers as unreachable).
pub async fn backup_vault(app: &AppState, ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    let details: BackupVaultDetails = ctx.json_opt()?.unwrap_or_default();
    let include_keys = details.is_include_keys.unwrap_or(false);
    let (vault, if_match) = ctx.for_write(ctx.target.vault())?;
    let (state, region, now) = (app.clone(), ctx.region_name(app).to_owned(), ctx.now);
    let current = vault.clone();
    let work_request = run_backup(
        app,
        ctx,
        backup::Kind::Vault,
        vault.id.clone(),
        details.backup_location,
        move |tx| {
            backup::backup_vault(
                tx,
                &state.keyring,
                now,
                &vault,
                if_match.as_deref(),
                &region,
                include_keys,
            )
        },
    )
    .await?;
    Ok(reply(&current, ctx)?.work_request(&work_request))
}

/// Checks `content-md5` (when sent) against the body: 400
/// `UnmatchedContentMD5` with OCI's documented message.
fn check_content_md5(ctx: &Ctx<'_>) -> Result<String, ApiError> {
    let actual = crate::crypto::content_md5(&ctx.body);
    match ctx.header("content-md5") {
        Some(given) if given.trim() != actual => Err(ApiError::new(
            ErrorCode::UnmatchedContentMd5,
            format!(
                "The computed MD5 of the request body ({actual}) does not match the Content-MD5 header ({}).",
                given.trim()
            ),
        )),
        _ => Ok(actual),
    }
}

/// The backup file of a restore-from-file request (its octet-stream body,
/// `content-md5` checked); returns the body's MD5 for `opc-content-md5`.
pub fn backup_file(ctx: &Ctx<'_>) -> Result<String, ApiError> {
    if ctx.body.is_empty() {
        return Err(ApiError::new(
            ErrorCode::MissingParameter,
            "The request body (the backup file) is required.",
        ));
    }
    check_content_md5(ctx)
}

/// Where a restore in the request's region puts what it brings back.
pub fn destination(app: &AppState, ctx: &Ctx<'_>) -> backup::Destination {
    backup::Destination {
        region: ctx.region.clone(),
        region_name: ctx.region_name(app).to_owned(),
    }
}

/// `RestoreVaultFromFile`: `POST /20180608/vaults/actions/restoreFromFile?compartmentId=…`
/// with the backup file as an `application/octet-stream` body. The vault,
/// `ACTIVE` in `compartmentId` (same OCID in the backup's region), with
/// `opc-work-request-id` and `opc-content-md5`. 400 for a file that is not
/// a vault backup of this emulator; 409
/// `NotAuthorizedOrResourceAlreadyExists` when the vault exists.
pub async fn restore_vault_from_file(app: &AppState, ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    let compartment = ctx.required_query("compartmentId")?;
    ctx.known_compartment(app, &compartment)?;
    let md5 = backup_file(ctx)?;
    let (now, scope, into, file) = (
        ctx.now,
        ctx.retry_scope(),
        destination(app, ctx),
        ctx.body.clone(),
    );
    let state = app.clone();
    let vault = app
        .store
        .write(move |tx| {
            idempotent(
                tx,
                scope.as_deref(),
                now,
                |tx, id| vaults::get(tx, id, now),
                |tx| backup::restore_vault(tx, &state.keyring, now, &file, compartment, &into),
                |v| &v.id,
            )
        })
        .await?;
    let work_request = crate::domain::new_work_request_id(ctx.region_name(app));
    Ok(reply(&vault, ctx)?
        .work_request(&work_request)
        .header("opc-content-md5", &md5))
}

/// `RestoreVaultFromObjectStore`: `POST /20180608/vaults/actions/restoreFromObjectStore?compartmentId=…`.
/// The location is required and, the emulator having no Object Storage,
/// answered as unreachable.
pub async fn restore_vault_from_object_store(
    app: &AppState,
    ctx: &Ctx<'_>,
) -> Result<Reply, ApiError> {
    let compartment = ctx.required_query("compartmentId")?;
    ctx.known_compartment(app, &compartment)?;
    from_object_store(ctx)
}

/// Restore…FromObjectStore: 400 `MissingParameter` without a
/// `backupLocation`, else the location's unreachable answer.
pub fn from_object_store(ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    let details: BackupLocationDetails = ctx.json_opt()?.unwrap_or_default();
    match details.backup_location {
        Some(location) => Err(location.unreachable()),
        None => Err(ApiError::new(
            ErrorCode::MissingParameter,
            "backupLocation is required: where the backup file is to be read from.",
        )),
    }
}
