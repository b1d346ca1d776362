//! `/_emulator/faults`: the emulator's own API for fault rules and rate
//! limits (not OCI's; never under an OCI path).
//!
//! - `GET /_emulator/faults` → 200 `{"seed", "rules": [… + "matched",
//!   "fired"], "rateLimits": [… + "fired"]}`.
//! - `PUT /_emulator/faults` (a whole document) → 200 with the `GET` view;
//!   counters, generators and buckets start over, so the same document
//!   gives the same firing pattern again.
//! - `POST /_emulator/faults` (one rule) → 200 `{"id"}`; 409 `Conflict` when
//!   the id is taken.
//! - `DELETE /_emulator/faults/{id}` → 204; 404 `NotFound` when no rule or
//!   limit has that id.
//! - `DELETE /_emulator/faults` → 204, no rules and no limits left.
//!
//! A bad body is 400 `InvalidParameter` naming the field, and changes nothing.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};
use axum::{Json, Router};

use crate::error::{ApiError, ErrorCode};
use crate::faults::{parse, FaultDocument, FaultError, RuleSpec};
use crate::state::AppState;

/// The routes, to merge into the main router.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/_emulator/faults",
            get(list).put(replace).post(add).delete(clear),
        )
        .route("/_emulator/faults/{id}", delete(remove))
}

fn invalid(e: FaultError) -> ApiError {
    ApiError::invalid(format!("Invalid fault document: {e}."))
}

async fn list(State(app): State<AppState>) -> Json<serde_json::Value> {
    Json(app.faults.view())
}

async fn replace(State(app): State<AppState>, body: Bytes) -> Result<Response, ApiError> {
    let doc: FaultDocument = parse(&body).map_err(invalid)?;
    app.faults.replace(&doc).map_err(invalid)?;
    tracing::info!(
        rules = doc.rules.len(),
        rate_limits = doc.rate_limits.len(),
        seed = doc.seed,
        "fault document replaced"
    );
    Ok(Json(app.faults.view()).into_response())
}

async fn add(State(app): State<AppState>, body: Bytes) -> Result<Response, ApiError> {
    let spec: RuleSpec = parse(&body).map_err(invalid)?;
    match app.faults.add_rule(spec).map_err(invalid)? {
        Some(id) => {
            tracing::info!(rule = %id, "fault rule added");
            Ok(Json(serde_json::json!({ "id": id })).into_response())
        }
        None => Err(ApiError::new(
            ErrorCode::Conflict,
            "A fault rule or rate limit with this id already exists.",
        )),
    }
}

async fn remove(State(app): State<AppState>, Path(id): Path<String>) -> Result<Response, ApiError> {
    if app.faults.remove(&id) {
        tracing::info!(rule = %id, "fault rule removed");
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(ApiError::new(
            ErrorCode::NotFound,
            "No fault rule or rate limit has this id.",
        ))
    }
}

async fn clear(State(app): State<AppState>) -> StatusCode {
    app.faults.clear();
    tracing::info!("fault rules and rate limits cleared");
    StatusCode::NO_CONTENT
}
