//! The emulator's console and what it reads (not OCI APIs; unsigned, like
//! health). Everything here is metadata: names, OCIDs, states, stages,
//! times, counts. Never secret content, key material or a sealed blob: the
//! views below name each field they show, so a new stored field stays out
//! until someone adds it here on purpose.
//!
//! - `GET /_emulator/ui`: the console (HTML, JS and CSS compiled into the
//!   binary from `http/ui/`; no CDN, no build step).
//! - `GET /_emulator/metrics`: Prometheus metrics (OpenMetrics text), see
//!   [`crate::telemetry`].
//! - `GET /_emulator/requests?limit=N`: the last OCI calls, newest first
//!   (at most [`RECENT_CAPACITY`]; `limit` 1 to that, default all kept).
//! - `GET /_emulator/inventory/vaults`: `{"counts": {"vaults","keys",
//!   "secrets"}, "vaults": [… + "keyCount", "secretCount"]}`.
//! - `GET /_emulator/inventory/vaults/{vaultId}/keys`: the vault's keys.
//! - `GET /_emulator/inventory/vaults/{vaultId}/secrets?offset&limit&name`:
//!   `{"total", "offset", "limit", "items"}`, ordered by name, `name` a
//!   substring filter; `limit` 1–500 (default 50).
//! - `GET /_emulator/inventory/secrets/{secretId}/versions`: the versions,
//!   oldest first, with their stages.
//!
//! Bad input is a 400 `InvalidParameter`; an unknown vault or secret a 404
//! `NotFound`, in OCI's `{"code","message"}` shape.

use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::clock::format_time;
use crate::domain::{self, catalog, keys::Key, secrets::Secret};
use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;
use crate::telemetry::{StoreCounts, METRICS_CONTENT_TYPE, RECENT_CAPACITY};

/// The console's page, script and style sheet.
const INDEX_HTML: &str = include_str!("ui/index.html");
const CONSOLE_JS: &str = include_str!("ui/console.js");
const CONSOLE_CSS: &str = include_str!("ui/console.css");

/// Only our own script and style run on the page; nothing is fetched from
/// elsewhere.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// Default and largest page of `…/secrets`.
const DEFAULT_PAGE: u32 = 50;
const MAX_PAGE: u32 = 500;

/// The routes, merged into the main router.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/_emulator/ui", get(index))
        .route("/_emulator/ui/", get(index))
        .route("/_emulator/ui/console.js", get(script))
        .route("/_emulator/ui/console.css", get(style))
        .route("/_emulator/metrics", get(metrics))
        .route("/_emulator/requests", get(requests))
        .route("/_emulator/inventory/vaults", get(vaults))
        .route("/_emulator/inventory/vaults/{vault_id}/keys", get(keys))
        .route(
            "/_emulator/inventory/vaults/{vault_id}/secrets",
            get(secrets),
        )
        .route(
            "/_emulator/inventory/secrets/{secret_id}/versions",
            get(versions),
        )
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

async fn index() -> Response {
    asset("text/html; charset=utf-8", INDEX_HTML)
}

async fn script() -> Response {
    asset("text/javascript; charset=utf-8", CONSOLE_JS)
}

async fn style() -> Response {
    asset("text/css; charset=utf-8", CONSOLE_CSS)
}

async fn store_counts(app: &AppState) -> Result<StoreCounts, ApiError> {
    let (vaults, keys, secrets) = app.store.read(domain::state::counts).await?;
    Ok(StoreCounts {
        vaults,
        keys,
        secrets,
    })
}

async fn metrics(State(app): State<AppState>) -> Result<Response, ApiError> {
    let text = app.telemetry.encode(store_counts(&app).await?);
    let mut response = text.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(METRICS_CONTENT_TYPE),
    );
    Ok(response)
}

/// Parses a query string into `T`; a bad one is a 400 naming the problem.
fn query<T: serde::de::DeserializeOwned>(raw: Option<String>) -> Result<T, ApiError> {
    serde_urlencoded::from_str(raw.as_deref().unwrap_or(""))
        .map_err(|e| ApiError::invalid(format!("Invalid query: {e}.")))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RequestsQuery {
    limit: Option<usize>,
}

async fn requests(
    State(app): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let q: RequestsQuery = query(raw)?;
    let limit = q.limit.unwrap_or(RECENT_CAPACITY);
    if !(1..=RECENT_CAPACITY).contains(&limit) {
        return Err(ApiError::invalid(format!(
            "limit must be 1 to {RECENT_CAPACITY}."
        )));
    }
    Ok(Json(json!({
        "capacity": RECENT_CAPACITY,
        "items": app.telemetry.recent(limit),
    }))
    .into_response())
}

fn time(t: Option<time::OffsetDateTime>) -> Value {
    t.map_or(Value::Null, |t| Value::String(format_time(t)))
}

async fn vaults(State(app): State<AppState>) -> Result<Response, ApiError> {
    let now = app.clock.now();
    let counts = store_counts(&app).await?;
    let entries = app.store.read(|tx| catalog::vaults(tx, now)).await?;
    let vaults: Vec<Value> = entries
        .iter()
        .map(|e| {
            let v = &e.vault;
            json!({
                "id": v.id,
                "displayName": v.display_name,
                "compartmentId": v.compartment_id,
                "vaultType": v.vault_type,
                "lifecycleState": v.lifecycle_state,
                "timeCreated": format_time(v.time_created),
                "timeOfDeletion": time(v.time_of_deletion),
                "keyCount": e.keys,
                "secretCount": e.secrets,
            })
        })
        .collect();
    Ok(Json(json!({
        "now": format_time(now),
        "counts": {"vaults": counts.vaults, "keys": counts.keys, "secrets": counts.secrets},
        "vaults": vaults,
    }))
    .into_response())
}

fn not_found(what: &str) -> ApiError {
    ApiError::new(ErrorCode::NotFound, format!("No {what} has this OCID."))
}

/// A key's metadata (no material, sealed or not).
fn key_view(k: &Key) -> Value {
    json!({
        "id": k.id,
        "displayName": k.display_name,
        "compartmentId": k.compartment_id,
        "algorithm": k.key_shape.algorithm,
        "length": k.key_shape.length,
        "protectionMode": k.protection_mode,
        "lifecycleState": k.lifecycle_state,
        "currentKeyVersion": k.current_key_version,
        "timeCreated": format_time(k.time_created),
        "timeOfDeletion": time(k.time_of_deletion),
    })
}

async fn keys(
    State(app): State<AppState>,
    Path(vault_id): Path<String>,
) -> Result<Response, ApiError> {
    let now = app.clock.now();
    let keys = app
        .store
        .read(|tx| {
            if domain::vaults::find(tx, &vault_id, now)?.is_none() {
                return Ok(None);
            }
            domain::keys::in_vault(tx, &vault_id, now).map(Some)
        })
        .await?
        .ok_or_else(|| not_found("vault"))?;
    let mut keys = keys;
    keys.sort_by(|a, b| (a.time_created, &a.id).cmp(&(b.time_created, &b.id)));
    Ok(Json(json!({"items": keys.iter().map(key_view).collect::<Vec<_>>()})).into_response())
}

/// A secret's metadata (its versions' content is never read here).
fn secret_view(s: &Secret) -> Value {
    json!({
        "id": s.id,
        "secretName": s.secret_name,
        "vaultId": s.vault_id,
        "compartmentId": s.compartment_id,
        "keyId": s.key_id,
        "description": s.description,
        "lifecycleState": s.lifecycle_state,
        "currentVersionNumber": s.current_version_number,
        "timeCreated": format_time(s.time_created),
        "timeOfDeletion": time(s.time_of_deletion),
    })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SecretsQuery {
    offset: Option<u32>,
    limit: Option<u32>,
    name: Option<String>,
}

async fn secrets(
    State(app): State<AppState>,
    Path(vault_id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let q: SecretsQuery = query(raw)?;
    let offset = q.offset.unwrap_or(0);
    let limit = q.limit.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ApiError::invalid(format!("limit must be 1 to {MAX_PAGE}.")));
    }
    let name = q.name.unwrap_or_default();
    let now = app.clock.now();
    let page = app
        .store
        .read(|tx| {
            if domain::vaults::find(tx, &vault_id, now)?.is_none() {
                return Ok(None);
            }
            catalog::secrets_page(tx, &vault_id, &name, offset, limit, now).map(Some)
        })
        .await?
        .ok_or_else(|| not_found("vault"))?;
    Ok(Json(json!({
        "total": page.total,
        "offset": offset,
        "limit": limit,
        "items": page.secrets.iter().map(secret_view).collect::<Vec<_>>(),
    }))
    .into_response())
}

async fn versions(
    State(app): State<AppState>,
    Path(secret_id): Path<String>,
) -> Result<Response, ApiError> {
    let now = app.clock.now();
    let (secret, versions) = app
        .store
        .read(|tx| {
            let Some(secret) = domain::secrets::find(tx, &secret_id, now)? else {
                return Ok(None);
            };
            let versions = domain::secrets::visible_versions(tx, &secret_id, now)?;
            Ok::<_, domain::Error>(Some((secret, versions)))
        })
        .await?
        .ok_or_else(|| not_found("secret"))?;
    // Named fields only: the stored version also holds the wrapped data key
    // and the sealed content, which stay out.
    let items: Vec<Value> = versions
        .iter()
        .map(|v| {
            json!({
                "versionNumber": v.version_number,
                "name": v.name,
                "stages": v.stages,
                "timeCreated": format_time(v.time_created),
                "timeOfDeletion": v.time_of_deletion.map(format_time),
                "keyVersionId": v.key_version_id,
            })
        })
        .collect();
    Ok(Json(json!({"secret": secret_view(&secret), "items": items})).into_response())
}
