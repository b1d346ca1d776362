//! Secret rotation on the Vault API (`VaultsClient.rotate_secret`,
//! `cancel_secret_rotation`): the `RotationConfig` wire types, the two
//! handlers, and the driver that runs a rotation outside any request.
//!
//! Rules and state live in `domain::secret_rotation`; this module adds what
//! needs the network: a FUNCTION target is the tenancy file's `functions`
//! entry of that `functionId`, and each step is one `POST` of
//! `{"step","secretId","versionNo"}` to its `invokeUrl`, answered by
//! `{"responseCode","returnMessage","versionNo"}` (`responseCode` 200 is
//! success), in the order Oracle's rotation-function samples handle:
//! `VERIFY_CONNECTION` → `CREATE_PENDING_VERSION` → `UPDATE_TARGET_SYSTEM`
//! → `PROMOTE_PENDING_VERSION` (reference §15). The function does the
//! version work itself through the Vault API (UpdateSecret with stage
//! `PENDING`, then `currentVersionNumber`), so the driver runs on its own
//! tokio task and the emulator keeps serving while a step waits.

use std::time::Duration;

use axum::body::Bytes;
use axum::http::{header, Request, Uri};
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::rt::TokioIo;
use serde::{Deserialize, Serialize};
use serde_json::json;
use time::OffsetDateTime;

use super::common::ser_opt_time;
use super::{Ctx, Reply};
use crate::domain::secret_generation::{GenerationContext, PassphraseTemplate};
use crate::domain::secret_rotation::{
    self, Rotation, RotationConfig, RotationStatus, Started, TargetSystem,
};
use crate::domain::secrets::{self, NewContent, Stage};
use crate::domain::{Error as DomainError, Result as DomainResult};
use crate::error::ApiError;
use crate::state::AppState;

/// How long one step's call to a function may take, connection included
/// (OCI Functions' default timeout is 30 s).
pub const FUNCTION_TIMEOUT: Duration = Duration::from_secs(30);

/// The largest function reply read, in bytes.
const MAX_REPLY_BYTES: usize = 64 * 1024;

/// The steps, in the order they are invoked.
pub const STEPS: [&str; 4] = [
    "VERIFY_CONNECTION",
    "CREATE_PENDING_VERSION",
    "UPDATE_TARGET_SYSTEM",
    "PROMOTE_PENDING_VERSION",
];

/// `TargetSystemDetails`, polymorphic on `targetSystemType`
/// (`AdbTargetSystemDetails`, `FunctionTargetSystemDetails`), in both
/// directions.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "targetSystemType", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TargetSystemDetails {
    /// `AdbTargetSystemDetails`.
    #[serde(rename_all = "camelCase")]
    Adb {
        /// The autonomous database's OCID.
        adb_id: String,
    },
    /// `FunctionTargetSystemDetails`.
    #[serde(rename_all = "camelCase")]
    Function {
        /// The function's OCID.
        function_id: String,
    },
}

/// `RotationConfig` as requests carry it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RotationConfigIn {
    target_system_details: TargetSystemDetails,
    rotation_interval: Option<String>,
    is_scheduled_rotation_enabled: Option<bool>,
}

impl RotationConfigIn {
    /// Validates it ([`RotationConfig::new`]; 400 `InvalidParameter`).
    pub fn validated(self) -> Result<RotationConfig, ApiError> {
        let target = match self.target_system_details {
            TargetSystemDetails::Adb { adb_id } => TargetSystem::Adb { adb_id },
            TargetSystemDetails::Function { function_id } => TargetSystem::Function { function_id },
        };
        Ok(RotationConfig::new(
            target,
            self.rotation_interval.as_deref(),
            self.is_scheduled_rotation_enabled,
        )?)
    }
}

/// `RotationConfig` as responses carry it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RotationConfigOut {
    #[serde(skip_serializing_if = "Option::is_none")]
    rotation_interval: Option<String>,
    target_system_details: TargetSystemDetails,
    is_scheduled_rotation_enabled: bool,
}

/// The rotation fields of `Secret` and `SecretSummary`, flattened into them.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RotationFields {
    #[serde(skip_serializing_if = "Option::is_none")]
    rotation_config: Option<RotationConfigOut>,
    rotation_status: &'static str,
    #[serde(
        serialize_with = "ser_opt_time",
        skip_serializing_if = "Option::is_none"
    )]
    last_rotation_time: Option<OffsetDateTime>,
    #[serde(
        serialize_with = "ser_opt_time",
        skip_serializing_if = "Option::is_none"
    )]
    next_rotation_time: Option<OffsetDateTime>,
    /// `lifecycleDetails`: why the last rotation failed or stopped.
    #[serde(skip_serializing_if = "Option::is_none")]
    lifecycle_details: Option<String>,
}

impl RotationFields {
    /// The wire form of a secret's rotation (`NOT_ENABLED` and nothing
    /// else when it has no `rotationConfig`).
    pub fn new(rotation: Option<&Rotation>) -> Self {
        let Some(r) = rotation else {
            return Self {
                rotation_config: None,
                rotation_status: RotationStatus::NotEnabled.as_str(),
                last_rotation_time: None,
                next_rotation_time: None,
                lifecycle_details: None,
            };
        };
        let target_system_details = match &r.config.target {
            TargetSystem::Adb { adb_id } => TargetSystemDetails::Adb {
                adb_id: adb_id.clone(),
            },
            TargetSystem::Function { function_id } => TargetSystemDetails::Function {
                function_id: function_id.clone(),
            },
        };
        Self {
            rotation_config: Some(RotationConfigOut {
                rotation_interval: r.config.interval_days.map(|d| format!("P{d}D")),
                target_system_details,
                is_scheduled_rotation_enabled: r.config.scheduled,
            }),
            rotation_status: r.status().as_str(),
            last_rotation_time: r.last_rotation_time,
            next_rotation_time: r.next_rotation_time,
            lifecycle_details: r.details.clone(),
        }
    }
}

/// `RotateSecret`: `POST /20180608/secrets/{secretId}/actions/rotate` (no
/// body either way). 202 Accepted with `opc-work-request-id` (the SDK's
/// `rotate_secret_and_wait_for_work_request` waits on it); the rotation
/// runs afterwards on its own task. Refusals in
/// `domain::secret_rotation::start`.
pub async fn rotate_secret(app: &AppState, ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    let ((secret, if_match), now) = (ctx.for_write(ctx.target.secret())?, ctx.now);
    let work_request = crate::domain::new_work_request_id(ctx.region_name(app));
    let (_, started) = app
        .store
        .write(move |tx| secret_rotation::start(tx, now, secret, if_match.as_deref(), work_request))
        .await?;
    let id = started.work_request_id.clone();
    spawn(app.clone(), started);
    Ok(Reply::empty().accepted().work_request(&id))
}

/// `CancelSecretRotation`: `POST /20180608/secrets/{secretId}/actions/cancelRotation`
/// (no body either way; 200 with the new etag). Stops a run under way and
/// turns scheduled rotation off (`domain::secret_rotation::cancel`).
pub async fn cancel_secret_rotation(app: &AppState, ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    let (secret, if_match) = ctx.for_write(ctx.target.secret())?;
    let secret = app
        .store
        .write(move |tx| secret_rotation::cancel(tx, secret, if_match.as_deref()))
        .await?;
    Ok(Reply::empty().etag(&secret.etag))
}

/// Starts the scheduled rotations the clock has passed (called by
/// `POST /_emulator/time`); returns how many started.
///
/// # Errors
/// A store failure.
pub async fn start_due(app: &AppState) -> Result<usize, ApiError> {
    let (now, region) = (app.clock.now(), app.config.region.clone());
    let started = app
        .store
        .write(move |tx| {
            secret_rotation::start_due(tx, now, || crate::domain::new_work_request_id(&region))
        })
        .await?;
    let count = started.len();
    for run in started {
        spawn(app.clone(), run);
    }
    Ok(count)
}

/// Runs a rotation on its own task; its outcome is written to the secret.
pub fn spawn(app: AppState, run: Started) {
    tokio::spawn(async move {
        tracing::info!(secret_id = %run.secret_id, work_request_id = %run.work_request_id, "secret rotation started");
        match drive(&app, &run).await {
            Ok(outcome) => tracing::info!(
                secret_id = %run.secret_id,
                work_request_id = %run.work_request_id,
                outcome,
                "secret rotation ended"
            ),
            Err(e) => tracing::error!(
                secret_id = %run.secret_id,
                work_request_id = %run.work_request_id,
                error = %e,
                "secret rotation could not record its outcome"
            ),
        }
    });
}

/// How a function-driven run ended.
enum Outcome {
    /// Every step succeeded.
    Done,
    /// A step failed: the reason, for `lifecycleDetails`.
    Failed(String),
    /// Cancelled or superseded; already recorded.
    Stopped,
}

async fn drive(app: &AppState, run: &Started) -> DomainResult<&'static str> {
    let outcome = match &run.target {
        TargetSystem::Adb { .. } => return rotate_adb(app, run).await,
        TargetSystem::Function { function_id } => rotate_function(app, run, function_id).await?,
    };
    let (label, result) = match outcome {
        Outcome::Done => ("succeeded", Ok(())),
        Outcome::Failed(reason) => ("failed", Err(reason)),
        Outcome::Stopped => return Ok("stopped"),
    };
    let (now, r) = (app.clock.now(), run.clone());
    app.store
        .write(move |tx| secret_rotation::finish(tx, now, &r, result))
        .await?;
    Ok(label)
}

/// Whether the run may go on to `step` (a cancelled run is ended there).
async fn may_continue(app: &AppState, run: &Started, step: &'static str) -> DomainResult<bool> {
    let (now, r) = (app.clock.now(), run.clone());
    app.store
        .write(move |tx| secret_rotation::may_continue(tx, now, &r, step))
        .await
}

/// An ADB target without a reachable database: a new version of generated
/// content (the secret's own `secretGenerationContext`, else a
/// `SECRETS_DEFAULT_PASSWORD` passphrase) becomes `CURRENT`.
async fn rotate_adb(app: &AppState, run: &Started) -> DomainResult<&'static str> {
    if !may_continue(app, run, "UPDATE_TARGET_SYSTEM").await? {
        return Ok("stopped");
    }
    let (id, now) = (run.secret_id.clone(), app.clock.now());
    let secret = app.store.read(move |tx| secrets::get(tx, &id, now)).await?;
    let generation = secret.generation.unwrap_or(GenerationContext::Passphrase {
        generation_template: PassphraseTemplate::SecretsDefaultPassword,
        passphrase_length: None,
        secret_template: None,
    });
    let bytes = tokio::task::spawn_blocking(move || generation.generate())
        .await
        .map_err(|e| DomainError::Internal(anyhow::anyhow!("generation task: {e}")))??;
    let content = NewContent {
        bytes,
        name: None,
        stage: Stage::Current,
        auto_generated: true,
    };
    let (state, r, now) = (app.clone(), run.clone(), app.clock.now());
    let made = app
        .store
        .write(move |tx| secret_rotation::rotate_adb(tx, &state.keyring, now, &r, content))
        .await;
    match made {
        Ok(()) => Ok("succeeded"),
        // The new version was refused (a disabled key, the version limit):
        // the run fails and says why.
        Err(e) => {
            let reason = format!("Secret rotation failed creating the new version: {e}");
            let (r, now) = (run.clone(), app.clock.now());
            app.store
                .write(move |tx| secret_rotation::finish(tx, now, &r, Err(reason)))
                .await?;
            Ok("failed")
        }
    }
}

/// A FUNCTION target: each step in turn, stopping at the first that fails.
async fn rotate_function(
    app: &AppState,
    run: &Started,
    function_id: &str,
) -> DomainResult<Outcome> {
    let Some(function) = app.tenancy.function(function_id) else {
        return Ok(Outcome::Failed(format!(
            "Secret rotation failed at step VERIFY_CONNECTION: function {function_id} is not declared in the emulator's tenancy file (functions[].id), so it cannot be invoked."
        )));
    };
    let url = function.invoke_url.clone();
    let mut version_no = current_version(app, run).await?;
    for step in STEPS {
        if !may_continue(app, run, step).await? {
            return Ok(Outcome::Stopped);
        }
        let body = json!({"step": step, "secretId": run.secret_id, "versionNo": version_no});
        let reply = match invoke(&url, body.to_string()).await {
            Ok(reply) => reply,
            Err(reason) => {
                return Ok(Outcome::Failed(format!(
                    "Secret rotation failed at step {step}: {reason}"
                )))
            }
        };
        if reply.response_code != Some(200) {
            let code = reply.response_code.map_or_else(
                || "no responseCode".to_owned(),
                |c| format!("responseCode {c}"),
            );
            let message = reply
                .return_message
                .map(|m| format!(": {m}"))
                .unwrap_or_default();
            return Ok(Outcome::Failed(format!(
                "Secret rotation failed at step {step}: the function answered {code}{message}"
            )));
        }
        if step == "CREATE_PENDING_VERSION" {
            version_no = match reply.version_no {
                Some(n) => n,
                None => pending_version(app, run).await?.unwrap_or(version_no),
            };
        }
    }
    if !may_continue(app, run, "completion").await? {
        return Ok(Outcome::Stopped);
    }
    Ok(Outcome::Done)
}

/// The secret's `currentVersionNumber` now.
async fn current_version(app: &AppState, run: &Started) -> DomainResult<u64> {
    let (id, now) = (run.secret_id.clone(), app.clock.now());
    let secret = app.store.read(move |tx| secrets::get(tx, &id, now)).await?;
    Ok(secret.current_version_number)
}

/// The number of the secret's `PENDING` version, if it has one.
async fn pending_version(app: &AppState, run: &Started) -> DomainResult<Option<u64>> {
    let (id, now) = (run.secret_id.clone(), app.clock.now());
    let versions = app
        .store
        .read(move |tx| secrets::visible_versions(tx, &id, now))
        .await?;
    Ok(versions
        .iter()
        .find(|v| v.stages.contains(&Stage::Pending))
        .map(|v| v.version_number))
}

/// What a function answered for one step.
#[derive(Debug, Default, PartialEq, Eq)]
struct FunctionReply {
    response_code: Option<u64>,
    return_message: Option<String>,
    version_no: Option<u64>,
}

/// Reads a reply body: `responseCode` and `versionNo` as numbers or
/// numeric strings, `returnMessage` as a string.
fn parse_reply(bytes: &[u8]) -> Result<FunctionReply, String> {
    let value: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|_| "the function's reply is not a JSON object".to_owned())?;
    let obj = value
        .as_object()
        .ok_or_else(|| "the function's reply is not a JSON object".to_owned())?;
    let number = |name: &str| match obj.get(name) {
        Some(serde_json::Value::Number(n)) => n.as_u64(),
        Some(serde_json::Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    };
    Ok(FunctionReply {
        response_code: number("responseCode"),
        return_message: obj
            .get("returnMessage")
            .and_then(|m| m.as_str())
            .map(str::to_owned),
        version_no: number("versionNo"),
    })
}

/// One step's call, bounded by [`FUNCTION_TIMEOUT`].
async fn invoke(url: &str, body: String) -> Result<FunctionReply, String> {
    match tokio::time::timeout(FUNCTION_TIMEOUT, post(url, body)).await {
        Ok(result) => result,
        Err(_) => Err(format!(
            "the function at {url} did not answer within {} s",
            FUNCTION_TIMEOUT.as_secs()
        )),
    }
}

/// `POST url` with a JSON body over plain HTTP/1.1; the reply must be a 2xx
/// whose body is the function's JSON reply.
async fn post(url: &str, body: String) -> Result<FunctionReply, String> {
    let uri: Uri = url
        .parse()
        .map_err(|_| format!("the function's invokeUrl {url} is not a URL"))?;
    if uri.scheme_str() != Some("http") {
        return Err(format!(
            "the function's invokeUrl {url} is not http:// (only plain HTTP is called)"
        ));
    }
    let host = uri
        .host()
        .ok_or_else(|| format!("the function's invokeUrl {url} has no host"))?;
    let port = uri.port_u16().unwrap_or(80);
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let stream = tokio::net::TcpStream::connect((host, port))
        .await
        .map_err(|e| format!("the function at {url} is unreachable ({e})"))?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| format!("the function at {url} did not speak HTTP/1.1 ({e})"))?;
    tokio::spawn(connection);
    let authority = uri.authority().map(|a| a.as_str().to_owned());
    let path = uri.path_and_query().map_or("/", |p| p.as_str()).to_owned();
    let request = Request::post(path)
        .header(header::HOST, authority.unwrap_or_default())
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::CONTENT_LENGTH, body.len())
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| format!("the request to {url} could not be built ({e})"))?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| format!("the call to the function at {url} failed ({e})"))?;
    let status = response.status();
    let bytes = Limited::new(response.into_body(), MAX_REPLY_BYTES)
        .collect()
        .await
        .map_err(|_| format!("the function at {url} sent an unreadable or oversized reply"))?
        .to_bytes();
    if !status.is_success() {
        return Err(format!(
            "the function at {url} answered HTTP {}",
            status.as_u16()
        ));
    }
    parse_reply(&bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_read_numbers_and_numeric_strings() {
        assert_eq!(
            parse_reply(br#"{"responseCode":200,"returnMessage":"ok","versionNo":3}"#).unwrap(),
            FunctionReply {
                response_code: Some(200),
                return_message: Some("ok".into()),
                version_no: Some(3),
            }
        );
        assert_eq!(
            parse_reply(br#"{"responseCode":"500","versionNo":null}"#).unwrap(),
            FunctionReply {
                response_code: Some(500),
                ..FunctionReply::default()
            }
        );
        assert!(parse_reply(b"[1]").is_err());
        assert!(parse_reply(b"not json").is_err());
    }

    #[tokio::test]
    async fn an_unreachable_or_non_http_function_is_a_reason_not_a_panic() {
        let closed = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let e = invoke(&format!("http://127.0.0.1:{closed}/fn"), "{}".into())
            .await
            .unwrap_err();
        assert!(e.contains("unreachable"), "{e}");
        let e = invoke("https://example.invalid/fn", "{}".into())
            .await
            .unwrap_err();
        assert!(e.contains("not http://"), "{e}");
    }

    #[test]
    fn rotation_fields_without_a_config_say_not_enabled_only() {
        let v = serde_json::to_value(RotationFields::new(None)).unwrap();
        assert_eq!(v, json!({"rotationStatus": "NOT_ENABLED"}));
    }

    #[test]
    fn rotation_config_round_trips_on_the_wire() {
        let input: RotationConfigIn = serde_json::from_value(json!({
            "targetSystemDetails": {"targetSystemType": "FUNCTION", "functionId": "ocid1.fnfunc.oc1.iad.aaaa"},
            "rotationInterval": "P30D",
            "isScheduledRotationEnabled": true
        }))
        .unwrap();
        let rotation = Rotation::new(input.validated().unwrap(), OffsetDateTime::UNIX_EPOCH);
        let v = serde_json::to_value(RotationFields::new(Some(&rotation))).unwrap();
        assert_eq!(
            v,
            json!({
                "rotationConfig": {
                    "rotationInterval": "P30D",
                    "targetSystemDetails": {"targetSystemType": "FUNCTION", "functionId": "ocid1.fnfunc.oc1.iad.aaaa"},
                    "isScheduledRotationEnabled": true
                },
                "rotationStatus": "SCHEDULED",
                "nextRotationTime": "1970-01-31T00:00:00.000Z"
            })
        );
    }
}
