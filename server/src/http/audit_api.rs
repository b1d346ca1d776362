//! What each OCI request leaves after it is answered, all built from the
//! pipeline's [`Record`]: its audit event ([`event_of`]), its usage count
//! and what the alert detectors make of it ([`observe`]); and the
//! endpoints that read them: `GET /_emulator/audit`, `GET /_emulator/usage`,
//! `GET /_emulator/alerts`, plus the leak scan, `POST /_emulator/scan`.
//!
//! An event carries metadata only: who (principal, groups, credentials as
//! OCI writes them, address, user agent), what (operation, target OCIDs,
//! the secret version read, query parameters, an allow-list of headers),
//! and how it ended (status, error code, decision, faults). Never a body,
//! so never content, plaintext or key material, and never the
//! `authorization` header.

use std::collections::BTreeMap;

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;

use crate::audit::{self, AdditionalDetails, AuditEvent, Data, Identity};
use crate::domain::audit::{Filter, Row};
use crate::error::ApiError;
use crate::pipeline::Record;
use crate::state::AppState;

/// Request headers an event keeps (everything else, `authorization` first,
/// is left out).
const REQUEST_HEADERS: &[&str] = &[
    "accept",
    "content-type",
    "date",
    "host",
    "opc-client-info",
    "opc-request-id",
    "opc-retry-token",
    "user-agent",
    "x-date",
];
/// Response headers an event keeps.
const RESPONSE_HEADERS: &[&str] = &[
    "etag",
    "opc-next-page",
    "opc-request-id",
    "opc-work-request-id",
];

/// Largest body `POST /_emulator/scan` takes (`scan-logs` posts 4 MiB chunks).
const SCAN_LIMIT: usize = 16 * 1024 * 1024;

/// The routes: `GET /_emulator/audit`, `POST /_emulator/scan`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/_emulator/audit", get(list))
        .route("/_emulator/usage", get(usage))
        .route("/_emulator/alerts", get(alerts))
        .route(
            "/_emulator/scan",
            post(scan).layer(axum::extract::DefaultBodyLimit::max(SCAN_LIMIT)),
        )
}

/// `POST /_emulator/scan` with any body (≤ 16 MiB): builds the value index
/// of every stored secret version (`domain::leak_scan`), scans the body line
/// by line, drops the index, and answers
/// `{"clean": bool, "versionsIndexed": n, "findings": [{"line", "secretId",
/// "versionNumber", "encoding"}]}` (never a value).
async fn scan(State(app): State<AppState>, body: axum::body::Bytes) -> Result<Response, ApiError> {
    let index = app
        .store
        .read(|tx| crate::domain::leak_scan::Index::build(tx, &app.keyring))
        .await?;
    let findings = index.scan(&body);
    let versions = index.versions;
    drop(index);
    Ok(axum::Json(serde_json::json!({
        "clean": findings.is_empty(),
        "versionsIndexed": versions,
        "findings": findings,
    }))
    .into_response())
}

/// The audit row of one OCI request (`None` for a path that routes to no
/// OCI operation: it is not an OCI request).
pub fn event_of(
    app: &AppState,
    record: &Record,
    request_headers: BTreeMap<String, Vec<String>>,
    response_headers: &HeaderMap,
    created: Option<(String, Option<String>)>,
) -> Option<Row> {
    let op = record.operation?;
    let now = app.clock.now();
    let time = crate::clock::format_time(now);
    let target = record.target.as_ref();
    let principal = record.principal.as_ref();
    let compartment_id = target
        .and_then(|t| t.acting_compartment())
        .map(str::to_owned)
        .or_else(|| principal.and_then(|p| p.compartment_id.clone()))
        .unwrap_or_else(|| app.tenancy.id().to_owned());
    let secret = target.and_then(|t| t.secret.as_ref());
    let key = target.and_then(|t| t.key.as_ref());
    let vault = target.and_then(|t| t.vault.as_ref());
    let (resource_id, resource_name) = match (secret, key, vault) {
        (Some(s), _, _) => (Some(s.id.clone()), Some(s.secret_name.clone())),
        (None, Some(k), _) => (Some(k.id.clone()), Some(k.display_name.clone())),
        (None, None, Some(v)) => (Some(v.id.clone()), Some(v.display_name.clone())),
        _ => (None, None),
    };
    // A create's resource is the one it made, not the vault it was made in.
    let (resource_id, resource_name) = match created {
        Some((id, name)) => (Some(id), name),
        None => (resource_id, resource_name),
    };
    let denied = record
        .decision
        .as_ref()
        .is_some_and(|d| d.denial().is_some());
    let fault_rules: Vec<String> = record
        .faults
        .iter()
        .filter(|f| !record.rate_limited.contains(f))
        .cloned()
        .collect();
    let result = audit::result_of(
        record.status,
        denied,
        !fault_rules.is_empty(),
        !record.rate_limited.is_empty(),
    );
    let source = audit::source_of(op.service().as_str());
    let event = AuditEvent {
        event_type: format!("com.oraclecloud.{source}.{}", op.name()),
        cloud_events_version: audit::CLOUD_EVENTS_VERSION.to_owned(),
        event_type_version: audit::EVENT_TYPE_VERSION.to_owned(),
        source: source.to_owned(),
        event_id: uuid(),
        event_time: time.clone(),
        content_type: "application/json".to_owned(),
        data: Data {
            event_grouping_id: Some(record.request_id.clone()),
            event_name: op.name().to_owned(),
            compartment_name: compartment_name(app, &compartment_id),
            compartment_id: compartment_id.clone(),
            resource_name,
            resource_id,
            identity: Identity {
                principal_name: principal.map(|p| p.user_name.clone()),
                principal_id: principal.map(|p| p.user_id.clone()),
                auth_type: principal.map(|p| match p.kind {
                    "user" => "natv".to_owned(),
                    other => other.to_owned(),
                }),
                tenant_id: principal.map(|p| p.tenancy_id.clone()),
                ip_address: record.source_ip.clone(),
                credentials: record.credentials.clone(),
                user_agent: record.user_agent.clone(),
            },
            request: audit::Request {
                id: record.request_id.clone(),
                path: record.path.clone(),
                action: record.method.to_string(),
                parameters: parameters(&record.query),
                headers: request_headers,
            },
            response: audit::Response {
                status: record.status.to_string(),
                response_time: time,
                message: record.code.clone(),
                headers: kept(response_headers, RESPONSE_HEADERS),
            },
            additional_details: AdditionalDetails {
                result: result.to_owned(),
                decision: record
                    .decision
                    .as_ref()
                    .map(|_| if denied { "DENIED" } else { "ALLOWED" }.to_owned()),
                decision_id: record.decision.as_ref().map(|_| record.request_id.clone()),
                error_code: record.code.clone(),
                principal_type: principal.map(|p| p.kind.to_owned()),
                groups: principal
                    .map(|p| p.groups.iter().map(|g| g.name.clone()).collect())
                    .unwrap_or_default(),
                dynamic_groups: principal
                    .map(|p| p.dynamic_groups.iter().map(|g| g.name.clone()).collect())
                    .unwrap_or_default(),
                vault_id: vault.map(|v| v.id.clone()),
                key_id: key.map(|k| k.id.clone()),
                secret_id: secret.map(|s| s.id.clone()),
                secret_version_number: record.secret_version,
                faults: fault_rules,
                rate_limits: record.rate_limited.clone(),
                logging_context: record.logging_context.clone(),
            },
        },
    };
    let doc = serde_json::to_string(&event).ok()?;
    Some(Row {
        time_us: micros(now),
        compartment_id,
        operation: op.name().to_owned(),
        principal_id: principal.map(|p| p.user_id.clone()),
        principal_name: principal.map(|p| p.user_name.clone()),
        secret_id: secret.map(|s| s.id.clone()),
        result: result.to_owned(),
        doc,
    })
}

/// The OCID (and name) of the resource a successful create, import or
/// restore made, read from its JSON answer (`id`, `displayName` or
/// `secretName`); the body is put back as it was. Other answers are not
/// read (and a create's answer never holds secret content or material).
pub async fn created_id(
    outcome: &mut crate::pipeline::Outcome,
) -> Option<(String, Option<String>)> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Made {
        id: String,
        display_name: Option<String>,
        secret_name: Option<String>,
    }
    let op = outcome.record.operation?.name();
    let makes = ["Create", "Import", "Restore"]
        .iter()
        .any(|p| op.starts_with(p))
        && !op.contains("Replica");
    if !makes || outcome.record.status != 200 {
        return None;
    }
    let response = std::mem::take(&mut outcome.response);
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let made = serde_json::from_slice::<Made>(&bytes).ok();
    outcome.response = Response::from_parts(parts, axum::body::Body::from(bytes));
    made.map(|m| (m.id, m.secret_name.or(m.display_name)))
}

fn micros(t: time::OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos() / 1000).unwrap_or(i64::MAX)
}

fn compartment_name(app: &AppState, id: &str) -> Option<String> {
    let file = &app.tenancy.file;
    if id == file.tenancy.id {
        return Some(file.tenancy.name.clone());
    }
    file.compartments
        .iter()
        .find(|c| c.id == id)
        .map(|c| c.name.clone())
}

/// A random UUID (version 4, lowercase, hyphenated), as OCI's `eventId`s
/// are.
fn uuid() -> String {
    uuid::Builder::from_random_bytes(crate::crypto::id_bytes())
        .into_uuid()
        .hyphenated()
        .to_string()
}

fn parameters(query: &str) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    if let Ok(pairs) = serde_urlencoded::from_str::<Vec<(String, String)>>(query) {
        for (k, v) in pairs {
            out.entry(k).or_default().push(v);
        }
    }
    out
}

/// The request headers an event keeps (taken before the pipeline consumes
/// the request).
pub fn request_headers(headers: &HeaderMap) -> BTreeMap<String, Vec<String>> {
    kept(headers, REQUEST_HEADERS)
}

fn kept(headers: &HeaderMap, names: &[&str]) -> BTreeMap<String, Vec<String>> {
    let mut out = BTreeMap::new();
    for name in names {
        let values: Vec<String> = headers
            .get_all(*name)
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_owned))
            .collect();
        if !values.is_empty() {
            out.insert((*name).to_owned(), values);
        }
    }
    out
}

/// The query of `GET /_emulator/audit`.
#[derive(Debug, Deserialize)]
struct AuditQuery {
    operation: Option<String>,
    principal: Option<String>,
    secret: Option<String>,
    result: Option<String>,
    since: Option<String>,
}

/// `GET /_emulator/audit[?operation=&principal=&secret=&result=&since=]`:
/// the stored events matching every filter given, oldest first, as JSON
/// lines (`application/x-ndjson`), each an OCI `AuditEvent`. `principal`
/// is an OCID or a user name; `result` one of `SUCCEEDED`, `DENIED`,
/// `FAILED`, `FAULTED`, `THROTTLED`, `NOT_IMPLEMENTED`; `since` an RFC 3339
/// time (400 `InvalidParameter` otherwise).
async fn list(
    State(app): State<AppState>,
    Query(q): Query<AuditQuery>,
) -> Result<Response, ApiError> {
    let since_us = match q.since.as_deref() {
        None => None,
        Some(t) => Some(micros(
            time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339)
                .map_err(|_| ApiError::invalid("since must be an RFC 3339 date-time."))?,
        )),
    };
    if let Some(r) = &q.result {
        const RESULTS: &[&str] = &[
            "SUCCEEDED",
            "DENIED",
            "FAILED",
            "FAULTED",
            "THROTTLED",
            "NOT_IMPLEMENTED",
        ];
        if !RESULTS.contains(&r.as_str()) {
            return Err(ApiError::invalid(format!(
                "result must be one of {}.",
                RESULTS.join(", ")
            )));
        }
    }
    let filter = Filter {
        operation: q.operation,
        principal: q.principal,
        secret: q.secret,
        result: q.result,
        since_us,
    };
    app.audit.flush().await;
    let docs = app
        .audit
        .store()
        .read(move |tx| crate::domain::audit::filtered(tx, &filter))
        .await?;
    let mut body = String::new();
    for d in docs {
        body.push_str(&d);
        body.push('\n');
    }
    Ok(([(header::CONTENT_TYPE, "application/x-ndjson")], body).into_response())
}

/// Counts `record` in the usage counters and runs the alert detectors on
/// it: each alert raised is logged once at `warn` and counted in the
/// metrics (`oci_emulator_alerts_total{kind}`).
pub fn observe(app: &AppState, record: &Record) {
    let Some(op) = record.operation else {
        return;
    };
    let now = app.clock.now();
    let secret = record.target.as_ref().and_then(|t| t.secret.as_ref());
    let principal = record.principal.as_ref().map(|p| p.user_name.as_str());
    let reads_bundle = matches!(
        op,
        crate::operation::Operation::GetSecretBundle
            | crate::operation::Operation::GetSecretBundleByName
    );
    let bundle_read = reads_bundle && record.status < 400;
    let secret_id = secret.map(|s| s.id.as_str());
    app.usage.observe(
        principal,
        op.name(),
        secret_id,
        bundle_read,
        now.unix_timestamp(),
    );
    let Some(principal) = principal else {
        return;
    };
    let time = crate::clock::format_time(now);
    let seen = crate::audit::alerts::Seen {
        principal,
        operation: op.name(),
        secret_id,
        bundle_read,
        pending_deletion_read: reads_bundle
            && secret.is_some_and(|s| {
                s.lifecycle_state == crate::domain::secrets::SecretState::PendingDeletion
            }),
        failed: record.status >= 400,
        unix_seconds: now.unix_timestamp(),
        time: &time,
        request_id: &record.request_id,
    };
    for alert in app.alerts.observe(&seen) {
        tracing::warn!(
            alert = alert.kind,
            principal = %alert.principal,
            operation = alert.operation,
            secret = alert.secret_id.as_deref().unwrap_or("-"),
            "{}",
            alert.message
        );
        app.telemetry.alert(alert.kind);
    }
}

/// The query of `GET /_emulator/usage`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct UsageQuery {
    runs_per_month: Option<u64>,
    cache_threshold: Option<u64>,
    cache_ttl_seconds: Option<u64>,
}

/// `GET /_emulator/usage[?runsPerMonth=1&cacheThreshold=10&cacheTtlSeconds=60]`:
/// the counters, the resources held, the projected monthly bill at the
/// price file's prices (with its source and date) and the cache advice
/// (`crate::audit::usage`). `runsPerMonth` and `cacheTtlSeconds` must be
/// ≥ 1 (400 `InvalidParameter` otherwise).
async fn usage(
    State(app): State<AppState>,
    Query(q): Query<UsageQuery>,
) -> Result<Response, ApiError> {
    let defaults = crate::audit::usage::Options::default();
    let options = crate::audit::usage::Options {
        runs_per_month: q.runs_per_month.unwrap_or(defaults.runs_per_month),
        threshold: q.cache_threshold.unwrap_or(defaults.threshold),
        cache_ttl_seconds: q.cache_ttl_seconds.unwrap_or(defaults.cache_ttl_seconds),
    };
    if options.runs_per_month == 0 || options.cache_ttl_seconds == 0 {
        return Err(ApiError::invalid(
            "runsPerMonth and cacheTtlSeconds must be at least 1.",
        ));
    }
    let now = app.clock.now();
    let (held, secret_versions) = app
        .store
        .read(|tx| crate::domain::usage::billable(tx, now))
        .await?;
    let held = crate::audit::usage::Held {
        hsm_key_versions: held.key_version_count,
        software_key_versions: held.software_key_version_count,
        secret_versions,
    };
    let report = app.usage.report(&app.prices, held, options);
    Ok(axum::Json(report).into_response())
}

/// `GET /_emulator/alerts`: `{"alerts": [...], "config": {...}}`, the
/// alerts raised since start or reset, oldest first (the last 1,000), each
/// `{"id","kind","time","principal","operation","secretId","requestId",
/// "message"}`, and the detectors' settings in force.
async fn alerts(State(app): State<AppState>) -> Response {
    axum::Json(serde_json::json!({
        "alerts": app.alerts.list(),
        "config": app.alerts.config(),
    }))
    .into_response()
}

#[cfg(test)]
mod tests {
    /// `eventId` is a version 4 UUID as OCI writes one: 36 lowercase
    /// characters, hyphens at 8, 13, 18 and 23, version 4, RFC 4122 variant.
    #[test]
    fn event_ids_are_v4_uuids() {
        let id = super::uuid();
        assert_eq!(id.len(), 36, "{id}");
        for (i, c) in id.chars().enumerate() {
            if matches!(i, 8 | 13 | 18 | 23) {
                assert_eq!(c, '-', "{id}");
            } else {
                assert!(matches!(c, '0'..='9' | 'a'..='f'), "{id}");
            }
        }
        assert_eq!(&id[14..15], "4", "{id}");
        assert!("89ab".contains(&id[19..20]), "{id}");
        assert_ne!(id, super::uuid());
    }
}
