//! Authorisation: the policy set in force, the checks an operation needs on
//! its resolved targets, and the authorise decision — a pure function of
//! (principal, operation, targets, policies) that the pipeline calls and
//! records.
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

use std::sync::Arc;

use serde::Deserialize;
use serde_json::{json, Value as Json};
use time::OffsetDateTime;

use super::eval::{Check, Directory, Engine, Request, Role, Target};
use super::tenancy::Principal;
use crate::operation::Operation;

/// The header a denial (and any error answered after a recorded decision)
/// carries: the URL of its explanation. Clients ignore unknown headers.
pub const DECISION_HEADER: &str = "x-oci-emulator-decision";

/// The message of a refused create (409); the same as for an existing one.
pub const NOT_AUTHORIZED_OR_EXISTS: &str =
    "Authorization failed or requested resource already exists.";

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
    // A restore creates its resource in a compartment: the query's
    // `compartmentId` for a vault; for a key, the compartment it was backed
    // up in (which the pipeline reads from the backup's clear header).
    if matches!(permission, "VAULT_CREATE" | "KEY_CREATE" | "SECRET_CREATE")
        || (operation == ImportKey && permission == "KEY_IMPORT")
        || matches!(
            operation,
            RestoreVaultFromFile
                | RestoreVaultFromObjectStore
                | RestoreKeyFromFile
                | RestoreKeyFromObjectStore
        )
    {
        return (Scope::Compartment, Role::Create);
    }
    // The Audit API's calls are checked in the compartment they name
    // (`ListEvents`: AUDIT_EVENT_READ, Oracle "Details for Audit"; the
    // configuration: the tenancy's TENANCY_INSPECT / TENANCY_UPDATE).
    if matches!(
        operation,
        ListVaults | ListKeys | ListSecrets | ListEvents | GetConfiguration | UpdateConfiguration
    ) {
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

/// Whether `operation` moves its resource into the compartment it names
/// (`ChangeVaultCompartment`, `ChangeKeyCompartment`,
/// `ChangeSecretCompartment`): its permission is
/// then needed on the resource where it is *and* in the compartment it goes
/// to (OCI "Moving Resources to a Different Compartment").
fn moves(operation: Operation) -> bool {
    matches!(
        operation,
        Operation::ChangeVaultCompartment
            | Operation::ChangeKeyCompartment
            | Operation::ChangeSecretCompartment
    )
}

/// The checks `operation` needs on `targets`, in the order they are
/// decided (own target, then the create, then resources in the body: a
/// move's destination compartment is one).
///
/// # Errors
/// What is missing when a target the checks need was not resolved (the
/// request then goes on to the handler, which answers for the missing
/// resource).
pub fn checks_for(operation: Operation, t: &Targets) -> Result<Vec<Check>, String> {
    let mut out: Vec<(Role, Scope, Check)> = Vec::new();
    for permission in operation.spec().permissions {
        let (scope, role) = scope_of(operation, permission);
        if moves(operation) {
            let destination = t
                .compartment_id
                .clone()
                .ok_or("the request names no compartment to move into")?;
            out.push((
                Role::Related,
                Scope::Compartment,
                Check {
                    permission,
                    role: Role::Related,
                    target: Target {
                        kind: "compartment",
                        id: destination.clone(),
                        name: None,
                        compartment_id: destination,
                        variables: Vec::new(),
                    },
                },
            ));
        }
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
                        Operation::ListKeys
                            | Operation::CreateKey
                            | Operation::CreateSecret
                            | Operation::RestoreKeyFromFile
                            | Operation::RestoreKeyFromObjectStore
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

/// How a denied check answers (§2.8 of the reference): the role of the
/// denied resource decides the code; the message is OCI's fixed text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denial {
    /// Where the denied resource was named.
    pub role: Role,
    /// The wire message (never the permission or the policy).
    pub message: String,
}

impl Denial {
    /// The HTTP status and OCI code of this denial.
    pub const fn status_and_code(&self) -> (u16, &'static str) {
        match self.role {
            Role::Own => (404, "NotAuthorizedOrNotFound"),
            Role::Create => (409, "NotAuthorizedOrResourceAlreadyExists"),
            Role::Related => (400, "RelatedResourceNotAuthorizedOrNotFound"),
        }
    }
}

/// OCI's message for a missing or hidden resource.
pub const NOT_AUTHORIZED_OR_NOT_FOUND: &str =
    "Authorization failed or requested resource not found.";

/// The message of a resource named in the body (`kind` `vault`, `key` or
/// `compartment`) that does not exist or may not be used: the same text
/// whether IAM or the store says so.
pub fn related_not_found(kind: &str, id: &str) -> String {
    let kind = match kind {
        "vault" => "Vault",
        "compartment" => "Compartment",
        _ => "Key",
    };
    format!("{kind} {id} was not found or is not authorized.")
}

/// The denial a denied check answers with (fixed OCI texts only).
pub fn denial(check: &Check) -> Denial {
    let message = match check.role {
        Role::Own => NOT_AUTHORIZED_OR_NOT_FOUND.to_owned(),
        Role::Create => NOT_AUTHORIZED_OR_EXISTS.to_owned(),
        // The same text the domain gives when the resource does not exist.
        Role::Related => related_not_found(check.target.kind, &check.target.id),
    };
    Denial {
        role: check.role,
        message,
    }
}

/// What the authorise step decided for one request.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// Every check was granted.
    Allowed,
    /// The check at this index of `Decision::request.checks` was denied.
    Denied(usize),
    /// A target the checks need was not resolved (it does not exist, or the
    /// request does not name it): the handler answers for it, with the same
    /// 404 a denial gives.
    NotEvaluated(String),
}

/// One authorise decision, with what the explanation needs.
#[derive(Debug, Clone)]
pub struct Decision {
    /// The policies it was made under.
    pub engine: Arc<Engine>,
    /// The operation's name.
    pub operation: &'static str,
    /// The caller.
    pub principal: Principal,
    /// The checks evaluated (`None` when not evaluated).
    pub request: Option<Request>,
    /// The outcome.
    pub outcome: Outcome,
}

impl Decision {
    /// The denied check, if any.
    pub fn denied_check(&self) -> Option<&Check> {
        match (&self.outcome, &self.request) {
            (Outcome::Denied(i), Some(r)) => r.checks.get(*i),
            _ => None,
        }
    }

    /// How the request is refused, if it is.
    pub fn denial(&self) -> Option<Denial> {
        self.denied_check().map(denial)
    }
}

/// The authorise step: evaluates the checks `operation` needs on `targets`
/// under `engine` at `now` (the request's time, which the
/// `request.utc-timestamp` variables read); a target the checks need that
/// is absent makes the decision [`Outcome::NotEvaluated`]. Pure: records
/// nothing.
pub fn authorize(
    engine: Arc<Engine>,
    principal: &Principal,
    operation: Operation,
    region: &str,
    targets: &Targets,
    variables: Vec<(&'static str, String)>,
    now: OffsetDateTime,
) -> Decision {
    let mut decision = Decision {
        engine,
        operation: operation.name(),
        principal: principal.clone(),
        request: None,
        outcome: Outcome::Allowed,
    };
    let checks = match checks_for(operation, targets) {
        Ok(checks) => checks,
        Err(why) => {
            decision.outcome = Outcome::NotEvaluated(why);
            return decision;
        }
    };
    let request = Request {
        principal: principal.clone(),
        operation: operation.name(),
        region: region.to_owned(),
        checks,
        variables,
        time: now,
    };
    if let Some(i) = decision.engine.first_denied(&request) {
        decision.outcome = Outcome::Denied(i);
    }
    decision.request = Some(request);
    decision
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

/// The principal of a simulation: a tenancy user, an instance of the
/// tenancy file, a resource principal, or a made-up user in the given groups.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PrincipalSpec {
    /// A user's OCID or name.
    pub user: Option<String>,
    /// An instance's OCID or display name (an instance principal).
    pub instance: Option<String>,
    /// A resource principal: `{"type", "id", "compartmentId"}`.
    pub resource: Option<ResourceSpec>,
    /// Group names, for a principal that is not in the tenancy file.
    #[serde(default)]
    pub groups: Vec<String>,
}

/// A simulated resource principal.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ResourceSpec {
    /// The resource type (`fnfunc`, `computecontainerinstance`, …).
    #[serde(rename = "type")]
    pub resource_type: String,
    /// The resource's OCID.
    pub id: String,
    /// Its compartment's OCID.
    pub compartment_id: String,
}

/// Builds a simulation's principal.
///
/// # Errors
/// An unknown user or instance, or a resource in an unknown compartment.
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
    if let Some(name) = &spec.instance {
        let instance = tenancy
            .file
            .instances
            .iter()
            .find(|i| &i.id == name || i.display_name.eq_ignore_ascii_case(name))
            .ok_or_else(|| format!("no instance has the OCID or display name {name:?}"))?;
        return Ok(tenancy.instance_principal(instance));
    }
    if let Some(r) = &spec.resource {
        if !tenancy.has_compartment(&r.compartment_id) {
            return Err(format!(
                "resource.compartmentId {:?} is neither the tenancy nor a compartment",
                r.compartment_id
            ));
        }
        return Ok(tenancy.resource_principal(&r.id, &r.resource_type, &r.compartment_id));
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
                domain: super::tenancy::DEFAULT_DOMAIN.to_owned(),
            })
            .collect(),
        dynamic_groups: Vec::new(),
        resource_type: None,
        dynamic_group_matches: Vec::new(),
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

/// Explains what `principal` may do for `operation` on `targets` under
/// `engine`, as a request made at `at` would be decided (time conditions
/// read it), without making the request.
///
/// # Errors
/// A target the operation needs is missing from the spec.
pub fn simulate(
    engine: &Engine,
    principal: Principal,
    operation: Operation,
    region: &str,
    targets: &Targets,
    at: OffsetDateTime,
) -> Result<Json, String> {
    let checks = checks_for(operation, targets)?;
    let request = Request {
        principal,
        operation: operation.name(),
        region: region.to_owned(),
        checks,
        variables: Vec::new(),
        time: at,
    };
    let mut out = engine.explain(&request);
    if let Some(i) = engine.first_denied(&request) {
        let (status, code) = denial(&request.checks[i]).status_and_code();
        out["response"] = json!({"status": status, "code": code});
    }
    out["lint"] = json!(engine.lint());
    Ok(out)
}

/// The variables a request's body supplies to conditions (Oracle's Vault
/// policy reference): GenerateDataEncryptionKey's
/// `request.includePlainTextKey` (`'true'`/`'false'`, from its
/// `includePlaintextKey`; absent when the body does not say).
pub fn request_variables(operation: Operation, body: &[u8]) -> Vec<(&'static str, String)> {
    match operation {
        Operation::GenerateDataEncryptionKey => serde_json::from_slice::<serde_json::Value>(body)
            .ok()
            .and_then(|v| v.get("includePlaintextKey")?.as_bool())
            .map(|b| vec![("request.includeplaintextkey", b.to_string())])
            .unwrap_or_default(),
        _ => Vec::new(),
    }
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
            denial(&checks[1]).status_and_code(),
            (400, "RelatedResourceNotAuthorizedOrNotFound")
        );
        assert_eq!(
            denial(&checks[0]).status_and_code(),
            (409, "NotAuthorizedOrResourceAlreadyExists")
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
            let per_permission = if moves(spec.operation) { 2 } else { 1 };
            assert_eq!(
                checks.len(),
                spec.permissions.len() * per_permission,
                "{}",
                spec.name
            );
        }
    }

    #[test]
    fn a_move_needs_its_permission_where_the_resource_is_and_where_it_goes() {
        let t = Targets {
            compartment_id: Some("to".into()),
            key: res("k", "from"),
            ..Targets::default()
        };
        let checks = checks_for(Operation::ChangeKeyCompartment, &t).unwrap();
        let summary: Vec<(&str, Role, &str, &str)> = checks
            .iter()
            .map(|c| {
                (
                    c.permission,
                    c.role,
                    c.target.kind,
                    c.target.compartment_id.as_str(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            vec![
                ("KEY_MOVE", Role::Own, "key", "from"),
                ("KEY_MOVE", Role::Related, "compartment", "to"),
            ]
        );
        assert_eq!(
            denial(&checks[1]),
            Denial {
                role: Role::Related,
                message: "Compartment to was not found or is not authorized.".into()
            }
        );
    }
}
