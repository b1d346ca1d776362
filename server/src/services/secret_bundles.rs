//! Secret retrieval (`SecretsClient`, regional `secrets.vaults` host,
//! `/20190301`). Models:
//! <https://docs.oracle.com/en-us/iaas/api/#/en/secretretrieval/20190301/SecretBundle/>.
//!
//! The hot path: one short store read, then AES-GCM outside the store's lock
//! with the master key material cached unsealed in the keyring.

use base64::Engine as _;
use serde::Serialize;
use time::OffsetDateTime;

use super::common::{self, ser_opt_time, ser_time};
use super::{Ctx, Reply};
use crate::crypto::B64;
use crate::domain::paging::Cursor;
use crate::domain::secrets::{self, BundleSource, Selector, Stage};
use crate::error::ApiError;
use crate::state::AppState;

/// `Base64SecretBundleContentDetails` (discriminator always present).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SecretBundleContentDetails {
    content_type: &'static str,
    content: String,
}

/// `SecretBundle`. Carries content, so it has no `Debug`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SecretBundle {
    secret_id: String,
    version_number: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    version_name: Option<String>,
    #[serde(serialize_with = "ser_time")]
    time_created: OffsetDateTime,
    stages: Vec<Stage>,
    #[serde(
        serialize_with = "ser_opt_time",
        skip_serializing_if = "Option::is_none"
    )]
    time_of_expiry: Option<OffsetDateTime>,
    secret_bundle_content: SecretBundleContentDetails,
    #[serde(skip_serializing_if = "Option::is_none")]
    metadata: Option<serde_json::Map<String, serde_json::Value>>,
}

/// `SecretBundleVersionSummary`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct SecretBundleVersionSummary {
    secret_id: String,
    version_number: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    version_name: Option<String>,
    #[serde(serialize_with = "ser_time")]
    time_created: OffsetDateTime,
    stages: Vec<Stage>,
    #[serde(
        serialize_with = "ser_opt_time",
        skip_serializing_if = "Option::is_none"
    )]
    time_of_deletion: Option<OffsetDateTime>,
    #[serde(
        serialize_with = "ser_opt_time",
        skip_serializing_if = "Option::is_none"
    )]
    time_of_expiry: Option<OffsetDateTime>,
}

/// The version selector from `versionNumber`, `secretVersionName` or
/// `stage` (at most one; none = `CURRENT`).
fn selector(ctx: &Ctx<'_>) -> Result<Selector, ApiError> {
    let number = ctx.query_number("versionNumber")?;
    let name = ctx.query("secretVersionName")?;
    let stage = ctx
        .query("stage")?
        .map(|s| {
            serde_json::from_value::<Stage>(serde_json::Value::String(s.to_ascii_uppercase()))
                .map_err(|_| {
                    ApiError::invalid(
                        "stage must be one of CURRENT, PENDING, LATEST, PREVIOUS, DEPRECATED.",
                    )
                })
        })
        .transpose()?;
    let given = [number.is_some(), name.is_some(), stage.is_some()]
        .iter()
        .filter(|g| **g)
        .count();
    if given > 1 {
        return Err(ApiError::invalid(
            "Give at most one of versionNumber, secretVersionName and stage.",
        ));
    }
    Ok(match (number, name, stage) {
        (Some(n), _, _) => Selector::Number(n),
        (_, Some(name), _) => Selector::Name(name),
        (_, _, Some(stage)) => Selector::Stage(stage),
        _ => Selector::Stage(Stage::Current),
    })
}

fn bundle_reply(app: &AppState, source: BundleSource, with_etag: bool) -> Result<Reply, ApiError> {
    let content = secrets::open_content(&app.keyring, &source.version, &source.key_version)?;
    let bundle = SecretBundle {
        secret_id: source.secret.id.clone(),
        version_number: source.version.version_number,
        version_name: source.version.name.clone(),
        time_created: source.version.time_created,
        stages: source.version.stages.clone(),
        time_of_expiry: source.version.time_of_expiry,
        secret_bundle_content: SecretBundleContentDetails {
            content_type: "BASE64",
            content: B64.encode(&*content),
        },
        metadata: source.secret.metadata.clone(),
    };
    let reply = Reply::json(&bundle)?.secret_version(source.version.version_number);
    Ok(if with_etag {
        reply.etag(&source.secret.etag)
    } else {
        reply
    })
}

/// `GetSecretBundle`: `GET /20190301/secretbundles/{secretId}`.
pub async fn get_secret_bundle(app: &AppState, ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    let selector = selector(ctx)?;
    let (secret, now) = (ctx.target.secret()?.clone(), ctx.now);
    let source = app
        .store
        .read(move |tx| secrets::bundle_source(tx, secret, &selector, now))
        .await?;
    bundle_reply(app, source, true)
}

/// `GetSecretBundleByName`: `POST /20190301/secretbundles/actions/getByName?secretName=…&vaultId=…`
/// (no body; no etag in the response).
pub async fn get_secret_bundle_by_name(app: &AppState, ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    ctx.required_query("secretName")?;
    ctx.required_query("vaultId")?;
    let selector = selector(ctx)?;
    let (secret, now) = (ctx.target.secret()?.clone(), ctx.now);
    let source = app
        .store
        .read(move |tx| secrets::bundle_source(tx, secret, &selector, now))
        .await?;
    bundle_reply(app, source, false)
}

/// `ListSecretBundleVersions`: `GET /20190301/secretbundles/{secretId}/versions`
/// (metadata only, newest first by default).
pub async fn list_secret_bundle_versions(app: &AppState, ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    let sort = common::sort(ctx, &["VERSION_NUMBER"])?;
    let secret = ctx.target.secret()?;
    if secret.lifecycle_state != secrets::SecretState::Active {
        return Err(ApiError::not_found());
    }
    let (id, now) = (secret.id.clone(), ctx.now);
    let after = Cursor::version(common::page(ctx)?.as_ref())?;
    let (descending, limit) = (sort.descending, common::limit(ctx)?);
    let (page, next) = app
        .store
        .read(move |tx| secrets::versions_page(tx, &id, now, descending, after, limit))
        .await?;
    let next = common::next_page(ctx, next)?;
    let items: Vec<SecretBundleVersionSummary> = page
        .iter()
        .map(|v| SecretBundleVersionSummary {
            secret_id: v.secret_id.clone(),
            version_number: v.version_number,
            version_name: v.name.clone(),
            time_created: v.time_created,
            stages: v.stages.clone(),
            time_of_deletion: v.time_of_deletion,
            time_of_expiry: v.time_of_expiry,
        })
        .collect();
    Ok(Reply::json(&items)?.next_page(next))
}
