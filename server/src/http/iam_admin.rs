//! The emulator's own IAM endpoints (not OCI; unsigned, like health):
//!
//! - `GET /_emulator/decisions/{opc-request-id}`: why a request was allowed
//!   or denied (principal, operation, each permission with its target, every
//!   statement and why it did or did not grant).
//! - `POST /_emulator/iam/simulate`: the same answer without making the
//!   request: `{"principal": {"user"} | {"instance"} | {"resource"} |
//!   {"groups"}, "operation", "target":
//!   {"compartmentId","vaultId","keyId","secretId","secretName"},
//!   "requestTime"}`; `requestTime` (RFC 3339, default the emulator's
//!   clock) is the time `request.utc-timestamp` conditions read.
//! - `GET` / `PUT /_emulator/iam/policies`: the policies in force, in the
//!   tenancy file's `policies` shape; `PUT` replaces them until reset or
//!   restart and answers their lint.
//!
//! Errors are `{"code","message"}` like OCI's. Nothing here shows secret
//! content, key material or signatures: only names, OCIDs and policy text.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use crate::error::{ApiError, ErrorCode};
use crate::iam::authz::{self, PrincipalSpec, TargetSpec, Targets};
use crate::iam::tenancy::Policy;
use crate::operation::Named;
use crate::pipeline::resolve;
use crate::state::AppState;

/// The routes, merged into the main router.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/_emulator/decisions/{request_id}", get(decision))
        .route("/_emulator/iam/simulate", post(simulate))
        .route(
            "/_emulator/iam/policies",
            get(get_policies).put(put_policies),
        )
}

async fn decision(State(app): State<AppState>, Path(request_id): Path<String>) -> Response {
    match app.iam.decisions.explain(&request_id) {
        Some(explanation) => Json(explanation).into_response(),
        None => ApiError::new(
            ErrorCode::NotFound,
            "No decision is recorded for this opc-request-id (decisions are kept for the last 4096 authenticated requests).",
        )
        .into_response(),
    }
}

/// `POST /_emulator/iam/simulate` body.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SimulateRequest {
    principal: PrincipalSpec,
    operation: String,
    #[serde(default)]
    target: TargetSpec,
    /// When the simulated request is made (default: the emulator's clock).
    #[serde(default, with = "time::serde::rfc3339::option")]
    request_time: Option<time::OffsetDateTime>,
}

async fn simulate(State(app): State<AppState>, body: axum::body::Bytes) -> Response {
    let result = async {
        let request: SimulateRequest = crate::services::parse_json(&body)?;
        let operation = authz::operation_named(&request.operation).ok_or_else(|| {
            ApiError::invalid(format!(
                "No OCI operation is named {:?}.",
                request.operation
            ))
        })?;
        let engine = app.iam.engine();
        let principal =
            authz::simulated_principal(&app.tenancy, engine.directory(), &request.principal)
                .map_err(ApiError::invalid)?;
        let targets = online_targets(&app, &request.target).await?;
        let at = request.request_time.unwrap_or_else(|| app.clock.now());
        authz::simulate(
            &engine,
            principal,
            operation,
            &app.config.region,
            &targets,
            at,
        )
        .map_err(|why| ApiError::invalid(format!("{}: {why}.", operation.name())))
    }
    .await;
    match result {
        Ok(explanation) => Json(explanation).into_response(),
        Err(e) => e.into_response(),
    }
}

/// The targets of a simulation: as [`authz::offline_targets`], but the
/// resources that exist take their real compartment, vault and name, found
/// by the pipeline's resolver (so a simulation sees what a request would).
async fn online_targets(app: &AppState, spec: &TargetSpec) -> Result<Targets, ApiError> {
    let engine = app.iam.engine();
    let mut t = authz::offline_targets(engine.directory(), spec).map_err(ApiError::invalid)?;
    let named = Named {
        vault_id: spec.vault_id.clone(),
        key_id: spec.key_id.clone(),
        secret_id: spec.secret_id.clone(),
        ..Named::default()
    };
    let now = app.clock.now();
    let found = app
        .store
        .read(|tx| resolve::resolve(tx, &named, now))
        .await?;
    let found = resolve::iam_targets(&found);
    t.vault = found.vault.or(t.vault);
    t.key = found.key.or(t.key);
    t.secret = found.secret.or(t.secret);
    if t.compartment_id.is_none() {
        t.compartment_id = t
            .secret
            .as_ref()
            .or(t.key.as_ref())
            .or(t.vault.as_ref())
            .map(|r| r.compartment_id.clone());
    }
    Ok(t)
}

async fn get_policies(State(app): State<AppState>) -> Json<Vec<Policy>> {
    Json(app.iam.engine().policies().to_vec())
}

async fn put_policies(State(app): State<AppState>, body: axum::body::Bytes) -> Response {
    let policies: Vec<Policy> = match crate::services::parse_json(&body) {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    match app.iam.replace_policies(policies) {
        Ok(lint) => (StatusCode::OK, Json(json!({"lint": lint}))).into_response(),
        Err(why) => ApiError::invalid(why).into_response(),
    }
}
