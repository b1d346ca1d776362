//! KMS vault management (`KmsVaultClient`, regional `kms` host, `/20180608`).
//! Models: <https://docs.oracle.com/en-us/iaas/api/#/en/key/release/Vault/>.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::common::{self, ser_opt_time, ser_time, TagsIn, TagsOut};
use super::{Ctx, Reply};
use crate::domain::retry::idempotent;
use crate::domain::vault_deletion;
use crate::domain::vaults::{self, NewVault, Vault as DomainVault, VaultState, VaultType};
use crate::error::ApiError;
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
    /// Note OCI's lowercase `k`.
    wrappingkey_id: String,
    is_primary: bool,
    is_vault_replicable: bool,
    #[serde(flatten)]
    tags: TagsOut,
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

/// The endpoints of a vault, computed from the base URL of this request (never
/// stored, so they stay right behind port mappings and across restarts).
pub fn endpoints(base_url: &str, vault: &DomainVault) -> (String, String) {
    (
        format!("{base_url}/kms/{}/management", vault.vault_key),
        format!("{base_url}/kms/{}/crypto", vault.vault_key),
    )
}

impl Vault {
    fn new(v: &DomainVault, base_url: &str) -> Self {
        let (management_endpoint, crypto_endpoint) = endpoints(base_url, v);
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
            wrappingkey_id: v.wrapping_key_id.clone(),
            is_primary: true,
            is_vault_replicable: v.vault_type == VaultType::VirtualPrivate,
            tags: (&v.tags).into(),
        }
    }
}

fn reply(v: &DomainVault, ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    Ok(Reply::json(&Vault::new(v, &ctx.base_url))?.etag(&v.etag))
}

/// `CreateVault`: `POST /20180608/vaults`.
pub async fn create_vault(app: &AppState, ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    let details: CreateVaultDetails = ctx.json()?;
    ctx.known_compartment(app, &details.compartment_id)?;
    common::display_name(&details.display_name)?;
    let new = NewVault {
        compartment_id: details.compartment_id,
        display_name: details.display_name,
        vault_type: details.vault_type,
        tags: details.tags.into_tags()?,
    };
    let (now, region, scope) = (ctx.now, app.config.region.clone(), ctx.retry_scope());
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
    let now = ctx.now;
    let mut all = app
        .store
        .read(move |tx| vaults::list(tx, &compartment, now))
        .await?;
    sort.apply(&mut all, |x| (x.time_created, &x.display_name, &x.id));
    let (page, next) = common::paginate(all, ctx)?;
    let items: Vec<VaultSummary> = page
        .iter()
        .map(|v| {
            let (management_endpoint, crypto_endpoint) = endpoints(&ctx.base_url, v);
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
