//! Secret management (`VaultsClient`, regional `vaults` host, `/20180608`).
//! Models: <https://docs.oracle.com/en-us/iaas/api/#/en/secretmgmt/20180608/Secret/>.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::common::{self, ser_opt_time, ser_time, TagsIn, TagsOut};
use super::kms_vaults::ScheduleDeletionDetails;
use super::secret_rotation::{RotationConfigIn, RotationFields};
use super::{Ctx, Reply};
use crate::domain::check_etag;
use crate::domain::paging::Cursor;
use crate::domain::retry::idempotent;
use crate::domain::secret_generation::{
    BytesTemplate, GenerationContext, PassphraseTemplate, SshTemplate,
};
use crate::domain::secret_replication::{ReplicationConfig, ReplicationTarget};
use crate::domain::secret_rules::{RuleInput, SecretRules};
use crate::domain::secret_version_deletion;
use crate::domain::secrets::{
    self, ListQuery, NewContent, NewSecret, Secret as DomainSecret, SecretState, SecretUpdate,
    SecretVersion as DomainVersion, Stage,
};
use crate::error::ApiError;
use crate::state::AppState;

/// `SecretContentDetails`, polymorphic on `contentType`; only `BASE64`
/// exists (`Base64SecretContentDetails`). Hand-written `Debug` hides content.
#[derive(Deserialize)]
#[serde(tag = "contentType", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SecretContentDetails {
    /// `Base64SecretContentDetails`.
    Base64 {
        /// Base64 of the secret content.
        content: Option<String>,
        /// Version name.
        name: Option<String>,
        /// `CURRENT` or `PENDING`.
        stage: Option<Stage>,
    },
}

impl std::fmt::Debug for SecretContentDetails {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretContentDetails(..)")
    }
}

impl SecretContentDetails {
    /// The new version this asks for, or `None` when it carries no
    /// `content`: `Base64SecretContentDetails.content` is optional in the
    /// SDK model, and `oci vault secret update-base64` always sends
    /// `{"contentType":"BASE64"}` even when only `--current-version-number`
    /// or `--description` is given. Without content, `stage: CURRENT` (the
    /// default) asks for nothing and is accepted; a `name` or
    /// `stage: PENDING` would describe a version that is not being made, so
    /// it is refused (400 `InvalidParameter`) rather than dropped.
    fn parse(self) -> Result<Option<NewContent>, ApiError> {
        let SecretContentDetails::Base64 {
            content,
            name,
            stage,
        } = self;
        if content.is_none() {
            if name.is_some() || stage.is_some_and(|s| s != Stage::Current) {
                return Err(ApiError::invalid(
                    "secretContent.name and secretContent.stage PENDING need secretContent.content.",
                ));
            }
            return Ok(None);
        }
        Ok(Some(NewContent::parse(content.as_deref(), name, stage)?))
    }
}

/// `SecretRule`, polymorphic on `ruleType` (`SecretExpiryRule`,
/// `SecretReuseRule`), as requests carry it.
#[derive(Debug, Deserialize)]
#[serde(tag = "ruleType", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SecretRuleIn {
    /// `SecretExpiryRule`.
    #[serde(rename_all = "camelCase")]
    SecretExpiryRule {
        /// ISO 8601 days, `P1D`–`P90D`.
        secret_version_expiry_interval: Option<String>,
        /// RFC 3339, 1–365 days ahead.
        time_of_absolute_expiry: Option<String>,
        /// Default false.
        is_secret_content_retrieval_blocked_on_expiry: Option<bool>,
    },
    /// `SecretReuseRule`.
    #[serde(rename_all = "camelCase")]
    SecretReuseRule {
        /// Default false.
        is_enforced_on_deleted_secret_versions: Option<bool>,
    },
}

/// `SecretRule` as responses carry it (discriminator always present).
#[derive(Debug, Serialize)]
#[serde(tag = "ruleType", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SecretRuleOut {
    /// `SecretExpiryRule`.
    #[serde(rename_all = "camelCase")]
    SecretExpiryRule {
        /// `P<n>D`.
        #[serde(skip_serializing_if = "Option::is_none")]
        secret_version_expiry_interval: Option<String>,
        /// RFC 3339.
        #[serde(
            serialize_with = "ser_opt_time",
            skip_serializing_if = "Option::is_none"
        )]
        time_of_absolute_expiry: Option<OffsetDateTime>,
        /// As stored (default false).
        is_secret_content_retrieval_blocked_on_expiry: bool,
    },
    /// `SecretReuseRule`.
    #[serde(rename_all = "camelCase")]
    SecretReuseRule {
        /// As stored (default false).
        is_enforced_on_deleted_secret_versions: bool,
    },
}

/// Validates a request's `secretRules` at `now` (see
/// [`SecretRules::from_inputs`] for the limits; 400 `InvalidParameter`).
fn parse_rules(rules: Vec<SecretRuleIn>, now: OffsetDateTime) -> Result<SecretRules, ApiError> {
    let inputs = rules
        .into_iter()
        .map(|r| {
            Ok(match r {
                SecretRuleIn::SecretExpiryRule {
                    secret_version_expiry_interval,
                    time_of_absolute_expiry,
                    is_secret_content_retrieval_blocked_on_expiry,
                } => RuleInput::Expiry {
                    interval: secret_version_expiry_interval,
                    time_of_absolute_expiry: common::parse_time(
                        "timeOfAbsoluteExpiry",
                        time_of_absolute_expiry.as_deref(),
                    )?,
                    blocked: is_secret_content_retrieval_blocked_on_expiry,
                },
                SecretRuleIn::SecretReuseRule {
                    is_enforced_on_deleted_secret_versions,
                } => RuleInput::Reuse {
                    enforced_on_deleted: is_enforced_on_deleted_secret_versions,
                },
            })
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    Ok(SecretRules::from_inputs(inputs, now)?)
}

/// The wire form of stored rules (expiry first, as a client lists them).
fn rules_out(rules: &SecretRules) -> Vec<SecretRuleOut> {
    let mut out = Vec::new();
    if let Some(e) = &rules.expiry {
        out.push(SecretRuleOut::SecretExpiryRule {
            secret_version_expiry_interval: e.interval_days.map(|d| format!("P{d}D")),
            time_of_absolute_expiry: e.time_of_absolute_expiry,
            is_secret_content_retrieval_blocked_on_expiry: e.blocked_on_expiry,
        });
    }
    if let Some(r) = &rules.reuse {
        out.push(SecretRuleOut::SecretReuseRule {
            is_enforced_on_deleted_secret_versions: r.enforced_on_deleted,
        });
    }
    out
}

/// `SecretGenerationContext` as requests carry it (polymorphic on
/// `generationType`); validated by [`GenerationContext::validate`].
#[derive(Debug, Deserialize)]
#[serde(tag = "generationType", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum GenerationContextIn {
    /// `PassphraseGenerationContext`.
    #[serde(rename_all = "camelCase")]
    Passphrase {
        /// `SECRETS_DEFAULT_PASSWORD` or `DBAAS_DEFAULT_PASSWORD`.
        generation_template: PassphraseTemplate,
        /// Characters.
        #[serde(default, deserialize_with = "common::opt_int")]
        passphrase_length: Option<u32>,
        /// With `%GENERATED_PASSPHRASE%`.
        secret_template: Option<String>,
    },
    /// `SshKeyGenerationContext`.
    #[serde(rename_all = "camelCase")]
    SshKey {
        /// `RSA_2048`, `RSA_3072` or `RSA_4096`.
        generation_template: SshTemplate,
        /// With `%GENERATED_PUBLIC_KEY%` and `%GENERATED_PRIVATE_KEY%`.
        secret_template: Option<String>,
    },
    /// `BytesGenerationContext`.
    #[serde(rename_all = "camelCase")]
    Bytes {
        /// `BYTES_512` or `BYTES_1024`.
        generation_template: BytesTemplate,
        /// With `%GENERATED_BYTES%`.
        secret_template: Option<String>,
    },
}

impl GenerationContextIn {
    fn validated(self) -> Result<GenerationContext, ApiError> {
        let ctx = match self {
            GenerationContextIn::Passphrase {
                generation_template,
                passphrase_length,
                secret_template,
            } => GenerationContext::Passphrase {
                generation_template,
                passphrase_length,
                secret_template,
            },
            GenerationContextIn::SshKey {
                generation_template,
                secret_template,
            } => GenerationContext::SshKey {
                generation_template,
                secret_template,
            },
            GenerationContextIn::Bytes {
                generation_template,
                secret_template,
            } => GenerationContext::Bytes {
                generation_template,
                secret_template,
            },
        };
        ctx.validate()?;
        Ok(ctx)
    }
}

/// `ReplicationConfig` as sent: `replicationTargets` (required) and
/// `isWriteForwardEnabled` (default false).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReplicationConfigIn {
    replication_targets: Vec<ReplicationTargetIn>,
    is_write_forward_enabled: Option<bool>,
}

/// `ReplicationTarget` as sent; all three fields required.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReplicationTargetIn {
    target_key_id: String,
    target_region: String,
    target_vault_id: String,
}

impl ReplicationConfigIn {
    /// The configuration with each `targetRegion` checked against the
    /// tenancy's regions (400 `InvalidParameter` for any other name) and
    /// the emulator's own region stored as `None`. Vaults, keys and names
    /// are checked in the write (`domain::secret_replication::validate`).
    fn checked(self, app: &AppState) -> Result<ReplicationConfig, ApiError> {
        let targets = self
            .replication_targets
            .into_iter()
            .enumerate()
            .map(|(i, t)| {
                if !app.tenancy.has_region(&t.target_region) {
                    return Err(ApiError::invalid(format!(
                        "replicationConfig.replicationTargets[{i}].targetRegion {} is not a region of this tenancy (see the tenancy file's regions).",
                        t.target_region
                    )));
                }
                Ok(ReplicationTarget {
                    region: (t.target_region != app.config.region).then_some(t.target_region),
                    vault_id: t.target_vault_id,
                    key_id: t.target_key_id,
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(ReplicationConfig {
            targets,
            is_write_forward_enabled: self.is_write_forward_enabled.unwrap_or(false),
        })
    }
}

/// `ReplicationConfig` on the wire.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ReplicationConfigOut {
    replication_targets: Vec<ReplicationTargetOut>,
    is_write_forward_enabled: bool,
}

/// `ReplicationTarget` on the wire.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ReplicationTargetOut {
    target_key_id: String,
    target_region: String,
    target_vault_id: String,
}

/// `SourceRegionInformation`: on a replica, where its source is.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct SourceRegionInformation {
    source_key_id: String,
    source_region: String,
    source_vault_id: String,
}

/// `CreateSecretDetails`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateSecretDetails {
    compartment_id: String,
    vault_id: String,
    key_id: String,
    secret_name: String,
    description: Option<String>,
    metadata: Option<serde_json::Map<String, serde_json::Value>>,
    secret_content: Option<SecretContentDetails>,
    enable_auto_generation: Option<bool>,
    secret_generation_context: Option<GenerationContextIn>,
    secret_rules: Option<Vec<SecretRuleIn>>,
    replication_config: Option<ReplicationConfigIn>,
    rotation_config: Option<RotationConfigIn>,
    #[serde(flatten)]
    tags: TagsIn,
}

/// `UpdateSecretDetails`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateSecretDetails {
    #[serde(default, deserialize_with = "common::opt_int")]
    current_version_number: Option<u64>,
    description: Option<String>,
    metadata: Option<serde_json::Map<String, serde_json::Value>>,
    secret_content: Option<SecretContentDetails>,
    secret_rules: Option<Vec<SecretRuleIn>>,
    enable_auto_generation: Option<bool>,
    secret_generation_context: Option<GenerationContextIn>,
    replication_config: Option<ReplicationConfigIn>,
    rotation_config: Option<RotationConfigIn>,
    #[serde(flatten)]
    tags: TagsIn,
}

/// `Secret` (and `SecretSummary`, which carries the same fields here).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Secret {
    id: String,
    compartment_id: String,
    vault_id: String,
    key_id: String,
    secret_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    metadata: Option<serde_json::Map<String, serde_json::Value>>,
    lifecycle_state: SecretState,
    #[serde(skip_serializing_if = "Option::is_none")]
    current_version_number: Option<u64>,
    #[serde(serialize_with = "ser_time")]
    time_created: OffsetDateTime,
    #[serde(
        serialize_with = "ser_opt_time",
        skip_serializing_if = "Option::is_none"
    )]
    time_of_deletion: Option<OffsetDateTime>,
    #[serde(
        serialize_with = "ser_opt_time",
        skip_serializing_if = "Option::is_none"
    )]
    time_of_current_version_expiry: Option<OffsetDateTime>,
    #[serde(skip_serializing_if = "Option::is_none")]
    secret_rules: Option<Vec<SecretRuleOut>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    secret_generation_context: Option<GenerationContext>,
    #[serde(flatten)]
    rotation: RotationFields,
    is_auto_generation_enabled: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    replication_config: Option<ReplicationConfigOut>,
    is_replica: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    source_region_information: Option<SourceRegionInformation>,
    #[serde(flatten)]
    tags: TagsOut,
    /// `systemTags`: on `SecretSummary` only, as the SDK models have it;
    /// the emulator sets none.
    #[serde(skip_serializing_if = "Option::is_none")]
    system_tags: Option<serde_json::Map<String, serde_json::Value>>,
}

/// How the request's region sees a secret: at its own region (`replica`
/// `None`), or as a replica through that replication target. `home` is the
/// emulator's region name, for the regions stored as `None`.
#[derive(Debug, Clone, Copy)]
pub struct Side<'a> {
    replica: Option<&'a ReplicationTarget>,
    home: &'a str,
}

impl<'a> Side<'a> {
    /// The side of the request's resolved secret.
    fn of(app: &'a AppState, ctx: &'a Ctx<'_>) -> Self {
        Self {
            replica: ctx.target.secret_replica.as_ref(),
            home: &app.config.region,
        }
    }

    fn region(&self, region: &'a Option<String>) -> String {
        region.as_deref().unwrap_or(self.home).to_owned()
    }
}

impl Secret {
    /// The wire shape of `s` as `side` sees it: at a replica, its vault and
    /// key are the target's, `isReplica` is true and
    /// `sourceRegionInformation` names the source (a replica has no
    /// `replicationConfig` of its own).
    fn new(s: &DomainSecret, summary: bool, side: Side<'_>) -> Self {
        let (vault_id, key_id) = match side.replica {
            Some(t) => (t.vault_id.clone(), t.key_id.clone()),
            None => (s.vault_id.clone(), s.key_id.clone()),
        };
        let replication_config = match (side.replica, &s.replication) {
            (None, Some(c)) => Some(ReplicationConfigOut {
                replication_targets: c
                    .targets
                    .iter()
                    .map(|t| ReplicationTargetOut {
                        target_key_id: t.key_id.clone(),
                        target_region: side.region(&t.region),
                        target_vault_id: t.vault_id.clone(),
                    })
                    .collect(),
                is_write_forward_enabled: c.is_write_forward_enabled,
            }),
            _ => None,
        };
        Self {
            id: s.id.clone(),
            compartment_id: s.compartment_id.clone(),
            vault_id,
            key_id,
            secret_name: s.secret_name.clone(),
            description: s.description.clone(),
            metadata: if summary { None } else { s.metadata.clone() },
            lifecycle_state: s.lifecycle_state,
            current_version_number: (!summary).then_some(s.current_version_number),
            time_created: s.time_created,
            time_of_deletion: s.time_of_deletion,
            time_of_current_version_expiry: s.time_of_current_version_expiry,
            secret_rules: (!summary).then(|| rules_out(&s.rules)),
            secret_generation_context: s.generation.clone(),
            rotation: RotationFields::new(s.rotation.as_ref()),
            is_auto_generation_enabled: s.is_auto_generation_enabled,
            replication_config,
            is_replica: side.replica.is_some(),
            source_region_information: side.replica.map(|_| SourceRegionInformation {
                source_key_id: s.key_id.clone(),
                source_region: side.region(&s.region),
                source_vault_id: s.vault_id.clone(),
            }),
            tags: (&s.tags).into(),
            system_tags: summary.then(serde_json::Map::new),
        }
    }
}

/// `SecretVersion` (and, with `summary`, `SecretVersionSummary`). The
/// version's expiry is `timeOfCurrentVersionExpiry` on `SecretVersion` but
/// `timeOfExpiry` on `SecretVersionSummary`, as the SDK models name them.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SecretVersion {
    secret_id: String,
    version_number: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    content_type: &'static str,
    stages: Vec<Stage>,
    #[serde(serialize_with = "ser_time")]
    time_created: OffsetDateTime,
    #[serde(
        serialize_with = "ser_opt_time",
        skip_serializing_if = "Option::is_none"
    )]
    time_of_deletion: Option<OffsetDateTime>,
    #[serde(
        serialize_with = "ser_opt_time",
        skip_serializing_if = "Option::is_none"
    )]
    time_of_current_version_expiry: Option<OffsetDateTime>,
    #[serde(
        serialize_with = "ser_opt_time",
        skip_serializing_if = "Option::is_none"
    )]
    time_of_expiry: Option<OffsetDateTime>,
    is_content_auto_generated: bool,
    /// `systemTags`: on `SecretVersionSummary` only; none are set.
    #[serde(skip_serializing_if = "Option::is_none")]
    system_tags: Option<serde_json::Map<String, serde_json::Value>>,
}

impl SecretVersion {
    fn new(v: &DomainVersion, summary: bool) -> Self {
        Self {
            secret_id: v.secret_id.clone(),
            version_number: v.version_number,
            name: v.name.clone(),
            content_type: "BASE64",
            stages: v.stages.clone(),
            time_created: v.time_created,
            time_of_deletion: v.time_of_deletion,
            time_of_current_version_expiry: if summary { None } else { v.time_of_expiry },
            time_of_expiry: if summary { v.time_of_expiry } else { None },
            is_content_auto_generated: v.is_content_auto_generated,
            system_tags: summary.then(serde_json::Map::new),
        }
    }
}

fn reply(s: &DomainSecret, side: Side<'_>) -> Result<Reply, ApiError> {
    Ok(Reply::json(&Secret::new(s, false, side))?.etag(&s.etag))
}

/// `CreateSecret`: `POST /20180608/secrets`.
pub async fn create_secret(app: &AppState, ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    let details: CreateSecretDetails = ctx.json()?;
    ctx.known_compartment(app, &details.compartment_id)?;
    let rules = parse_rules(details.secret_rules.unwrap_or_default(), ctx.now)?;
    let generation = details
        .secret_generation_context
        .map(GenerationContextIn::validated)
        .transpose()?;
    let auto_generation = details.enable_auto_generation == Some(true);
    let rotation = details
        .rotation_config
        .map(RotationConfigIn::validated)
        .transpose()?;
    // With auto-generation, a content-less `secretContent` (what the CLI's
    // `create-base64` always sends) may still name the generated version.
    let (given, version_name) = match details.secret_content {
        Some(SecretContentDetails::Base64 {
            content: None,
            name,
            stage,
        }) if auto_generation => {
            if stage.is_some_and(|s| s != Stage::Current) {
                return Err(ApiError::invalid(
                    "The first version of a secret must have stage CURRENT.",
                ));
            }
            if name.as_ref().is_some_and(|n| n.is_empty() || n.len() > 255) {
                return Err(ApiError::invalid(
                    "secretContent.name must be 1 to 255 characters.",
                ));
            }
            (None, name)
        }
        other => (
            other
                .map(SecretContentDetails::parse)
                .transpose()?
                .flatten(),
            None,
        ),
    };
    let content = match (auto_generation, given, &generation) {
        (true, Some(_), _) => {
            return Err(ApiError::invalid(
                "secretContent.content cannot be given with enableAutoGeneration: true.",
            ))
        }
        (true, None, None) => {
            return Err(ApiError::invalid(
                "enableAutoGeneration: true needs secretGenerationContext.",
            ))
        }
        (true, None, Some(generation)) => {
            // RSA-4096 generation takes a while: off the async workers.
            let generation = generation.clone();
            let bytes = tokio::task::spawn_blocking(move || generation.generate())
                .await
                .map_err(|e| ApiError::internal(&anyhow::anyhow!("generation task: {e}")))??;
            NewContent {
                bytes,
                name: version_name,
                stage: Stage::Current,
                auto_generated: true,
            }
        }
        (false, Some(content), _) => content,
        (false, None, _) => {
            return Err(ApiError::invalid(
                "secretContent.content is required unless enableAutoGeneration is true.",
            ))
        }
    };
    let replication = details
        .replication_config
        .map(|c| c.checked(app))
        .transpose()?;
    let new = NewSecret {
        compartment_id: details.compartment_id,
        vault_id: details.vault_id,
        key_id: details.key_id,
        secret_name: details.secret_name,
        description: details.description,
        metadata: details.metadata,
        content,
        rules,
        generation,
        auto_generation,
        replication,
        rotation,
        tags: details.tags.into_tags()?,
    };
    let (now, scope) = (ctx.now, ctx.retry_scope());
    let region = ctx.region_name(app).to_owned();
    let (vault, key) = (ctx.target.vault.clone(), ctx.target.key.clone());
    let state = app.clone();
    let secret = app
        .store
        .write(move |tx| {
            idempotent(
                tx,
                scope.as_deref(),
                now,
                |tx, id| secrets::get(tx, id, now),
                |tx| {
                    let (vault, key) = (vault.as_ref(), key.as_ref());
                    secrets::create(tx, &state.keyring, now, &region, vault, key, new)
                        .map(|(s, _)| s)
                },
                |s| &s.id,
            )
        })
        .await?;
    reply(&secret, Side::of(app, ctx))
}

/// `GetSecret`: `GET /20180608/secrets/{secretId}` (at a replica region,
/// the replica: `isReplica`, `sourceRegionInformation`).
pub async fn get_secret(app: &AppState, ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    reply(ctx.target.secret()?, Side::of(app, ctx))
}

/// `ListSecrets`: `GET /20180608/secrets?compartmentId=…[&name][&vaultId][&lifecycleState]`.
pub async fn list_secrets(app: &AppState, ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    let compartment = ctx.required_query("compartmentId")?;
    ctx.known_compartment(app, &compartment)?;
    let (name, vault_id) = (ctx.query("name")?, ctx.query("vaultId")?);
    let state = ctx.query("lifecycleState")?.map(|s| s.to_ascii_uppercase());
    const STATES: &[&str] = &[
        "CREATING",
        "ACTIVE",
        "UPDATING",
        "DELETING",
        "DELETED",
        "SCHEDULING_DELETION",
        "PENDING_DELETION",
        "CANCELLING_DELETION",
        "FAILED",
    ];
    if state.as_deref().is_some_and(|s| !STATES.contains(&s)) {
        return Err(ApiError::invalid(format!(
            "lifecycleState must be one of {}.",
            STATES.join(", ")
        )));
    }
    let sort = common::sort(ctx, &["TIMECREATED", "NAME"])?;
    let query = ListQuery {
        compartment_id: compartment,
        region: ctx.region.clone(),
        name,
        vault_id,
        state,
        by_name: sort.by == 1,
        descending: sort.descending,
        after: common::page(ctx)?,
        limit: common::limit(ctx)?,
    };
    let now = ctx.now;
    let (page, next) = app
        .store
        .read(move |tx| secrets::list(tx, &query, now))
        .await?;
    let next = common::next_page(ctx, next)?;
    let home = app.config.region.as_str();
    let items: Vec<Secret> = page
        .iter()
        .map(|(s, replica)| {
            let side = Side {
                replica: replica.as_ref(),
                home,
            };
            Secret::new(s, true, side)
        })
        .collect();
    Ok(Reply::json(&items)?.next_page(next))
}

/// `UpdateSecret`: `PUT /20180608/secrets/{secretId}`.
pub async fn update_secret(app: &AppState, ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    // OCI checks `if-match` before it reads the body: a stale etag answers
    // 412 whatever else the request says.
    check_etag(ctx.if_match(), &ctx.target.secret()?.etag)?;
    let mut details: UpdateSecretDetails = ctx.json()?;
    let current = ctx.target.secret()?;
    let generation = details
        .secret_generation_context
        .map(GenerationContextIn::validated)
        .transpose()?;
    let auto_generation = details
        .enable_auto_generation
        .unwrap_or(current.is_auto_generation_enabled);
    let context = generation.clone().or_else(|| current.generation.clone());
    let content = match (details.secret_content, auto_generation.then_some(context)) {
        (_, Some(None)) => {
            return Err(ApiError::invalid(
                "enableAutoGeneration: true needs secretGenerationContext.",
            ))
        }
        (Some(SecretContentDetails::Base64 { content: Some(_), .. }), Some(Some(_))) => {
            return Err(ApiError::invalid(
                "secretContent.content cannot be given while auto-generation is enabled; send a secretContent with a name or stage PENDING and no content for a generated version.",
            ))
        }
        // With auto-generation on, a content-less secretContent that names
        // a version or stages it PENDING asks for a generated version; with
        // neither it asks for nothing (what `update-base64` always sends).
        (
            Some(SecretContentDetails::Base64 {
                content: None,
                name,
                stage,
            }),
            Some(Some(context)),
        ) if name.is_some() || stage == Some(Stage::Pending) => {
            if name.as_ref().is_some_and(|n| n.is_empty() || n.len() > 255) {
                return Err(ApiError::invalid(
                    "secretContent.name must be 1 to 255 characters.",
                ));
            }
            let bytes = tokio::task::spawn_blocking(move || context.generate())
                .await
                .map_err(|e| ApiError::internal(&anyhow::anyhow!("generation task: {e}")))??;
            Some(NewContent {
                bytes,
                name,
                stage: stage.unwrap_or(Stage::Current),
                auto_generated: true,
            })
        }
        (given, _) => given
            .map(SecretContentDetails::parse)
            .transpose()?
            .flatten(),
    };
    let given = [
        details.current_version_number.is_some(),
        content.is_some(),
        details.secret_rules.is_some(),
    ];
    if given.iter().filter(|g| **g).count() > 1 {
        return Err(ApiError::invalid(secrets::EXCLUSIVE_UPDATE));
    }
    let rules = details
        .secret_rules
        .map(|r| parse_rules(r, ctx.now))
        .transpose()?;
    details.tags = details.tags.checked()?;
    let rotation = details
        .rotation_config
        .map(RotationConfigIn::validated)
        .transpose()?;
    let change = SecretUpdate {
        current_version_number: details.current_version_number,
        content,
        rules,
        description: details.description,
        metadata: details.metadata,
        freeform_tags: details.tags.freeform_map(),
        defined_tags: details.tags.defined_map(),
        replication: details
            .replication_config
            .map(|c| c.checked(app))
            .transpose()?,
        generation,
        auto_generation: details.enable_auto_generation,
        rotation,
    };
    let ((secret, if_match), now) = (ctx.for_write(ctx.target.secret())?, ctx.now);
    let state = app.clone();
    let secret = app
        .store
        .write(move |tx| {
            secrets::update(tx, &state.keyring, now, secret, if_match.as_deref(), change)
        })
        .await?;
    reply(&secret, Side::of(app, ctx))
}

/// `ListSecretVersions`: `GET /20180608/secrets/{secretId}/versions`
/// (newest first by default).
pub async fn list_secret_versions(app: &AppState, ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    let sort = common::sort(ctx, &["VERSION_NUMBER"])?;
    let (id, now) = (ctx.target.secret()?.id.clone(), ctx.now);
    let after = Cursor::version(common::page(ctx)?.as_ref())?;
    let (descending, limit) = (sort.descending, common::limit(ctx)?);
    let (page, next) = app
        .store
        .read(move |tx| secrets::versions_page(tx, &id, now, descending, after, limit))
        .await?;
    let next = common::next_page(ctx, next)?;
    let items: Vec<SecretVersion> = page.iter().map(|v| SecretVersion::new(v, true)).collect();
    Ok(Reply::json(&items)?.next_page(next))
}

/// `GetSecretVersion`: `GET /20180608/secrets/{secretId}/version/{secretVersionNumber}`.
pub async fn get_secret_version(app: &AppState, ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    let number: u64 = ctx
        .param("secretVersionNumber")
        .parse()
        .map_err(|_| ApiError::not_found())?;
    let (id, now) = (ctx.target.secret()?.id.clone(), ctx.now);
    let version = app
        .store
        .read(move |tx| secrets::visible_version(tx, &id, number, now))
        .await?;
    Ok(Reply::json(&SecretVersion::new(&version, false))?.etag(&version.etag()))
}

/// The path's `secretVersionNumber`; 404 when it is not a number.
fn version_number(ctx: &Ctx<'_>) -> Result<u64, ApiError> {
    ctx.param("secretVersionNumber")
        .parse()
        .map_err(|_| ApiError::not_found())
}

/// `ScheduleSecretVersionDeletion`:
/// `POST /20180608/secrets/{secretId}/version/{secretVersionNumber}/actions/scheduleDeletion`
/// with an optional `ScheduleSecretVersionDeletionDetails` (no response
/// body; the version's new etag). Rules in
/// `domain::secret_version_deletion`.
pub async fn schedule_secret_version_deletion(
    app: &AppState,
    ctx: &Ctx<'_>,
) -> Result<Reply, ApiError> {
    let number = version_number(ctx)?;
    let details: ScheduleDeletionDetails = ctx.json_opt()?.unwrap_or_default();
    let at = common::parse_time("timeOfDeletion", details.time_of_deletion.as_deref())?;
    let ((secret, if_match), now) = (ctx.for_write(ctx.target.secret())?, ctx.now);
    let version = app
        .store
        .write(move |tx| {
            secret_version_deletion::schedule(tx, now, &secret, number, if_match.as_deref(), at)
        })
        .await?;
    Ok(Reply::empty().etag(&version.etag()))
}

/// `CancelSecretVersionDeletion`:
/// `POST /20180608/secrets/{secretId}/version/{secretVersionNumber}/actions/cancelDeletion`
/// (no body in either direction; the version's new etag).
pub async fn cancel_secret_version_deletion(
    app: &AppState,
    ctx: &Ctx<'_>,
) -> Result<Reply, ApiError> {
    let number = version_number(ctx)?;
    let ((secret, if_match), now) = (ctx.for_write(ctx.target.secret())?, ctx.now);
    let version = app
        .store
        .write(move |tx| {
            secret_version_deletion::cancel(tx, now, &secret, number, if_match.as_deref())
        })
        .await?;
    Ok(Reply::empty().etag(&version.etag()))
}

/// `ScheduleSecretDeletion`: `POST /20180608/secrets/{secretId}/actions/scheduleDeletion`
/// (no response body).
pub async fn schedule_secret_deletion(app: &AppState, ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    let details: ScheduleDeletionDetails = ctx.json_opt()?.unwrap_or_default();
    let at = common::parse_time("timeOfDeletion", details.time_of_deletion.as_deref())?;
    let ((secret, if_match), now) = (ctx.for_write(ctx.target.secret())?, ctx.now);
    let secret = app
        .store
        .write(move |tx| secrets::schedule_deletion(tx, now, secret, if_match.as_deref(), at))
        .await?;
    Ok(Reply::empty().etag(&secret.etag))
}

/// `CancelSecretDeletion`: `POST /20180608/secrets/{secretId}/actions/cancelDeletion`
/// (no response body).
pub async fn cancel_secret_deletion(app: &AppState, ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    let (secret, if_match) = ctx.for_write(ctx.target.secret())?;
    let secret = app
        .store
        .write(move |tx| secrets::cancel_deletion(tx, secret, if_match.as_deref()))
        .await?;
    Ok(Reply::empty().etag(&secret.etag))
}

/// `ChangeSecretCompartment`:
/// `POST /20180608/secrets/{secretId}/actions/changeCompartment` with
/// `ChangeSecretCompartmentDetails` (`compartmentId`); 200 with no body and
/// the new etag. IAM has checked `SECRET_MOVE`/`SECRET_UPDATE` where the
/// secret is and in the destination (denied there, or not a compartment of
/// the tenancy: 400 `RelatedResourceNotAuthorizedOrNotFound`).
pub async fn change_secret_compartment(app: &AppState, ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    let details: super::kms_vaults::ChangeCompartmentDetails = ctx.json()?;
    ctx.known_destination(app, &details.compartment_id)?;
    let (secret, if_match) = ctx.for_write(ctx.target.secret())?;
    let secret = app
        .store
        .write(move |tx| {
            crate::domain::compartments::move_secret(
                tx,
                secret,
                if_match.as_deref(),
                details.compartment_id,
            )
        })
        .await?;
    Ok(Reply::empty().etag(&secret.etag))
}
