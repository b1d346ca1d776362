//! Authorisation at run time: the policy set in force, the checks an
//! operation needs on its resolved targets, the pipeline's authorise step,
//! and the log of decisions `GET /_emulator/decisions/{opc-request-id}`
//! explains.
//!
//! Which permission is checked on which resource (reference §11.4, the
//! "Details for the Vault Service" per-API table): `*_CREATE` permissions in
//! the compartment the resource is created in; list operations in the
//! compartment they list; `VAULT_*` on the vault, `KEY_*` on the key,
//! `SECRET_*` on the secret. A denial answers as OCI documents (§2.8): own
//! target → 404 `NotAuthorizedOrNotFound` (the same body as a missing
//! resource), a resource named in the body → 400
//! `RelatedResourceNotAuthorizedOrNotFound`, a refused create → 409
//! `NotAuthorizedOrResourceAlreadyExists`. The wire carries fixed messages;
//! the detail goes to the decision log.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, RwLock};

use axum::body::Bytes;
use axum::http::HeaderValue;
use axum::response::Response;
use serde::Deserialize;
use serde_json::{json, Value as Json};

use super::eval::{Check, Directory, Engine, Lint, Request, Role, Target};
use super::tenancy::{Policy, Principal, TenancyFile};
use crate::app::AppState;
use crate::domain::{keys::Key, secrets::Secret, vaults, vaults::Vault};
use crate::error::{ApiError, ErrorCode};
use crate::operation::{Operation, PathParams};
use crate::services::Endpoint;
use crate::store;

/// The header a denial (and any error answered after a recorded decision)
/// carries: the URL of its explanation. Clients ignore unknown headers.
pub const DECISION_HEADER: &str = "x-oci-emulator-decision";

/// The message of a refused create (409); the same as for an existing one.
pub const NOT_AUTHORIZED_OR_EXISTS: &str =
    "Authorization failed or requested resource already exists.";

/// How many decisions are kept for `GET /_emulator/decisions/{id}`.
const DECISIONS_KEPT: usize = 4096;

/// A resource a request names, as loaded for authorisation.
#[derive(Debug, Clone, Default)]
pub struct Resource {
    /// OCID.
    pub id: String,
    /// Its compartment.
    pub compartment_id: String,
    /// Its name (secrets).
    pub name: Option<String>,
    /// Its vault (keys, secrets).
    pub vault_id: Option<String>,
}

/// The resolved targets of a request.
#[derive(Debug, Clone, Default)]
pub struct Targets {
    /// The compartment a list reads or a create writes to.
    pub compartment_id: Option<String>,
    /// The vault (URL, endpoint, or body).
    pub vault: Option<Resource>,
    /// The key (URL, or body for crypto and CreateSecret).
    pub key: Option<Resource>,
    /// The secret.
    pub secret: Option<Resource>,
    /// CreateSecret's `secretName`.
    pub new_secret_name: Option<String>,
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Scope {
    Compartment,
    Vault,
    Key,
    Secret,
}

fn scope_of(operation: Operation, permission: &str) -> (Scope, Role) {
    use Operation::*;
    if matches!(permission, "VAULT_CREATE" | "KEY_CREATE" | "SECRET_CREATE")
        || (operation == ImportKey && permission == "KEY_IMPORT")
    {
        return (Scope::Compartment, Role::Create);
    }
    if matches!(operation, ListVaults | ListKeys | ListSecrets) {
        return (Scope::Compartment, Role::Own);
    }
    let related = operation == CreateSecret;
    let role = if related { Role::Related } else { Role::Own };
    match permission.split('_').next() {
        Some("VAULT") => (Scope::Vault, role),
        Some("KEY") => (Scope::Key, role),
        _ => (Scope::Secret, Role::Own),
    }
}

fn role_rank(role: Role) -> u8 {
    match role {
        Role::Own => 0,
        Role::Create => 1,
        Role::Related => 2,
    }
}

/// The checks `operation` needs on `targets`, in the order they are
/// decided (own target, then the create, then resources in the body).
///
/// # Errors
/// What is missing when a target the checks need was not resolved (the
/// request then goes on to the handler, which answers for the missing
/// resource).
pub fn checks_for(operation: Operation, t: &Targets) -> Result<Vec<Check>, String> {
    let mut out: Vec<(Role, Scope, Check)> = Vec::new();
    for permission in operation.spec().permissions {
        let (scope, role) = scope_of(operation, permission);
        let target = match scope {
            Scope::Compartment => {
                let id = t
                    .compartment_id
                    .clone()
                    .ok_or("the request names no compartmentId")?;
                let mut variables = Vec::new();
                if let Some(v) = &t.vault {
                    if matches!(
                        operation,
                        Operation::ListKeys | Operation::CreateKey | Operation::CreateSecret
                    ) {
                        variables.push(("target.vault.id", v.id.clone()));
                    }
                }
                if let Some(name) = &t.new_secret_name {
                    variables.push(("target.secret.name", name.clone()));
                }
                Target {
                    kind: "compartment",
                    id: id.clone(),
                    name: None,
                    compartment_id: id,
                    variables,
                }
            }
            Scope::Vault => {
                let v = t.vault.as_ref().ok_or("the vault was not found")?;
                Target {
                    kind: "vault",
                    id: v.id.clone(),
                    name: None,
                    compartment_id: v.compartment_id.clone(),
                    variables: vec![("target.vault.id", v.id.clone())],
                }
            }
            Scope::Key => {
                let k = t.key.as_ref().ok_or("the key was not found")?;
                let mut variables = vec![("target.key.id", k.id.clone())];
                if let Some(v) = &k.vault_id {
                    variables.push(("target.vault.id", v.clone()));
                }
                Target {
                    kind: "key",
                    id: k.id.clone(),
                    name: None,
                    compartment_id: k.compartment_id.clone(),
                    variables,
                }
            }
            Scope::Secret => {
                let s = t.secret.as_ref().ok_or("the secret was not found")?;
                let mut variables = vec![("target.secret.id", s.id.clone())];
                if let Some(name) = &s.name {
                    variables.push(("target.secret.name", name.clone()));
                }
                if let Some(v) = &s.vault_id {
                    variables.push(("target.vault.id", v.clone()));
                }
                Target {
                    kind: "secret",
                    id: s.id.clone(),
                    name: s.name.clone(),
                    compartment_id: s.compartment_id.clone(),
                    variables,
                }
            }
        };
        out.push((
            role,
            scope,
            Check {
                permission,
                role,
                target,
            },
        ));
    }
    out.sort_by_key(|(role, scope, _)| (role_rank(*role), *scope));
    Ok(out.into_iter().map(|(_, _, c)| c).collect())
}

/// The error a denied check answers with (fixed OCI texts only).
pub fn denial(check: &Check) -> ApiError {
    match check.role {
        Role::Own => ApiError::not_found(),
        Role::Create => ApiError::new(
            ErrorCode::NotAuthorizedOrResourceAlreadyExists,
            NOT_AUTHORIZED_OR_EXISTS,
        ),
        // The same text the domain gives when the resource does not exist.
        Role::Related => ApiError::new(
            ErrorCode::RelatedResourceNotAuthorizedOrNotFound,
            format!(
                "{} {} was not found or is not authorized.",
                if check.target.kind == "vault" {
                    "Vault"
                } else {
                    "Key"
                },
                check.target.id
            ),
        ),
    }
}

/// What happened to one request.
enum Outcome {
    Allowed,
    Denied { status: u16, code: &'static str },
    NotEvaluated(String),
}

struct Decision {
    time: time::OffsetDateTime,
    engine: Arc<Engine>,
    operation: &'static str,
    principal: Principal,
    request: Option<Request>,
    outcome: Outcome,
}

impl Decision {
    fn to_json(&self, request_id: &str) -> Json {
        let mut out = match &self.request {
            Some(r) => self.engine.explain(r),
            None => json!({
                "operation": self.operation,
                "principal": {"type": self.principal.kind, "id": self.principal.user_id, "name": self.principal.user_name},
                "checks": [],
            }),
        };
        out["requestId"] = json!(request_id);
        out["time"] = json!(self
            .time
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default());
        match &self.outcome {
            Outcome::Allowed => {}
            Outcome::Denied { status, code } => {
                out["response"] = json!({"status": status, "code": code});
            }
            Outcome::NotEvaluated(why) => {
                out["decision"] = json!("notEvaluated");
                out["summary"] = json!(format!(
                    "Not evaluated: {why}; the handler answered for the missing resource (OCI gives the same 404 NotAuthorizedOrNotFound whether a resource is missing or forbidden)."
                ));
            }
        }
        out
    }
}

#[derive(Default)]
struct DecisionLog {
    order: VecDeque<String>,
    by_id: HashMap<String, Decision>,
}

/// Policies in force and the decisions made under them.
pub struct Iam {
    file: TenancyFile,
    engine: RwLock<Arc<Engine>>,
    decisions: Mutex<DecisionLog>,
}

impl std::fmt::Debug for Iam {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Iam")
    }
}

impl Iam {
    /// Compiles the tenancy file's policies; logs their lint.
    ///
    /// # Errors
    /// A policy that does not compile (statements were parsed at load, so
    /// only a bad attachment can fail here).
    pub fn new(file: &TenancyFile) -> anyhow::Result<Self> {
        let engine = Engine::new(file, file.policies.clone()).map_err(anyhow::Error::msg)?;
        log_lint(&engine.lint());
        Ok(Self {
            file: file.clone(),
            engine: RwLock::new(Arc::new(engine)),
            decisions: Mutex::default(),
        })
    }

    /// The engine in force (cheap: an `Arc`).
    pub fn engine(&self) -> Arc<Engine> {
        self.engine
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Replaces the policies (`PUT /_emulator/iam/policies`) until reset
    /// or restart; returns their lint.
    ///
    /// # Errors
    /// The first statement that does not parse (policy, statement, column),
    /// or a policy attached to an unknown compartment; nothing changes then.
    pub fn replace_policies(&self, policies: Vec<Policy>) -> Result<Vec<Lint>, String> {
        let engine = Engine::new(&self.file, policies)?;
        let lint = engine.lint();
        log_lint(&lint);
        *self.engine.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(engine);
        Ok(lint)
    }

    /// Restores the tenancy file's policies (for `POST /_emulator/reset`)
    /// and forgets recorded decisions.
    pub fn reset_policies(&self) {
        if let Ok(engine) = Engine::new(&self.file, self.file.policies.clone()) {
            *self.engine.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(engine);
        }
        *self.decisions.lock().unwrap_or_else(|e| e.into_inner()) = DecisionLog::default();
    }

    fn record(&self, request_id: &str, decision: Decision) {
        let mut log = self.decisions.lock().unwrap_or_else(|e| e.into_inner());
        if log.by_id.insert(request_id.to_owned(), decision).is_none() {
            log.order.push_back(request_id.to_owned());
        }
        while log.order.len() > DECISIONS_KEPT {
            if let Some(old) = log.order.pop_front() {
                log.by_id.remove(&old);
            }
        }
    }

    /// The explanation of a recorded decision.
    pub fn decision(&self, request_id: &str) -> Option<Json> {
        let log = self.decisions.lock().unwrap_or_else(|e| e.into_inner());
        log.by_id.get(request_id).map(|d| d.to_json(request_id))
    }

    fn has_decision(&self, request_id: &str) -> bool {
        let log = self.decisions.lock().unwrap_or_else(|e| e.into_inner());
        log.by_id.contains_key(request_id)
    }
}

fn log_lint(lint: &[Lint]) {
    for l in lint {
        tracing::warn!(policy = %l.policy, statement = l.statement, text = %l.text, "policy lint: {}", l.message);
    }
}

/// The authorise step of the pipeline: resolves the operation's targets,
/// evaluates its permissions, records the decision under `request_id`, and
/// refuses with OCI's status and code. A target that does not exist is not
/// evaluated: the handler answers for it, with the same 404.
#[allow(clippy::too_many_arguments)]
pub async fn authorize(
    app: &AppState,
    request_id: &str,
    operation: Operation,
    params: &PathParams,
    query: &str,
    body: &Bytes,
    endpoint: &Endpoint,
    principal: &Principal,
) -> Result<(), ApiError> {
    let engine = app.iam.engine();
    let targets = resolve(app, operation, params, query, body, endpoint).await?;
    let checks = targets.and_then(|t| checks_for(operation, &t));
    let mut decision = Decision {
        time: time::OffsetDateTime::now_utc(),
        engine: engine.clone(),
        operation: operation.name(),
        principal: principal.clone(),
        request: None,
        outcome: Outcome::Allowed,
    };
    let checks = match checks {
        Ok(checks) => checks,
        Err(why) => {
            decision.outcome = Outcome::NotEvaluated(why);
            app.iam.record(request_id, decision);
            return Ok(());
        }
    };
    let request = Request {
        principal: principal.clone(),
        operation: operation.name(),
        region: app.config.region.clone(),
        checks,
    };
    let denied = engine.first_denied(&request);
    let result = match denied {
        None => Ok(()),
        Some(i) => {
            let check = &request.checks[i];
            let error = denial(check);
            tracing::info!(
                opc_request_id = %request_id,
                operation = operation.name(),
                principal = %principal.user_name,
                permission = check.permission,
                target = %check.target.id,
                "authorization denied; explanation at /_emulator/decisions/{request_id}"
            );
            decision.outcome = Outcome::Denied {
                status: error.code.status().as_u16(),
                code: error.code.as_str(),
            };
            Err(error)
        }
    };
    decision.request = Some(request);
    app.iam.record(request_id, decision);
    result
}

/// Adds [`DECISION_HEADER`] to an error response whose request has a
/// recorded decision (denials, and 404s for missing targets alike, so the
/// two stay indistinguishable).
pub fn annotate(app: &AppState, host: Option<&str>, request_id: &str, response: &mut Response) {
    let status = response.status();
    if !(status.is_client_error()) || !app.iam.has_decision(request_id) {
        return;
    }
    let base = match &app.config.public_url {
        Some(url) => url.trim_end_matches('/').to_owned(),
        None => format!("http://{}", host.unwrap_or("127.0.0.1")),
    };
    let encoded: String = request_id
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    if let Ok(value) = HeaderValue::from_str(&format!("{base}/_emulator/decisions/{encoded}")) {
        response.headers_mut().insert(DECISION_HEADER, value);
    }
}

fn param<'a>(params: &'a PathParams, name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.as_str())
}

fn query_value(query: &str, name: &str) -> Option<String> {
    serde_urlencoded::from_str::<Vec<(String, String)>>(query)
        .ok()?
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
        .filter(|v| !v.is_empty())
}

fn vault_resource(v: Vault) -> Resource {
    Resource {
        id: v.id,
        compartment_id: v.compartment_id,
        name: None,
        vault_id: None,
    }
}

fn key_resource(k: Key) -> Resource {
    Resource {
        id: k.id,
        compartment_id: k.compartment_id,
        name: None,
        vault_id: Some(k.vault_id),
    }
}

fn secret_resource(s: Secret) -> Resource {
    Resource {
        id: s.id,
        compartment_id: s.compartment_id,
        name: Some(s.secret_name),
        vault_id: Some(s.vault_id),
    }
}

/// Loads the request's targets. `Ok(Err(why))` when one cannot be
/// resolved (missing resource, malformed input): the handler answers then.
async fn resolve(
    app: &AppState,
    operation: Operation,
    params: &PathParams,
    query: &str,
    body: &Bytes,
    endpoint: &Endpoint,
) -> Result<Result<Targets, String>, ApiError> {
    use Operation::*;
    let body_json = || serde_json::from_slice::<Json>(body).ok();
    let body_str = |doc: &Option<Json>, field: &str| {
        doc.as_ref()
            .and_then(|d| d.get(field))
            .and_then(Json::as_str)
            .map(str::to_owned)
    };
    let mut t = Targets::default();
    let mut key_id = param(params, "keyId").map(str::to_owned);
    let mut vault_id = param(params, "vaultId").map(str::to_owned);
    let secret_id = param(params, "secretId").map(str::to_owned);
    let mut by_name: Option<(String, String)> = None;
    match operation {
        ListVaults | ListKeys | ListSecrets => {
            t.compartment_id = query_value(query, "compartmentId");
        }
        CreateVault | CreateKey | ImportKey => {
            t.compartment_id = body_str(&body_json(), "compartmentId");
        }
        CreateSecret => {
            let doc = body_json();
            t.compartment_id = body_str(&doc, "compartmentId");
            t.new_secret_name = body_str(&doc, "secretName");
            vault_id = body_str(&doc, "vaultId");
            key_id = body_str(&doc, "keyId");
            if vault_id.is_none() || key_id.is_none() {
                return Ok(Err("the body names no vaultId or keyId".into()));
            }
        }
        Encrypt | Decrypt | GenerateDataEncryptionKey | ExportKey | Sign | Verify => {
            key_id = body_str(&body_json(), "keyId");
            if key_id.is_none() {
                return Ok(Err("the body names no keyId".into()));
            }
        }
        GetSecretBundleByName => match (
            query_value(query, "secretName"),
            query_value(query, "vaultId"),
        ) {
            (Some(name), Some(vault)) => by_name = Some((vault, name)),
            _ => return Ok(Err("the query names no secretName and vaultId".into())),
        },
        _ => {}
    }
    let endpoint_key = match endpoint {
        Endpoint::Management(k) | Endpoint::Crypto(k) => Some(k.clone()),
        Endpoint::Regional => None,
    };
    let now = app.clock.now();
    let loaded = app
        .store
        .read(move |tx| {
            let mut t = t;
            // Key and crypto calls: the vault is the endpoint's.
            let endpoint_vault = match &endpoint_key {
                Some(k) => match vaults::by_endpoint_key(tx, k, now) {
                    Ok(v) => Some(v),
                    Err(crate::domain::Error::NotFound) => {
                        return Ok(Err("the endpoint's vault was not found".to_owned()))
                    }
                    Err(e) => return Err(e),
                },
                None => None,
            };
            if let Some(id) = &vault_id {
                t.vault = store::get::<Vault>(tx, &store::VAULTS, id)?.map(vault_resource);
            } else if let Some(v) = &endpoint_vault {
                t.vault = Some(vault_resource(v.clone()));
            }
            if let Some(id) = &key_id {
                t.key = store::get::<Key>(tx, &store::KEYS, id)?
                    .filter(|k| endpoint_vault.as_ref().is_none_or(|v| v.id == k.vault_id))
                    .map(key_resource);
            }
            if let Some(id) = &secret_id {
                t.secret = store::get::<Secret>(tx, &store::SECRETS, id)?.map(secret_resource);
            }
            if let Some((vault, name)) = &by_name {
                t.secret = crate::domain::secrets::by_name(tx, vault, name, now)
                    .ok()
                    .map(secret_resource);
            }
            Ok(Ok(t))
        })
        .await?;
    Ok(loaded)
}

/// The target of a simulation (`POST /_emulator/iam/simulate`, `policy
/// check`): ids are looked up when a store is at hand, names and the
/// compartment fill in what is not found.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TargetSpec {
    /// A compartment OCID, `tenancy`, or an `a:b` path from the root.
    pub compartment_id: Option<String>,
    /// A vault OCID.
    pub vault_id: Option<String>,
    /// A key OCID.
    pub key_id: Option<String>,
    /// A secret OCID.
    pub secret_id: Option<String>,
    /// The secret's name (`target.secret.name`).
    pub secret_name: Option<String>,
}

/// The principal of a simulation: a tenancy user, or a made-up one in the
/// given groups.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PrincipalSpec {
    /// A user's OCID or name.
    pub user: Option<String>,
    /// Group names, for a principal that is not in the tenancy file.
    #[serde(default)]
    pub groups: Vec<String>,
}

/// Builds a simulation's principal.
///
/// # Errors
/// An unknown user, or neither user nor groups given.
pub fn simulated_principal(
    tenancy: &super::tenancy::Tenancy,
    dir: &Directory,
    spec: &PrincipalSpec,
) -> Result<Principal, String> {
    if let Some(user) = &spec.user {
        let u = tenancy
            .user(user)
            .ok_or_else(|| format!("no user has the OCID or name {user:?}"))?;
        return Ok(tenancy.user_principal(u));
    }
    Ok(Principal {
        user_id: "ocid1.user.oc1..simulated".into(),
        user_name: "simulated".into(),
        tenancy_id: tenancy.id().to_owned(),
        kind: "user",
        compartment_id: None,
        groups: spec
            .groups
            .iter()
            .map(|name| super::tenancy::GroupRef {
                id: super::eval::group_id(dir, name)
                    .unwrap_or_else(|| format!("ocid1.group.oc1..unknown-{name}")),
                name: name.clone(),
            })
            .collect(),
        dynamic_groups: Vec::new(),
    })
}

/// Targets from a spec alone (offline): every resource lives in the given
/// compartment.
///
/// # Errors
/// A compartment that is neither an OCID, `tenancy`, nor a known path.
pub fn offline_targets(dir: &Directory, spec: &TargetSpec) -> Result<Targets, String> {
    let compartment = match &spec.compartment_id {
        Some(c) => Some(
            dir.resolve(c)
                .or_else(|| c.starts_with("ocid1.").then(|| c.clone()))
                .ok_or_else(|| format!("no compartment {c:?} in the tenancy"))?,
        ),
        None => None,
    };
    let within = |id: &Option<String>| {
        id.as_ref().map(|id| Resource {
            id: id.clone(),
            compartment_id: compartment.clone().unwrap_or_default(),
            name: None,
            vault_id: spec.vault_id.clone(),
        })
    };
    let secret = if spec.secret_id.is_some() || spec.secret_name.is_some() {
        Some(Resource {
            id: spec
                .secret_id
                .clone()
                .unwrap_or_else(|| "ocid1.vaultsecret.oc1..simulated".into()),
            compartment_id: compartment.clone().unwrap_or_default(),
            name: spec.secret_name.clone(),
            vault_id: spec.vault_id.clone(),
        })
    } else {
        None
    };
    Ok(Targets {
        compartment_id: compartment.clone(),
        vault: within(&spec.vault_id).map(|mut v| {
            v.vault_id = None;
            v
        }),
        key: within(&spec.key_id),
        secret,
        new_secret_name: spec.secret_name.clone(),
    })
}

/// Like [`offline_targets`], but resources that exist in the store take
/// their real compartment, vault and name.
///
/// # Errors
/// As [`offline_targets`], or a store failure.
pub async fn online_targets(app: &AppState, spec: &TargetSpec) -> Result<Targets, String> {
    let engine = app.iam.engine();
    let mut t = offline_targets(engine.directory(), spec)?;
    let spec = spec.clone();
    let found = app
        .store
        .read(move |tx| {
            let vault = match &spec.vault_id {
                Some(id) => store::get::<Vault>(tx, &store::VAULTS, id)?.map(vault_resource),
                None => None,
            };
            let key = match &spec.key_id {
                Some(id) => store::get::<Key>(tx, &store::KEYS, id)?.map(key_resource),
                None => None,
            };
            let secret = match &spec.secret_id {
                Some(id) => store::get::<Secret>(tx, &store::SECRETS, id)?.map(secret_resource),
                None => None,
            };
            Ok((vault, key, secret))
        })
        .await
        .map_err(|e| e.to_string())?;
    if let Some(v) = found.0 {
        t.vault = Some(v);
    }
    if let Some(k) = found.1 {
        t.key = Some(k);
    }
    if let Some(s) = found.2 {
        t.secret = Some(s);
    }
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

/// Explains what `principal` may do for `operation` on `targets` under
/// `engine`, without making the request.
///
/// # Errors
/// A target the operation needs is missing from the spec.
pub fn simulate(
    engine: &Engine,
    principal: Principal,
    operation: Operation,
    region: &str,
    targets: &Targets,
) -> Result<Json, String> {
    let checks = checks_for(operation, targets)?;
    let request = Request {
        principal,
        operation: operation.name(),
        region: region.to_owned(),
        checks,
    };
    let mut out = engine.explain(&request);
    if let Some(i) = engine.first_denied(&request) {
        let error = denial(&request.checks[i]);
        out["response"] =
            json!({"status": error.code.status().as_u16(), "code": error.code.as_str()});
    }
    out["lint"] = json!(engine.lint());
    Ok(out)
}

/// An operation by its OCI name (case-insensitive).
pub fn operation_named(name: &str) -> Option<Operation> {
    crate::operation::OPERATIONS
        .iter()
        .find(|s| s.name.eq_ignore_ascii_case(name))
        .map(|s| s.operation)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn res(id: &str, compartment: &str) -> Option<Resource> {
        Some(Resource {
            id: id.into(),
            compartment_id: compartment.into(),
            name: Some("n".into()),
            vault_id: Some("v".into()),
        })
    }

    #[test]
    fn create_secret_checks_the_compartment_then_vault_then_key() {
        let t = Targets {
            compartment_id: Some("c".into()),
            vault: res("v", "cv"),
            key: res("k", "ck"),
            secret: None,
            new_secret_name: Some("db".into()),
        };
        let checks = checks_for(Operation::CreateSecret, &t).unwrap();
        let summary: Vec<(&str, Role, &str)> = checks
            .iter()
            .map(|c| (c.permission, c.role, c.target.compartment_id.as_str()))
            .collect();
        assert_eq!(
            summary,
            vec![
                ("SECRET_CREATE", Role::Create, "c"),
                ("VAULT_CREATE_SECRET", Role::Related, "cv"),
                ("KEY_ENCRYPT", Role::Related, "ck"),
                ("KEY_DECRYPT", Role::Related, "ck"),
            ]
        );
        assert_eq!(
            denial(&checks[1]).code,
            ErrorCode::RelatedResourceNotAuthorizedOrNotFound
        );
        assert_eq!(
            denial(&checks[0]).code,
            ErrorCode::NotAuthorizedOrResourceAlreadyExists
        );
    }

    #[test]
    fn lists_are_checked_on_the_listed_compartment_and_crypto_on_the_key() {
        let t = Targets {
            compartment_id: Some("c".into()),
            ..Targets::default()
        };
        let checks = checks_for(Operation::ListSecrets, &t).unwrap();
        assert_eq!(checks[0].permission, "SECRET_INSPECT");
        assert_eq!(checks[0].target.kind, "compartment");
        assert!(checks[0].target.variables.is_empty());
        let t = Targets {
            key: res("k", "ck"),
            ..Targets::default()
        };
        let checks = checks_for(Operation::Encrypt, &t).unwrap();
        assert_eq!((checks[0].role, checks[0].target.kind), (Role::Own, "key"));
        assert!(checks_for(Operation::GetSecret, &t).is_err());
    }

    #[test]
    fn every_implemented_operation_maps_its_permissions_to_a_target() {
        let full = Targets {
            compartment_id: Some("c".into()),
            vault: res("v", "c"),
            key: res("k", "c"),
            secret: res("s", "c"),
            new_secret_name: None,
        };
        for spec in crate::operation::OPERATIONS
            .iter()
            .filter(|s| s.implemented)
        {
            let checks = checks_for(spec.operation, &full).unwrap();
            assert_eq!(checks.len(), spec.permissions.len(), "{}", spec.name);
        }
    }
}
