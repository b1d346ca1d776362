//! The HTTP side: the request pipeline every OCI call goes through, and the
//! emulator's own `/_emulator/` endpoints.
//!
//! Pipeline (DESIGN.md), each step once, in [`oci_request`]:
//! request id → endpoint and route (the [`Operation`]) → body → authenticate
//! (signature → principal) → faults and rate limits (`faults`) → authorise
//! (targets resolved, policies evaluated, decision recorded: `iam::authz`)
//! → handler (`services`) → response headers → one log line. `beforeAuth`
//! fault rules fire right after routing.

pub mod iam_admin;
pub mod signature;

use std::time::Instant;

use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};

use crate::app::AppState;
use crate::error::{ApiError, ErrorCode};
use crate::faults;
use crate::operation::{route, Operation, Route, Service};
use crate::services::{self, Ctx, Endpoint};

/// The router: `/_emulator/health`, then every other path is an OCI call.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/_emulator/health", get(health))
        .merge(services::emulator_admin::routes())
        .merge(crate::faults::api::routes())
        .merge(iam_admin::routes())
        .fallback(oci_request)
        .with_state(state)
}

/// `GET /_emulator/health`: 200 with status, version, region, store kind.
async fn health(State(app): State<AppState>) -> Json<serde_json::Value> {
    Json(serde_json::json!({
        "status": "healthy",
        "version": env!("CARGO_PKG_VERSION"),
        "region": app.config.region,
        "store": app.store.kind(),
        "tenancy": app.tenancy.id(),
        "uptimeSeconds": app.started.elapsed().as_secs(),
    }))
}

/// The `opc-request-id` for a request: the client's when it sent one
/// (OCI echoes it), else 32 uppercase hex characters like the SDK's.
fn request_id(headers: &HeaderMap) -> String {
    headers
        .get("opc-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 256)
        .map(str::to_owned)
        .unwrap_or_else(|| {
            let bytes = crate::crypto::random_bytes(16);
            bytes.iter().map(|b| format!("{b:02X}")).collect()
        })
}

/// Splits a per-vault endpoint off a request: path style
/// `/kms/<vault-key>/management/20180608/…`, or host style
/// `<vault-key>-management.kms.<anything>`. Returns the endpoint and the
/// OCI API path that remains.
pub fn endpoint_of<'a>(host: Option<&str>, path: &'a str) -> (Endpoint, &'a str) {
    if let Some(rest) = path.strip_prefix("/kms/") {
        if let Some((vault_key, rest)) = rest.split_once('/') {
            if let Some(api) = rest.strip_prefix("management") {
                if api.is_empty() || api.starts_with('/') {
                    return (Endpoint::Management(vault_key.to_owned()), api);
                }
            }
            if let Some(api) = rest.strip_prefix("crypto") {
                if api.is_empty() || api.starts_with('/') {
                    return (Endpoint::Crypto(vault_key.to_owned()), api);
                }
            }
        }
    }
    if let Some(host) = host {
        let name = host.split(':').next().unwrap_or(host);
        if let Some((label, rest)) = name.split_once('.') {
            if rest.starts_with("kms.") {
                if let Some(vk) = label.strip_suffix("-management") {
                    return (Endpoint::Management(vk.to_owned()), path);
                }
                if let Some(vk) = label.strip_suffix("-crypto") {
                    return (Endpoint::Crypto(vk.to_owned()), path);
                }
            }
        }
    }
    (Endpoint::Regional, path)
}

/// Whether an operation is served at this kind of endpoint.
fn served_at(service: Service, endpoint: &Endpoint) -> bool {
    matches!(
        (service, endpoint),
        (Service::KmsManagement, Endpoint::Management(_))
            | (Service::KmsCrypto, Endpoint::Crypto(_))
            | (
                Service::KmsVault | Service::VaultSecrets | Service::Secrets | Service::Audit,
                Endpoint::Regional
            )
    )
}

/// Every OCI call: the pipeline described in the module doc.
async fn oci_request(State(app): State<AppState>, request: Request) -> Response {
    let started = Instant::now();
    let (parts, body) = request.into_parts();
    let request_id = request_id(&parts.headers);
    let path = parts.uri.path().to_owned();
    let method = parts.method.clone();
    let host = parts
        .headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned);
    let mut operation: Option<Operation> = None;
    let mut fired = faults::Applied::default();
    let result = pipeline(&app, parts, body, &request_id, &mut operation, &mut fired).await;
    let mut response = match result {
        Ok(response) => response,
        Err(error) => error.into_response(),
    };
    fired.stamp(&mut response);
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert("opc-request-id", value);
    }
    crate::iam::authz::annotate(&app, host.as_deref(), &request_id, &mut response);
    tracing::info!(
        opc_request_id = %request_id,
        method = %method,
        path = %path,
        operation = operation.map(Operation::name).unwrap_or("-"),
        status = response.status().as_u16(),
        duration_us = started.elapsed().as_micros() as u64,
        "request"
    );
    response
}

async fn pipeline(
    app: &AppState,
    parts: axum::http::request::Parts,
    body: Body,
    request_id: &str,
    operation: &mut Option<Operation>,
    fired: &mut faults::Applied,
) -> Result<Response, ApiError> {
    let host = parts
        .headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned);
    let (endpoint, api_path) = endpoint_of(host.as_deref(), parts.uri.path());
    let (op, params) = match route(&parts.method, api_path) {
        Route::Found(op, params) if served_at(op.service(), &endpoint) => (op, params),
        Route::MethodNotAllowed => {
            return Err(ApiError::new(ErrorCode::MethodNotAllowed, "The method is not allowed on this resource."))
        }
        _ => {
            return Err(ApiError::new(
                ErrorCode::NotFound,
                "There is no operation at this path and method (check the endpoint: key and crypto calls go to a vault's managementEndpoint / cryptoEndpoint).",
            ))
        }
    };
    *operation = Some(op);
    if app.faults.is_active() {
        let target = faults::Target::bare(op);
        let stage = faults::Stage::BeforeAuth;
        if let Some(r) =
            faults::step(app, stage, &target, &parts.extensions, request_id, fired).await
        {
            return Ok(r);
        }
    }
    let body = read_body(&parts.headers, body, app.config.max_body_bytes).await?;

    let path_and_query = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    let signed = signature::SignedRequest {
        method: &parts.method,
        path_and_query,
        headers: &parts.headers,
        body: &body,
    };
    let verified = signature::verify(&signed, &app.tenancy, time::OffsetDateTime::now_utc())
        .map_err(|e| {
            tracing::info!(opc_request_id = %request_id, reason = %e, "authentication failed");
            ApiError::from(e)
        })?;
    let principal = app.tenancy.principal(&verified.key_id).ok_or_else(|| {
        ApiError::from(signature::AuthError::UnknownKey("key has no user".into()))
    })?;
    if app.faults.is_active() {
        // Faults decided here act before authorisation, as on a real outage.
        let query = parts.uri.query();
        let target = faults::target::resolve(app, op, &params, query, &body, &principal).await;
        let stage = faults::Stage::AfterAuth;
        if let Some(r) =
            faults::step(app, stage, &target, &parts.extensions, request_id, fired).await
        {
            return Ok(r);
        }
    }

    if !op.spec().implemented {
        return Err(ApiError::new(
            ErrorCode::MethodNotImplemented,
            format!("{} is not implemented by the emulator yet.", op.name()),
        ));
    }
    let query = parts.uri.query().unwrap_or("");
    crate::iam::authz::authorize(
        app, request_id, op, &params, query, &body, &endpoint, &principal,
    )
    .await?;
    let base_url = match &app.config.public_url {
        Some(url) => url.trim_end_matches('/').to_owned(),
        None => format!("http://{}", host.as_deref().unwrap_or("127.0.0.1")),
    };
    let ctx = Ctx {
        operation: op,
        params,
        query: parts.uri.query().unwrap_or("").to_owned(),
        headers: parts.headers,
        body,
        principal,
        endpoint,
        base_url,
    };
    let result = services::dispatch(app, &ctx)
        .await
        .map(IntoResponse::into_response);
    fired.after_handler(result)
}

/// How long a client may take to send its body once the headers are in.
const BODY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// Reads the body: over `limit` bytes (declared in `content-length` or
/// actually sent) → 413 `PayloadTooLarge`; a body that breaks off, is
/// malformed (bad chunking) or does not arrive within [`BODY_TIMEOUT`] →
/// 400 `CannotParseRequest`.
async fn read_body(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
) -> Result<axum::body::Bytes, ApiError> {
    let too_large = || {
        ApiError::new(
            ErrorCode::PayloadTooLarge,
            format!("The request body is larger than {limit} bytes."),
        )
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    match tokio::time::timeout(BODY_TIMEOUT, to_bytes(body, limit)).await {
        Err(_) => Err(ApiError::new(
            ErrorCode::CannotParseRequest,
            format!(
                "The request body did not arrive within {} s.",
                BODY_TIMEOUT.as_secs()
            ),
        )),
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(e))
            if std::error::Error::source(&e)
                .is_some_and(|s| s.is::<http_body_util::LengthLimitError>()) =>
        {
            Err(too_large())
        }
        Ok(Err(_)) => Err(ApiError::new(
            ErrorCode::CannotParseRequest,
            "The request body could not be read completely.",
        )),
    }
}

/// A response for a status with an empty body.
pub fn empty(status: StatusCode) -> Response {
    (status, Body::empty()).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_style_endpoints_name_their_vault() {
        let (e, rest) = endpoint_of(Some("127.0.0.1:4585"), "/kms/abc/management/20180608/keys");
        assert_eq!(
            (e, rest),
            (Endpoint::Management("abc".into()), "/20180608/keys")
        );
        let (e, rest) = endpoint_of(None, "/kms/abc/crypto/20180608/encrypt");
        assert_eq!(
            (e, rest),
            (Endpoint::Crypto("abc".into()), "/20180608/encrypt")
        );
        let (e, rest) = endpoint_of(None, "/kms/abc/managementx/20180608/keys");
        assert_eq!(
            (e, rest),
            (Endpoint::Regional, "/kms/abc/managementx/20180608/keys")
        );
    }

    #[test]
    fn host_style_endpoints_name_their_vault() {
        let (e, rest) = endpoint_of(Some("abc-management.kms.localhost:4585"), "/20180608/keys");
        assert_eq!(
            (e, rest),
            (Endpoint::Management("abc".into()), "/20180608/keys")
        );
        let (e, _) = endpoint_of(Some("abc-crypto.kms.example.test"), "/20180608/encrypt");
        assert_eq!(e, Endpoint::Crypto("abc".into()));
        let (e, _) = endpoint_of(Some("localhost:4585"), "/20180608/vaults");
        assert_eq!(e, Endpoint::Regional);
    }

    #[test]
    fn request_ids_are_echoed_or_minted_like_the_sdks() {
        let mut headers = HeaderMap::new();
        let minted = request_id(&headers);
        assert_eq!(minted.len(), 32);
        assert!(minted
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_lowercase()));
        headers.insert("opc-request-id", HeaderValue::from_static("mine"));
        assert_eq!(request_id(&headers), "mine");
    }
}
