//! The emulator's own endpoints under `/_emulator/` (not OCI APIs, so no
//! signature): reset, whole-state snapshots, virtual time, seeding at run
//! time, and the backup files of BackupVault / BackupKey (which OCI writes
//! to Object Storage, which the emulator does not have). Errors keep OCI's body shape `{"code","message"}`; bad input
//! (a snapshot's out-of-range `clockOffsetSeconds` included) is a 400 that
//! changes nothing.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use time::OffsetDateTime;

use crate::clock::format_time;
use crate::domain::{self, state::Snapshot, Error};
use crate::error::ApiError;
use crate::services::parse_json;
use crate::state::AppState;

/// The admin routes, to be merged into the main router.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/_emulator/reset", post(reset))
        .route("/_emulator/state", get(export_state).put(import_state))
        .route("/_emulator/time", get(get_time).post(move_time))
        .route("/_emulator/seed", post(seed))
        .route("/_emulator/backups", get(list_backups))
        .route("/_emulator/backups/{work_request_id}", get(get_backup))
}

/// `GET /_emulator/backups`: every backup the emulator keeps, oldest first:
/// `[{"workRequestId", "kind": "VAULT"|"KEY", "resourceId", "timeCreated",
/// "bytes"}]` (no file contents).
async fn list_backups(State(app): State<AppState>) -> Result<Response, ApiError> {
    let all = app.store.read(domain::backup::all).await?;
    let items: Vec<serde_json::Value> = all
        .iter()
        .map(|b| {
            json!({"workRequestId": b.work_request_id, "kind": b.kind,
                   "resourceId": b.resource_id, "timeCreated": b.time_created,
                   "bytes": b.file.len()})
        })
        .collect();
    Ok(Json(items).into_response())
}

/// `GET /_emulator/backups/{workRequestId}`: the backup file a BackupVault
/// or BackupKey without `backupLocation` made (the `opc-work-request-id` it
/// answered), as `application/octet-stream` (base64 text, sealed under the
/// root key), ready for RestoreVaultFromFile / RestoreKeyFromFile. 404
/// `NotAuthorizedOrNotFound` for any other id.
async fn get_backup(
    State(app): State<AppState>,
    axum::extract::Path(work_request_id): axum::extract::Path<String>,
) -> Result<Response, ApiError> {
    let found = app
        .store
        .read(move |tx| domain::backup::stored(tx, &work_request_id))
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok((
        [(axum::http::header::CONTENT_TYPE, "application/octet-stream")],
        found.file,
    )
        .into_response())
}

/// `POST /_emulator/reset`: back to the state at start (seeds applied, the
/// clock at the wall clock). Answers the new state's counts.
async fn reset(State(app): State<AppState>) -> Result<Response, ApiError> {
    app.reset().await?;
    app.keyring.forget();
    tracing::info!("state reset to the start seed");
    counts(&app).await
}

async fn counts(app: &AppState) -> Result<Response, ApiError> {
    let (vaults, keys, secrets) = app.store.read(domain::state::counts).await?;
    Ok(Json(json!({"vaults": vaults, "keys": keys, "secrets": secrets})).into_response())
}

/// `GET /_emulator/state`: every stored document (material sealed, content
/// encrypted), the root key check and the clock offset.
async fn export_state(State(app): State<AppState>) -> Result<Response, ApiError> {
    let offset = app.clock.offset_seconds();
    let state = app.clone();
    let snapshot = app
        .store
        .read(move |tx| domain::state::export(tx, &state.keyring, offset))
        .await?;
    Ok(Json(snapshot).into_response())
}

/// `PUT /_emulator/state`: replaces the whole state with a snapshot; a bad
/// snapshot (400 naming the list, entry and field) changes nothing.
async fn import_state(
    State(app): State<AppState>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let snapshot: Snapshot = parse_json(&body)?;
    let offset = snapshot.clock_offset_seconds;
    let state = app.clone();
    // `import` refuses an offset out of range before it writes anything.
    app.store
        .write(move |tx| domain::state::import(tx, &state.keyring, snapshot))
        .await?;
    app.set_clock_offset(offset)?;
    app.keyring.forget();
    counts(&app).await
}

/// `GET /_emulator/time`: `{"now": RFC 3339, "offsetSeconds": N}`.
async fn get_time(State(app): State<AppState>) -> Json<serde_json::Value> {
    Json(json!({"now": format_time(app.clock.now()), "offsetSeconds": app.clock.offset_seconds()}))
}

/// Body of `POST /_emulator/time`: exactly one of the two.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct MoveTime {
    /// Seconds to move by.
    advance_seconds: Option<i64>,
    /// The time to move to, RFC 3339.
    set: Option<String>,
}

/// `POST /_emulator/time`: moves the clock. Scheduled deletions whose time
/// passes complete, automatic key rotations whose day passes are made, and
/// scheduled secret rotations whose `nextRotationTime` passes start. Moving before the newest existing event (a resource's
/// creation) is a 400, since it would make history run backwards.
async fn move_time(
    State(app): State<AppState>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let request: MoveTime = parse_json(&body)?;
    let now = app.clock.now();
    let target = match (request.advance_seconds, request.set.as_deref()) {
        (Some(seconds), None) => now
            .checked_add(time::Duration::seconds(seconds))
            .ok_or_else(|| ApiError::invalid("advanceSeconds is out of range."))?,
        (None, Some(text)) => {
            OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
                .map_err(|_| ApiError::invalid("set must be an RFC 3339 date-time."))?
        }
        _ => {
            return Err(ApiError::invalid(
                "Give exactly one of advanceSeconds and set.",
            ))
        }
    };
    if target < now {
        let newest = app.store.read(domain::state::newest_event).await?;
        if newest.is_some_and(|t| target < t) {
            return Err(ApiError::invalid(format!(
                "The clock cannot move back past existing events (the newest is at {}).",
                format_time(newest.unwrap_or(now))
            )));
        }
    }
    match request.advance_seconds {
        Some(seconds) => app
            .clock
            .advance(seconds)
            .map_err(|e| ApiError::invalid(format!("advanceSeconds: {e}.")))?,
        None => {
            app.clock
                .set_to(target)
                .map_err(|e| ApiError::invalid(format!("set: {e}.")))?;
        }
    }
    // Automatic key rotations the move passed happen now, so snapshots and
    // the console show them too (a request naming a key would apply its
    // own in any case).
    // Their material is made first, outside the store's lock (RSA pairs
    // take up to a second each), so other requests keep being served.
    let (state, now) = (app.clone(), app.clock.now());
    let due = app
        .store
        .read(move |tx| domain::key_rotation::due_keys(tx, now))
        .await?;
    let mut materials = crate::pipeline::resolve::generate_off_lock(move || {
        domain::key_rotation::pregenerate(&due, now)
    })
    .await?;
    let rotated = app
        .store
        .write(move |tx| {
            domain::key_rotation::rotate_all_due(
                tx,
                &state.keyring,
                now,
                &state.config.region,
                &mut materials,
            )
        })
        .await?;
    if rotated > 0 {
        tracing::info!(versions = rotated, "automatic key rotations applied");
    }
    // Scheduled secret rotations the move passed start now, each on its own
    // task (a FUNCTION target calls back into this server).
    let secrets_rotating = crate::services::secret_rotation::start_due(&app).await?;
    if secrets_rotating > 0 {
        tracing::info!(
            secrets = secrets_rotating,
            "scheduled secret rotations started"
        );
    }
    Ok(get_time(State(app)).await.into_response())
}

/// `POST /_emulator/seed`: applies one seed document now, on top of the
/// current state; an existing OCID or name is a 400 naming the entry, and
/// changes nothing.
async fn seed(State(app): State<AppState>, body: axum::body::Bytes) -> Result<Response, ApiError> {
    let text = String::from_utf8(body.to_vec())
        .map_err(|_| ApiError::invalid("The seed must be UTF-8 JSON."))?;
    let state = app.clone();
    app.store
        .write(move |tx| state.apply_seed_text(tx, &text, "request body"))
        .await
        .map_err(|e| match e {
            Error::InvalidParameter(m) => ApiError::invalid(m),
            other => ApiError::from(other),
        })?;
    counts(&app).await
}
