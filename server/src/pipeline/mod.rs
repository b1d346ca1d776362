//! The request's way through (DESIGN "A request's way through"), in one
//! function, [`run`], that reads top to bottom:
//!
//! request id → route → `beforeAuth` faults → body → authenticate →
//! resolve target → faults and rate limits → authorise → handler.
//!
//! Each stage hands its value to the next; nothing comes back through an
//! out-parameter or a global map. `run` answers one [`Outcome`]: the
//! response, whether a fault rule wants the connection dropped, and the
//! [`Record`] of the request (operation, principal, target, decision,
//! faults fired, status) that the access log reads and the audit log of a
//! later issue will read.
//!
//! - [`route`]: endpoint and operation.
//! - [`resolve`]: the one reader of a request's target from the store.

pub mod resolve;
pub mod route;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::{to_bytes, Body, Bytes};
use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderValue, Method};
use axum::response::{IntoResponse, Response};
use time::OffsetDateTime;

use crate::domain::target::Target;
use crate::error::{ApiError, ErrorCode};
use crate::faults::{self, Action, Caller, DropKind, Fired, InjectedError, Stage};
use crate::iam::authz::{Decision, DECISION_HEADER};
use crate::iam::tenancy::Principal;
use crate::operation::{Named, Operation};
use crate::services::{self, Ctx};
use crate::state::AppState;

/// The request header (and response header) carrying the request id.
pub const REQUEST_ID: &str = "opc-request-id";

/// How long a client may take to send its body once the headers are in.
pub(crate) const BODY_TIMEOUT: Duration = Duration::from_secs(30);

/// What the pipeline knew of one request when it answered.
#[derive(Debug)]
pub struct Record {
    /// The `opc-request-id` (the client's, or minted by the request-id layer).
    pub request_id: String,
    /// The method.
    pub method: Method,
    /// The path as sent.
    pub path: String,
    /// The operation, once routed.
    pub operation: Option<Operation>,
    /// The caller, once authenticated.
    pub principal: Option<Principal>,
    /// The resolved target, once resolved.
    pub target: Option<Target>,
    /// The authorise decision, once made.
    pub decision: Option<Arc<Decision>>,
    /// Ids of the fault rules and rate limits that fired, in order.
    pub faults: Vec<String>,
    /// Ids of the rate limits among `faults` (a rate limit that fired
    /// rejected the call).
    pub rate_limited: Vec<String>,
    /// The status answered.
    pub status: u16,
    /// The OCI error code of the body (`None` for a success).
    pub code: Option<String>,
    /// Time from the pipeline's start to its answer.
    pub elapsed: Duration,
    /// The raw query string.
    pub query: String,
    /// The client's address, when the request came over a socket.
    pub source_ip: Option<String>,
    /// The `user-agent` header.
    pub user_agent: Option<String>,
    /// The signature's `keyId` when it is an API key's
    /// `tenancy/user/fingerprint` (what OCI's audit writes as credentials;
    /// never a session token, never the signature).
    pub credentials: Option<String>,
    /// A crypto call's `loggingContext` (OCI writes it into the audit log).
    pub logging_context: Option<BTreeMap<String, String>>,
    /// The secret version a bundle read returned.
    pub secret_version: Option<u64>,
}

/// The pipeline's answer for one request.
#[derive(Debug)]
pub struct Outcome {
    /// The response (never sent when `drop_connection` is set).
    pub response: Response,
    /// A fault rule's order to end the connection without a response.
    pub drop_connection: Option<DropKind>,
    /// What happened.
    pub record: Record,
}

/// Every OCI call: the stages in the module doc's order.
pub async fn run(app: &AppState, request: Request) -> Outcome {
    let started = Instant::now();
    let (parts, body) = request.into_parts();
    let host = header_text(&parts.headers, header::HOST.as_str());
    let mut record = Record {
        request_id: header_text(&parts.headers, REQUEST_ID).unwrap_or_default(),
        method: parts.method.clone(),
        path: parts.uri.path().to_owned(),
        operation: None,
        principal: None,
        target: None,
        decision: None,
        faults: Vec::new(),
        rate_limited: Vec::new(),
        status: 0,
        code: None,
        elapsed: Duration::ZERO,
        query: parts.uri.query().unwrap_or("").to_owned(),
        source_ip: parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0.ip().to_string()),
        user_agent: header_text(&parts.headers, header::USER_AGENT.as_str()),
        credentials: credentials(&parts.headers),
        logging_context: None,
        secret_version: None,
    };
    let mut drop_connection = None;
    let mut after_commit: Option<(String, InjectedError)> = None;

    let result: Result<Response, ApiError> = 'stages: {
        // Route: the region, then the endpoint and the operation there.
        let (region, api_path) = route::split_region(parts.uri.path());
        let region = match region {
            None => None,
            Some(r) if r == app.config.region => None,
            Some(r) if app.tenancy.has_region(r) => Some(r.to_owned()),
            Some(_) => break 'stages Ok(route::Unrouted::NotFound.into_response()),
        };
        let (op, params, endpoint) =
            match route::operation_of(&parts.method, host.as_deref(), api_path) {
                Ok(routed) if region.is_none() || route::served_in_other_regions(routed.0) => {
                    routed
                }
                Ok(_) => break 'stages Ok(route::Unrouted::NotFound.into_response()),
                Err(unrouted) => break 'stages Ok(unrouted.into_response()),
            };
        record.operation = Some(op);

        // Faults marked `beforeAuth`: an outage hits before anything is read.
        if app.faults.is_active() {
            let target = faults::Target {
                operation: op,
                principal: None,
                compartment_id: None,
                resource_id: None,
            };
            let fired =
                app.faults
                    .decide(Stage::BeforeAuth, &target, app.clock.now(), Instant::now());
            match act(fired, op, &mut record.faults, &mut record.rate_limited).await {
                Some(End::Respond(r)) => break 'stages Ok(r),
                Some(End::Drop(kind)) => {
                    drop_connection = Some(kind);
                    break 'stages Ok(dropped());
                }
                Some(End::AfterCommit(id, e)) => after_commit = Some((id, e)),
                None => {}
            }
        }

        // Body: a backup file may be larger than a JSON body.
        let limit = match op {
            Operation::RestoreVaultFromFile | Operation::RestoreKeyFromFile => {
                app.config.max_backup_bytes.max(app.config.max_body_bytes)
            }
            _ => app.config.max_body_bytes,
        };
        let body = match read_body(&parts.headers, body, limit).await {
            Ok(body) => body,
            Err(e) => break 'stages Err(e),
        };
        if op.service() == crate::operation::Service::KmsCrypto {
            record.logging_context = logging_context(&body);
        }

        // Authenticate: the signature, at the wall clock.
        let path_and_query = parts.uri.path_and_query().map_or("/", |p| p.as_str());
        let principal: &Principal = match crate::auth::authenticate(
            &app.tenancy,
            &app.authority,
            &parts.method,
            path_and_query,
            &parts.headers,
            &body,
            OffsetDateTime::now_utc(),
            app.clock.now(),
        ) {
            Ok(principal) => record.principal.insert(principal),
            Err(reason) => {
                tracing::info!(reason = %reason, "authentication failed");
                break 'stages Err(ApiError::not_authenticated());
            }
        };

        // Resolve the target, once, at the request's time (a key's due
        // automatic rotation applied first).
        let now = app.clock.now();
        let query = parts.uri.query().unwrap_or("");
        let mut named = Named::of(op, &params, query, &body, endpoint.vault_key());
        named.region = region.clone();
        resolve::name_from_backup(op, &mut named, &body);
        let target: &Target = match resolve::resolve_settled(app, &named, now).await {
            Ok(target) => record.target.insert(target),
            Err(e) => break 'stages Err(e.into()),
        };

        // Faults and rate limits, on the caller and the target.
        if app.faults.is_active() {
            let resource_id = match op {
                Operation::GetSecretBundleByName => target.secret.as_ref().map(|s| s.id.clone()),
                _ => named.own_resource_id(op).map(str::to_owned),
            };
            let target = faults::Target {
                operation: op,
                principal: Some(Caller {
                    user_id: &principal.user_id,
                    user_name: &principal.user_name,
                    tenancy_id: &principal.tenancy_id,
                }),
                compartment_id: target.acting_compartment().map(str::to_owned),
                resource_id,
            };
            let fired = app
                .faults
                .decide(Stage::AfterAuth, &target, now, Instant::now());
            match act(fired, op, &mut record.faults, &mut record.rate_limited).await {
                Some(End::Respond(r)) => break 'stages Ok(r),
                Some(End::Drop(kind)) => {
                    drop_connection = Some(kind);
                    break 'stages Ok(dropped());
                }
                Some(End::AfterCommit(id, e)) => after_commit = Some((id, e)),
                None => {}
            }
        }

        if !op.spec().implemented {
            break 'stages Err(ApiError::new(
                ErrorCode::MethodNotImplemented,
                format!("{} is not implemented by the emulator yet.", op.name()),
            ));
        }

        // Authorise: pure; recorded here.
        let decision = Arc::new(crate::iam::authz::authorize(
            app.iam.engine(),
            principal,
            op,
            region.as_deref().unwrap_or(&app.config.region),
            &resolve::iam_targets(target),
            crate::iam::authz::request_variables(op, &body),
            now,
        ));
        app.iam
            .decisions
            .record(&record.request_id, now, decision.clone());
        record.decision = Some(decision.clone());
        if let Some(denial) = decision.denial() {
            if let Some(check) = decision.denied_check() {
                tracing::info!(
                    operation = op.name(),
                    principal = %principal.user_name,
                    permission = check.permission,
                    target = %check.target.id,
                    "authorization denied; explanation at /_emulator/decisions/{}",
                    record.request_id
                );
            }
            break 'stages Err(ApiError::from(denial));
        }

        // Handler.
        let ctx = Ctx {
            operation: op,
            params,
            query: query.to_owned(),
            headers: parts.headers,
            body,
            principal_id: principal.user_id.clone(),
            base_url: base_url(app, host.as_deref()),
            region,
            now,
            target,
        };
        let result = services::dispatch(app, &ctx).await;
        match (result, after_commit.take()) {
            // `errorAfterCommit`: the write stays, the client sees an error.
            (Ok(_), Some((_, error))) => Ok(error_response(&error)),
            // A handler error passes through; the rule did not act.
            (Err(e), Some((id, _))) => {
                record.faults.retain(|f| *f != id);
                Err(e)
            }
            (result, None) => result.map(IntoResponse::into_response),
        }
    };

    let mut response = result.unwrap_or_else(IntoResponse::into_response);
    if !record.faults.is_empty() {
        if let Ok(value) = HeaderValue::from_str(&record.faults.join(", ")) {
            response.headers_mut().insert(faults::FAULT_HEADER, value);
        }
    }
    if response.status().is_client_error() && record.decision.is_some() {
        // Denials and 404s for missing targets alike carry the link, so
        // the two stay indistinguishable on the wire.
        let url = format!(
            "{}/_emulator/decisions/{}",
            base_url(app, host.as_deref()),
            percent_encoding::utf8_percent_encode(&record.request_id, UNRESERVED)
        );
        if let Ok(value) = HeaderValue::from_str(&url) {
            response.headers_mut().insert(DECISION_HEADER, value);
        }
    }
    record.status = response.status().as_u16();
    record.secret_version = response
        .extensions()
        .get::<services::SecretVersionRead>()
        .map(|v| v.0);
    record.code = response
        .extensions()
        .get::<crate::error::BodyCode>()
        .map(|c| c.0.clone());
    record.elapsed = started.elapsed();
    Outcome {
        response,
        drop_connection,
        record,
    }
}

/// Characters left as they are in a URL path segment (RFC 3986 unreserved).
const UNRESERVED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// How a fault step ends the request, if it does.
enum End {
    /// Answer this response now.
    Respond(Response),
    /// End the connection without a response.
    Drop(DropKind),
    /// Go on; answer this error after the handler succeeds.
    AfterCommit(String, InjectedError),
}

/// Acts on what fired: logs each firing, sleeps for latency, and says how
/// the request ends. Never holds a lock while sleeping.
async fn act(
    fired: Vec<Fired>,
    operation: Operation,
    ids: &mut Vec<String>,
    rate_limited: &mut Vec<String>,
) -> Option<End> {
    let mut end = None;
    for f in fired {
        tracing::info!(
            operation = operation.name(),
            rule = %f.id,
            action = f.action.kind(),
            "fault injected"
        );
        ids.push(f.id.clone());
        if f.rate_limit {
            rate_limited.push(f.id.clone());
        }
        match f.action {
            Action::Latency { ms, .. } => tokio::time::sleep(Duration::from_millis(ms)).await,
            Action::Error(error) => return Some(End::Respond(error_response(&error))),
            Action::ErrorAfterCommit(error) => end = Some(End::AfterCommit(f.id, error)),
            Action::Drop(kind) => return Some(End::Drop(kind)),
            Action::Hang(ms) => {
                tokio::time::sleep(Duration::from_millis(ms)).await;
                return Some(End::Drop(DropKind::Close));
            }
        }
    }
    end
}

/// The OCI-shaped response of an injected error.
fn error_response(error: &InjectedError) -> Response {
    crate::error::injected(error.status, &error.code, &error.message)
}

/// The placeholder response of a dropped connection: the HTTP layer aborts
/// the connection before it is written; where there is no connection (an
/// in-process test) it is what the client gets.
fn dropped() -> Response {
    crate::error::injected(
        503,
        "ServiceUnavailable",
        "The connection would have been dropped (no socket in this test).",
    )
}

/// `http://host:port` clients reach the emulator at: `--public-url`, else
/// the request's `Host`.
pub fn base_url(app: &AppState, host: Option<&str>) -> String {
    match &app.config.public_url {
        Some(url) => url.trim_end_matches('/').to_owned(),
        None => format!("http://{}", host.unwrap_or("127.0.0.1")),
    }
}

/// The `keyId` of an `authorization: Signature …` header when it has the
/// form `tenancy/user/fingerprint` (an API key); anything else (a session
/// token's `ST$…`) is not recorded.
fn credentials(headers: &HeaderMap) -> Option<String> {
    let auth = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let start = auth.find("keyId=\"")? + "keyId=\"".len();
    let key = &auth[start..];
    let key = &key[..key.find('"')?];
    let api_key = key.len() <= 512
        && key.split('/').count() == 3
        && key.starts_with("ocid1.")
        && !key.contains('$');
    api_key.then(|| key.to_owned())
}

/// A crypto request's `loggingContext` (string → string), if the body has
/// one; the body is read for nothing else.
fn logging_context(body: &[u8]) -> Option<BTreeMap<String, String>> {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Only {
        logging_context: Option<BTreeMap<String, String>>,
    }
    if !body.windows(14).any(|w| w == b"loggingContext") {
        return None;
    }
    serde_json::from_slice::<Only>(body).ok()?.logging_context
}

fn header_text(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// Reads the body: over `limit` bytes (declared in `content-length` or
/// actually sent) → 413 `PayloadTooLarge`; a body that breaks off, is
/// malformed (bad chunking) or does not arrive within [`BODY_TIMEOUT`] →
/// 400 `CannotParseRequest`.
async fn read_body(headers: &HeaderMap, body: Body, limit: usize) -> Result<Bytes, ApiError> {
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
