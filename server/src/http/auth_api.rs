//! The emulator's auth service and instance metadata (not Vault APIs, so
//! outside the pipeline's operation table):
//!
//! - `GET /_emulator/imds/{instance OCID}/opc/v2/instance/region`,
//!   `…/instance/regionInfo`, `…/instance/`, `…/identity/cert.pem`,
//!   `…/identity/key.pem`, `…/identity/intermediate.pem`: the instance
//!   metadata service (IMDS v2) of a tenancy-file instance, so that
//!   `OCI_METADATA_BASE_URL=http://HOST:PORT/_emulator/imds/<instance>/opc/v2`
//!   makes an SDK that instance. `Authorization: Bearer Oracle` is required,
//!   as the real service requires it (401 without); an unknown instance is
//!   404 `NotFound`.
//! - `POST /v1/x509`: federation (the SDKs' `X509FederationClient`): body
//!   `{"certificate","publicKey","intermediateCertificates"?,"purpose"?}`
//!   (Base64 DER, PEM armour removed), signed by the leaf's key with keyId
//!   `<tenancy>/fed-x509/<SHA-1 fingerprint>`; answers `{"token": JWT}`
//!   bound to `publicKey`.
//! - `POST /v1/authentication/refresh`: `{"currentToken"}` signed with
//!   `ST$<currentToken>` → `{"token"}` (oci-cli `session refresh`'s request).
//! - `POST /_emulator/tokens/session`: `{"userId","ttlSeconds"}` →
//!   `{"token","privatePem"}`.
//! - `POST /_emulator/tokens/resource-principal`: `{"resourceType",
//!   "resourceId","compartmentId","ttlSeconds"}` → `{"version": "2.2",
//!   "rpst","privatePem","region"}`.
//!
//! Refusals of credentials are 401 `NotAuthenticated` with OCI's fixed
//! message (the reason goes to the log, never a token, key or signature);
//! bad input is 400 `InvalidParameter`. Tokens expire at the emulator's
//! clock (`POST /_emulator/time`).

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use serde::Deserialize;
use serde_json::json;
use time::OffsetDateTime;

use crate::auth::{self, SignedRequest, MAX_TTL_SECONDS};
use crate::error::{ApiError, ErrorCode};
use crate::iam::tenancy::Instance;
use crate::services::parse_json;
use crate::state::AppState;

/// The routes, merged into the main router.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/_emulator/imds/{instance}/opc/v2/instance/region",
            get(region),
        )
        .route(
            "/_emulator/imds/{instance}/opc/v2/instance/regionInfo",
            get(region_info),
        )
        .route("/_emulator/imds/{instance}/opc/v2/instance/", get(instance))
        .route(
            "/_emulator/imds/{instance}/opc/v2/identity/cert.pem",
            get(cert),
        )
        .route(
            "/_emulator/imds/{instance}/opc/v2/identity/key.pem",
            get(key),
        )
        .route(
            "/_emulator/imds/{instance}/opc/v2/identity/intermediate.pem",
            get(intermediate),
        )
        .route("/v1/x509", post(x509))
        .route("/v1/authentication/refresh", post(refresh))
        .route("/_emulator/tokens/session", post(session_token))
        .route(
            "/_emulator/tokens/resource-principal",
            post(resource_principal_token),
        )
}

/// The instance an IMDS request is for, after its `Authorization: Bearer
/// Oracle` check.
fn imds_instance<'a>(
    app: &'a AppState,
    headers: &HeaderMap,
    id: &str,
) -> Result<&'a Instance, ApiError> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    if bearer != Some("Bearer Oracle") {
        return Err(ApiError::new(
            ErrorCode::NotAuthenticated,
            "The instance metadata service requires the header Authorization: Bearer Oracle.",
        ));
    }
    app.tenancy.instance(id).ok_or_else(|| {
        ApiError::new(
            ErrorCode::NotFound,
            "No instance of the tenancy file has this OCID.",
        )
    })
}

fn text(body: impl Into<String>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        body.into(),
    )
        .into_response()
}

/// `instance/region`: the region name, plain text.
async fn region(
    State(app): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    imds_instance(&app, &headers, &id)?;
    Ok(text(app.config.region.clone()))
}

/// `instance/regionInfo` (Python `oci.regions` reads it for a region not in
/// its table).
async fn region_info(
    State(app): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    imds_instance(&app, &headers, &id)?;
    let region = &app.config.region;
    Ok(Json(json!({
        "realmKey": "oc1",
        "realmDomainComponent": "oraclecloud.com",
        "regionKey": crate::ocid::region_key(region).to_ascii_uppercase(),
        "regionIdentifier": region,
    }))
    .into_response())
}

/// `instance/`: the instance document (the fields the tenancy file has).
async fn instance(
    State(app): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let inst = imds_instance(&app, &headers, &id)?;
    Ok(Json(json!({
        "id": inst.id,
        "compartmentId": inst.compartment_id,
        "displayName": inst.display_name,
        "region": crate::ocid::region_key(&app.config.region),
        "canonicalRegionName": app.config.region,
        "tenantId": app.tenancy.id(),
        "freeformTags": inst.freeform_tags,
        "definedTags": inst.defined_tags,
    }))
    .into_response())
}

/// `identity/cert.pem`: the instance's leaf certificate.
async fn cert(
    State(app): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let inst = imds_instance(&app, &headers, &id)?;
    let pem = app
        .authority
        .pki
        .leaf_cert(
            &inst.id,
            &inst.compartment_id,
            app.tenancy.id(),
            app.clock.now(),
        )
        .map_err(|e| ApiError::internal(&e))?;
    Ok(text(pem))
}

/// `identity/key.pem`: the leaf's private key (what the real IMDS serves
/// to the instance itself).
async fn key(
    State(app): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let inst = imds_instance(&app, &headers, &id)?;
    let pem = app
        .authority
        .pki
        .leaf_key(
            &inst.id,
            &inst.compartment_id,
            app.tenancy.id(),
            app.clock.now(),
        )
        .map_err(|e| ApiError::internal(&e))?;
    Ok(text(pem.as_str()))
}

/// `identity/intermediate.pem`.
async fn intermediate(
    State(app): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    imds_instance(&app, &headers, &id)?;
    Ok(text(app.authority.pki.intermediate_pem()))
}

/// `POST /v1/x509` body (Python `X509FederationClient`).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct X509Request {
    certificate: String,
    public_key: String,
    #[serde(default)]
    intermediate_certificates: Vec<String>,
    #[serde(default)]
    purpose: Option<String>,
}

fn refused(reason: &dyn std::fmt::Display) -> ApiError {
    tracing::info!(reason = %reason, "authentication failed");
    ApiError::not_authenticated()
}

fn base64_der(text: &str, field: &str) -> Result<Vec<u8>, ApiError> {
    BASE64
        .decode(text.trim())
        .map_err(|_| ApiError::invalid(format!("{field} is not Base64 DER.")))
}

async fn x509(
    State(app): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let wall_now = OffsetDateTime::now_utc();
    let now = app.clock.now();
    let request: X509Request = parse_json(&body)?;
    if request.purpose.as_deref().is_some_and(|p| p != "DEFAULT") {
        return Err(ApiError::invalid(
            "purpose: the emulator issues DEFAULT tokens only.",
        ));
    }
    let leaf = base64_der(&request.certificate, "certificate")?;
    let session_key = base64_der(&request.public_key, "publicKey")?;
    let intermediates = request
        .intermediate_certificates
        .iter()
        .map(|c| base64_der(c, "intermediateCertificates"))
        .collect::<Result<Vec<_>, _>>()?;
    let path_and_query = uri.path_and_query().map_or("/", |p| p.as_str());
    let signed = SignedRequest {
        method: &method,
        path_and_query,
        headers: &headers,
        body: &body,
    };
    let identity = auth::authenticate_x509(
        &app.tenancy,
        &app.authority,
        &signed,
        &leaf,
        &intermediates,
        wall_now,
        now,
    )
    .map_err(|e| refused(&e))?;
    let token = app
        .authority
        .instance_token(&identity, &session_key, now)
        .map_err(|_| {
            ApiError::invalid("publicKey is not an RSA public key of 2048 to 8192 bits.")
        })?;
    tracing::info!(instance = %identity.instance_id, "instance principal token issued");
    Ok(Json(json!({"token": token})).into_response())
}

/// `POST /v1/authentication/refresh` body.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RefreshRequest {
    current_token: String,
}

async fn refresh(
    State(app): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let now = app.clock.now();
    let path_and_query = uri.path_and_query().map_or("/", |p| p.as_str());
    let principal = auth::authenticate(
        &app.tenancy,
        &app.authority,
        &method,
        path_and_query,
        &headers,
        &body,
        OffsetDateTime::now_utc(),
        now,
    )
    .map_err(|e| refused(&e))?;
    let request: RefreshRequest = parse_json(&body)?;
    let signed_with = signing_token(&headers);
    if signed_with != Some(request.current_token.as_str()) {
        return Err(refused(
            &"currentToken is not the token the request is signed with",
        ));
    }
    let token = app
        .authority
        .refresh(&app.tenancy, &request.current_token, now)
        .map_err(|e| refused(&e))?;
    tracing::info!(principal = %principal.user_id, "security token refreshed");
    Ok(Json(json!({"token": token})).into_response())
}

/// The token of an `ST$` keyId in the request's signature, if any.
fn signing_token(headers: &HeaderMap) -> Option<&str> {
    let auth = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let start = auth.find("keyId=\"ST$")? + "keyId=\"ST$".len();
    let len = auth[start..].find('"')?;
    Some(&auth[start..start + len])
}

/// `ttlSeconds`, 1 to a day; default one hour.
fn ttl(given: Option<i64>) -> Result<i64, ApiError> {
    match given {
        None => Ok(3600),
        Some(t) if (1..=MAX_TTL_SECONDS).contains(&t) => Ok(t),
        Some(_) => Err(ApiError::invalid(format!(
            "ttlSeconds must be between 1 and {MAX_TTL_SECONDS}."
        ))),
    }
}

/// `POST /_emulator/tokens/session` body.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SessionRequest {
    user_id: String,
    #[serde(default, deserialize_with = "crate::services::common::opt_int")]
    ttl_seconds: Option<i64>,
}

async fn session_token(State(app): State<AppState>, body: Bytes) -> Result<Response, ApiError> {
    let request: SessionRequest = parse_json(&body)?;
    let ttl = ttl(request.ttl_seconds)?;
    let (token, private_pem) = app
        .authority
        .session_token(&app.tenancy, &request.user_id, ttl, app.clock.now())
        .map_err(|_| ApiError::invalid("userId: no user of the tenancy has this OCID or name."))?;
    Ok((
        StatusCode::OK,
        Json(json!({"token": token, "privatePem": private_pem.as_str()})),
    )
        .into_response())
}

/// `POST /_emulator/tokens/resource-principal` body.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ResourcePrincipalRequest {
    resource_type: String,
    resource_id: String,
    compartment_id: String,
    #[serde(default, deserialize_with = "crate::services::common::opt_int")]
    ttl_seconds: Option<i64>,
}

async fn resource_principal_token(
    State(app): State<AppState>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let request: ResourcePrincipalRequest = parse_json(&body)?;
    let ttl = ttl(request.ttl_seconds)?;
    let kind = &request.resource_type;
    if kind.is_empty()
        || kind.len() > 64
        || !kind
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    {
        return Err(ApiError::invalid(
            "resourceType must be a resource type such as fnfunc or computecontainerinstance.",
        ));
    }
    if !crate::ocid::is_ocid_of(&request.resource_id, kind) {
        return Err(ApiError::invalid(format!(
            "resourceId must be an OCID of resource type {kind} (ocid1.{kind}.oc1..<unique>)."
        )));
    }
    if !app.tenancy.has_compartment(&request.compartment_id) {
        return Err(ApiError::invalid(
            "compartmentId must be the tenancy or one of its compartments.",
        ));
    }
    let (rpst, private_pem) = app
        .authority
        .resource_principal_token(
            &app.tenancy,
            kind,
            &request.resource_id,
            &request.compartment_id,
            ttl,
            app.clock.now(),
        )
        .map_err(|e| ApiError::internal(&anyhow::anyhow!(e)))?;
    Ok(Json(json!({
        "version": "2.2",
        "rpst": rpst,
        "privatePem": private_pem.as_str(),
        "region": app.config.region,
    }))
    .into_response())
}
