//! The HTTP side: the router, its per-request layers, the accept loop, and
//! the emulator's own `/_emulator/` endpoints. Every OCI call goes to
//! [`pipeline::run`]; this module writes its access log line from the
//! pipeline's record, feeds the metrics and the recent requests from the
//! same record, and drops the connection when a fault rule says so.
//!
//! Layers (tower-http), outermost first: the request id (`opc-request-id`,
//! the client's or minted like the SDKs'), a trace span per request that
//! carries it (so every log line of a request, a caught panic's included,
//! names it), its propagation to the response, and the panic catcher that
//! answers an OCI-shaped 500.
//!
//! - [`serve`]: the accept loop (hyper, with a header-read timeout).
//! - [`conn`]: connections a fault rule can drop or reset.
//! - [`admin`], [`faults_api`], [`iam_admin`]: `/_emulator/…`.
//! - [`audit_api`]: each request's audit event, `/_emulator/audit`.
//! - [`auth_api`]: instance metadata (`/_emulator/imds/…`), the auth
//!   service (`/v1/x509`, `/v1/authentication/refresh`) and
//!   `/_emulator/tokens/…`.
//! - [`console`]: the web console, `/_emulator/metrics`, recent requests and
//!   the metadata the console reads.

pub mod admin;
pub mod audit_api;
pub mod auth_api;
pub mod conn;
pub mod console;
pub mod faults_api;
pub mod iam_admin;
pub mod serve;

use std::any::Any;

use axum::extract::{Request, State};
use axum::http::{HeaderName, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::timeout::RequestBodyTimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::error::{ApiError, ErrorCode};
use crate::operation::Operation;
use crate::pipeline::{self, Record, REQUEST_ID};
use crate::state::AppState;
use crate::telemetry::{RequestSummary, TargetIds};
use conn::ConnHandle;

/// The router: `/_emulator/…`, then every other path is an OCI call; with
/// the per-request layers of the module doc.
pub fn router(state: AppState) -> Router {
    with_layers(
        Router::new()
            .route("/_emulator/health", get(health))
            .merge(admin::routes())
            .merge(auth_api::routes())
            .merge(faults_api::routes())
            .merge(iam_admin::routes())
            .merge(console::routes())
            .merge(audit_api::routes())
            // The emulator's own endpoints read their bodies through axum's
            // extractors: a body that stops arriving is cut off after the
            // pipeline's body timeout instead of holding the connection
            // (OCI calls, the fallback, time their body in the pipeline).
            .layer(RequestBodyTimeoutLayer::new(pipeline::BODY_TIMEOUT))
            .fallback(oci_request)
            .with_state(state),
    )
}

/// Wraps `routes` in the per-request layers of the module doc (public so a
/// test can put a deliberately failing route under the very same layers).
pub fn with_layers(routes: Router) -> Router {
    let request_id = HeaderName::from_static(REQUEST_ID);
    routes.layer(
        ServiceBuilder::new()
            .layer(SetRequestIdLayer::new(request_id.clone(), SdkRequestId))
            .layer(
                TraceLayer::new_for_http()
                    .make_span_with(|request: &Request| {
                        let id = request
                            .headers()
                            .get(REQUEST_ID)
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or("-");
                        tracing::info_span!("request", opc_request_id = %id)
                    })
                    .on_response(())
                    .on_failure(()),
            )
            .layer(PropagateRequestIdLayer::new(request_id))
            .layer(CatchPanicLayer::custom(panic_response)),
    )
}

/// Mints request ids as the OCI SDKs do: 32 uppercase hex characters.
#[derive(Debug, Clone, Copy)]
struct SdkRequestId;

impl MakeRequestId for SdkRequestId {
    fn make_request_id<B>(&mut self, _: &axum::http::Request<B>) -> Option<RequestId> {
        const HEX: &[u8; 16] = b"0123456789ABCDEF";
        let mut id = [0u8; 32];
        for (pair, b) in id.chunks_exact_mut(2).zip(crate::crypto::id_bytes()) {
            pair[0] = HEX[usize::from(b >> 4)];
            pair[1] = HEX[usize::from(b & 0x0F)];
        }
        axum::http::HeaderValue::from_bytes(&id)
            .ok()
            .map(RequestId::new)
    }
}

/// A panic anywhere below the layers: one error line (in the request's
/// span, so it names the `opc-request-id`) and OCI's generic 500. The
/// request id header is added by the propagation layer around it.
fn panic_response(panic: Box<dyn Any + Send + 'static>) -> Response {
    let detail = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic with no message".to_owned());
    tracing::error!(panic = %detail, "request handler panicked; answered 500");
    ApiError::new(ErrorCode::InternalServerError, crate::error::INTERNAL).into_response()
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

/// Every OCI call: the pipeline, then its access log line and, from the same
/// record, its metrics, recent-request entry and audit event; a dropped connection is
/// aborted before the response is written.
async fn oci_request(State(app): State<AppState>, request: Request) -> Response {
    let conn = request.extensions().get::<ConnHandle>().cloned();
    let request_headers = audit_api::request_headers(request.headers());
    let mut outcome = pipeline::run(&app, request).await;
    let record = &outcome.record;
    tracing::info!(
        method = %record.method,
        path = %record.path,
        operation = record.operation.map(Operation::name).unwrap_or("-"),
        status = record.status,
        duration_us = record.elapsed.as_micros() as u64,
        "request"
    );
    app.telemetry.observe(summary(&app, record));
    let created = audit_api::created_id(&mut outcome).await;
    let record = &outcome.record;
    if let Some(row) = audit_api::event_of(
        &app,
        record,
        request_headers,
        outcome.response.headers(),
        created,
    ) {
        app.audit.record(row);
    }
    audit_api::observe(&app, record);
    match (outcome.drop_connection, conn) {
        (Some(kind), Some(conn)) => {
            conn.abort(kind);
            (StatusCode::SERVICE_UNAVAILABLE, ()).into_response()
        }
        _ => outcome.response,
    }
}

/// What the metrics and the console keep of a record: metadata only.
fn summary(app: &AppState, record: &Record) -> RequestSummary {
    let target = record.target.as_ref();
    RequestSummary {
        request_id: record.request_id.clone(),
        time: crate::clock::format_time(app.clock.now()),
        method: record.method.to_string(),
        path: record.path.clone(),
        operation: record.operation.map(Operation::name),
        principal: record.principal.as_ref().map(|p| p.user_name.clone()),
        target: TargetIds {
            compartment_id: target.and_then(|t| t.acting_compartment().map(str::to_owned)),
            vault_id: target.and_then(|t| t.vault.as_ref().map(|v| v.id.clone())),
            key_id: target.and_then(|t| t.key.as_ref().map(|k| k.id.clone())),
            secret_id: target.and_then(|t| t.secret.as_ref().map(|s| s.id.clone())),
        },
        decision: record.decision.as_ref().map(|d| {
            if d.denial().is_some() {
                "DENIED"
            } else {
                "ALLOWED"
            }
        }),
        faults: record
            .faults
            .iter()
            .filter(|f| !record.rate_limited.contains(f))
            .cloned()
            .collect(),
        rate_limited: record.rate_limited.clone(),
        status: record.status,
        code: record.code.clone(),
        elapsed_micros: u64::try_from(record.elapsed.as_micros()).unwrap_or(u64::MAX),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minted_request_ids_look_like_the_sdks() {
        let request = axum::http::Request::new(());
        let id = SdkRequestId.make_request_id(&request).unwrap();
        let id = id.header_value().to_str().unwrap().to_owned();
        assert_eq!(id.len(), 32);
        assert!(id
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_lowercase()));
    }

    /// A body that never arrives: every poll is pending.
    struct Stalled;

    impl axum::body::HttpBody for Stalled {
        type Data = axum::body::Bytes;
        type Error = std::convert::Infallible;

        fn poll_frame(
            self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Option<Result<hyper::body::Frame<Self::Data>, Self::Error>>> {
            std::task::Poll::Pending
        }
    }

    /// An emulator endpoint whose body stops arriving answers once the
    /// body timeout passes (virtual tokio time), instead of holding the
    /// connection for good.
    #[tokio::test(start_paused = true)]
    async fn an_emulator_endpoint_stops_waiting_for_a_stalled_body() {
        use tower::ServiceExt as _;
        let app = AppState::new(crate::ServeConfig::for_tests(
            "127.0.0.1:0".parse().unwrap(),
        ))
        .unwrap();
        let request = axum::http::Request::post("/_emulator/time")
            .header("content-type", "application/json")
            .header("content-length", "100")
            .body(axum::body::Body::new(Stalled))
            .unwrap();
        let started = tokio::time::Instant::now();
        let response =
            tokio::time::timeout(pipeline::BODY_TIMEOUT * 2, router(app).oneshot(request))
                .await
                .expect("the stalled body was waited for past the timeout")
                .unwrap();
        assert_eq!(started.elapsed(), pipeline::BODY_TIMEOUT);
        assert!(response.status().is_client_error(), "{}", response.status());
    }
}
