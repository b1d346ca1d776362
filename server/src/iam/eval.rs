//! Policy evaluation: compiled statements × a request's permission checks →
//! allowed or denied, and, on demand, the explanation OCI never gives.
//!
//! Semantics (OCI "How Policies Work", "Policy Syntax", "Locations",
//! "Conditions", "Details for the Vault Service"; reference §11):
//! - allow-only: a permission is granted when one statement grants it;
//! - a statement grants permission P on a target in compartment C when its
//!   subject covers the principal, its verb and resource type include P
//!   (verbs are cumulative, `secret-family` and `all-resources` aggregate),
//!   its location is C or an ancestor of C, and its condition holds;
//! - a policy applies in the compartment it is attached to and below;
//!   compartment names resolve as children of that compartment (`a:b` paths);
//! - a condition that names a variable the request does not supply grants
//!   nothing ("Variables Not Applicable to a Request Result in a Declined
//!   Request"); comparisons are case-insensitive; `/x*/` is a pattern, a
//!   quoted `'x*'` a literal;
//! - group `Administrators` holds the built-in tenancy-wide manage-all;
//! - the `request.utc-timestamp` variables are always supplied, read from
//!   the request's time ([`Request::time`], the emulator's virtual clock);
//!   explanations give each comparison's variable, its value then and
//!   whether it held ([`super::time_conditions`]).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use serde_json::{json, Value as Json};
use time::OffsetDateTime;

use super::policy::{
    self, value_matches, Condition, Level, Location, Statement, Subject, Value, Verb,
};
use super::tenancy::{Policy, Principal, TenancyFile, DEFAULT_DOMAIN};
use super::time_conditions::TimeVariable;

/// Cumulative permissions per resource type: the permissions each verb adds
/// (inspect, read, use, manage), from the Vault policy reference.
const TABLE: &[(&str, [&[&str]; 4])] = &[
    (
        "vaults",
        [
            &["VAULT_INSPECT"],
            &["VAULT_READ"],
            &[
                "VAULT_CREATE_KEY",
                "VAULT_IMPORT_KEY",
                "VAULT_CREATE_SECRET",
            ],
            &[
                "VAULT_CREATE",
                "VAULT_UPDATE",
                "VAULT_DELETE",
                "VAULT_MOVE",
                "VAULT_BACKUP",
                "VAULT_RESTORE",
                "VAULT_REPLICATE",
            ],
        ],
    ),
    (
        "keys",
        [
            &["KEY_INSPECT"],
            &["KEY_READ"],
            &[
                "KEY_ENCRYPT",
                "KEY_DECRYPT",
                "KEY_EXPORT",
                "KEY_SIGN",
                "KEY_VERIFY",
            ],
            &[
                "KEY_CREATE",
                "KEY_UPDATE",
                "KEY_ROTATE",
                "KEY_DELETE",
                "KEY_MOVE",
                "KEY_IMPORT",
                "KEY_BACKUP",
                "KEY_RESTORE",
            ],
        ],
    ),
    (
        "key-delegate",
        [&[], &[], &["KEY_ASSOCIATE", "KEY_DISASSOCIATE"], &[]],
    ),
    (
        "secrets",
        [
            &["SECRET_INSPECT"],
            &["SECRET_READ"],
            // SECRET_ROTATE (RotateSecret, CancelSecretRotation) comes with
            // `use secrets` ("Details for the Vault Service").
            &["SECRET_UPDATE", "SECRET_ROTATE"],
            &["SECRET_CREATE", "SECRET_DELETE", "SECRET_MOVE"],
        ],
    ),
    (
        "secret-versions",
        [
            &["SECRET_VERSION_INSPECT"],
            &["SECRET_VERSION_READ"],
            &[],
            &["SECRET_VERSION_DELETE"],
        ],
    ),
    (
        "secret-bundles",
        [
            &["SECRET_BUNDLE_INSPECT"],
            &["SECRET_BUNDLE_READ"],
            &[],
            &[],
        ],
    ),
    // Oracle "Details for Audit": `read audit-events` is AUDIT_EVENT_READ.
    ("audit-events", [&[], &["AUDIT_EVENT_READ"], &[], &[]]),
    // The Audit configuration is a tenancy setting (Oracle "Setting Audit
    // Log Retention Period": done by tenancy administrators).
    (
        "tenancies",
        [&["TENANCY_INSPECT"], &[], &[], &["TENANCY_UPDATE"]],
    ),
];

/// The families: `secret-family` and `all-resources` (for the Vault service).
const FAMILIES: &[(&str, &[&str])] = &[
    (
        "secret-family",
        &["secrets", "secret-versions", "secret-bundles"],
    ),
    (
        "all-resources",
        &[
            "vaults",
            "keys",
            "key-delegate",
            "secrets",
            "secret-versions",
            "secret-bundles",
            "audit-events",
            "tenancies",
        ],
    ),
];

/// Whether `verb resource` includes `permission`.
pub fn level_grants(resource: &str, level: Level, permission: &str) -> bool {
    if let Some((_, members)) = FAMILIES.iter().find(|(f, _)| *f == resource) {
        return members.iter().any(|m| level_grants(m, level, permission));
    }
    TABLE
        .iter()
        .find(|(t, _)| *t == resource)
        .is_some_and(|(_, rows)| {
            rows[..=level as usize]
                .iter()
                .any(|row| row.contains(&permission))
        })
}

fn known_resource_type(resource: &str) -> bool {
    TABLE.iter().any(|(t, _)| *t == resource) || FAMILIES.iter().any(|(f, _)| *f == resource)
}

fn known_permission(permission: &str) -> bool {
    TABLE
        .iter()
        .any(|(_, rows)| rows.iter().any(|r| r.contains(&permission)))
}

/// Variables the emulator supplies (some only for some requests).
pub const VARIABLES: &[&str] = &[
    "request.operation",
    "request.permission",
    "request.user.id",
    "request.user.name",
    "request.groups.id",
    "request.principal.type",
    "request.principal.id",
    "request.principal.compartment.id",
    "request.region",
    "target.compartment.id",
    "target.compartment.name",
    "target.vault.id",
    "target.key.id",
    "target.secret.name",
    "target.secret.id",
    "request.includeplaintextkey",
    "request.utc-timestamp",
    "request.utc-timestamp.month-of-year",
    "request.utc-timestamp.day-of-month",
    "request.utc-timestamp.day-of-week",
    "request.utc-timestamp.time-of-day",
];

/// The name of the built-in policy that gives `Administrators` everything.
pub const BUILT_IN_POLICY: &str = "Tenant Admin Policy (built-in)";
const BUILT_IN_STATEMENT: &str = "Allow group Administrators to manage all-resources in tenancy";

/// The compartment tree and the group names, from the tenancy file.
#[derive(Debug)]
pub struct Directory {
    tenancy_id: String,
    tenancy_name: String,
    /// id → (name, parent id; None for the root).
    compartments: HashMap<String, (String, Option<String>)>,
    /// lowercase group name → id.
    /// `domain/name` (lowercase) → id.
    groups: HashMap<String, String>,
    /// lowercase dynamic-group name → id.
    dynamic_groups: HashMap<String, String>,
}

impl Directory {
    /// Builds the directory of a (validated) tenancy file.
    pub fn new(file: &TenancyFile) -> Self {
        let mut compartments = HashMap::new();
        compartments.insert(file.tenancy.id.clone(), (file.tenancy.name.clone(), None));
        for c in &file.compartments {
            compartments.insert(c.id.clone(), (c.name.clone(), Some(c.parent_id.clone())));
        }
        Self {
            tenancy_id: file.tenancy.id.clone(),
            tenancy_name: file.tenancy.name.clone(),
            compartments,
            groups: file
                .groups
                .iter()
                .map(|g| (group_key(g.domain(), &g.name), g.id.clone()))
                .collect(),
            dynamic_groups: file
                .dynamic_groups
                .iter()
                .map(|g| (g.name.to_lowercase(), g.id.clone()))
                .collect(),
        }
    }

    /// The tenancy (root compartment) OCID.
    pub fn tenancy_id(&self) -> &str {
        &self.tenancy_id
    }

    /// Whether `id` is the tenancy or one of its compartments.
    pub fn exists(&self, id: &str) -> bool {
        self.compartments.contains_key(id)
    }

    /// `id` and its ancestors up to the tenancy, nearest first. A compartment
    /// the tenancy file does not know is treated as a child of the root.
    pub fn ancestors<'a>(&'a self, id: &'a str) -> Vec<&'a str> {
        let mut out = vec![id];
        let mut current = id;
        while let Some((_, parent)) = self.compartments.get(current) {
            match parent {
                Some(p) if out.len() < 64 => {
                    out.push(p);
                    current = p;
                }
                _ => return out,
            }
        }
        if current != self.tenancy_id {
            out.push(&self.tenancy_id);
        }
        out
    }

    /// A compartment's name (`target.compartment.name`).
    pub fn name(&self, id: &str) -> Option<&str> {
        self.compartments.get(id).map(|(n, _)| n.as_str())
    }

    /// A readable path: `tenancy`, `apps`, `apps:dev`.
    pub fn path(&self, id: &str) -> String {
        if id == self.tenancy_id {
            return format!("tenancy ({})", self.tenancy_name);
        }
        if !self.exists(id) {
            return format!("{id} (not in the tenancy file)");
        }
        let mut names: Vec<&str> = self
            .ancestors(id)
            .iter()
            .filter(|a| **a != self.tenancy_id)
            .filter_map(|a| self.name(a))
            .collect();
        names.reverse();
        names.join(":")
    }

    fn child(&self, parent: &str, name: &str) -> Option<&str> {
        self.compartments
            .iter()
            .find(|(_, (n, p))| p.as_deref() == Some(parent) && n.eq_ignore_ascii_case(name))
            .map(|(id, _)| id.as_str())
    }

    /// Resolves an OCID, `tenancy`, or a `a:b` path from the root.
    pub fn resolve(&self, spec: &str) -> Option<String> {
        if self.exists(spec) {
            return Some(spec.to_owned());
        }
        if spec.eq_ignore_ascii_case("tenancy") {
            return Some(self.tenancy_id.clone());
        }
        let path: Vec<String> = spec.split(':').map(str::to_owned).collect();
        self.resolve_path(&self.tenancy_id, &path).ok()
    }

    /// A statement's `compartment a:b` relative to the policy's compartment
    /// (each name a child of the previous; the first may also name the
    /// policy's own compartment, as the Console writes it).
    fn resolve_path(&self, attached: &str, path: &[String]) -> Result<String, String> {
        let mut current = attached.to_owned();
        for (i, name) in path.iter().enumerate() {
            match self.child(&current, name) {
                Some(child) => current = child.to_owned(),
                None if i == 0
                    && self
                        .name(attached)
                        .is_some_and(|n| n.eq_ignore_ascii_case(name))
                    && attached != self.tenancy_id => {}
                None => {
                    return Err(format!(
                        "no compartment named '{name}' under {}",
                        self.path(&current)
                    ))
                }
            }
        }
        Ok(current)
    }
}

/// One statement ready for evaluation.
#[derive(Debug)]
struct Compiled {
    policy: String,
    index: usize,
    text: String,
    statement: Statement,
    /// The compartment the statement grants in, or why it grants nowhere.
    location: Result<String, String>,
    lint: Vec<String>,
}

/// A finding about a statement, shown at load and in explanations.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Lint {
    /// The policy's name.
    pub policy: String,
    /// 0-based statement index within the policy.
    pub statement: usize,
    /// The statement as written.
    pub text: String,
    /// What looks wrong.
    pub message: String,
}

/// The role of a check's target in the request, which decides the error a
/// denial answers with (reference §2.8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The operation's own target (URL, or `keyId` of a crypto call), or
    /// the compartment a list reads: 404 `NotAuthorizedOrNotFound`.
    Own,
    /// Another resource named in the body: 400
    /// `RelatedResourceNotAuthorizedOrNotFound`.
    Related,
    /// The compartment a create puts a resource in: 409
    /// `NotAuthorizedOrResourceAlreadyExists`.
    Create,
}

impl Role {
    fn as_str(self) -> &'static str {
        match self {
            Role::Own => "own target",
            Role::Related => "resource named in the body",
            Role::Create => "compartment of a create",
        }
    }
}

/// What a permission is checked on.
#[derive(Debug, Clone)]
pub struct Target {
    /// `compartment`, `vault`, `key` or `secret`.
    pub kind: &'static str,
    /// Its OCID (the compartment's, for `compartment`).
    pub id: String,
    /// Its name, where it has one that policies can test.
    pub name: Option<String>,
    /// The compartment the permission is evaluated in.
    pub compartment_id: String,
    /// `target.*` variables this target supplies (beyond the compartment's).
    pub variables: Vec<(&'static str, String)>,
}

/// One permission a request needs, on one target.
#[derive(Debug, Clone)]
pub struct Check {
    /// e.g. `SECRET_READ`.
    pub permission: &'static str,
    /// Where the target was named.
    pub role: Role,
    /// The target.
    pub target: Target,
}

/// A request to authorise: who, what, and the checks it needs.
#[derive(Debug, Clone)]
pub struct Request {
    /// The caller.
    pub principal: Principal,
    /// The OCI operation name.
    pub operation: &'static str,
    /// The region (`us-ashburn-1`); `request.region` matches it or its key.
    pub region: String,
    /// The permissions needed; all must be granted.
    pub checks: Vec<Check>,
    /// Variables the request itself supplies (lowercase names), such as
    /// GenerateDataEncryptionKey's `request.includeplaintextkey`.
    pub variables: Vec<(&'static str, String)>,
    /// When the request was made (the emulator's clock): the
    /// `request.utc-timestamp` variables' value.
    pub time: OffsetDateTime,
}

/// The compiled policies of a tenancy.
#[derive(Debug)]
pub struct Engine {
    directory: Directory,
    policies: Vec<Policy>,
    statements: Vec<Compiled>,
}

/// A variable's value for one check.
enum Var<'a> {
    One(&'a str),
    Many(Vec<&'a str>),
    /// Computed for the request (the time variables).
    Owned(String),
}

impl Var<'_> {
    fn to_json(&self) -> Json {
        match self {
            Var::One(v) => json!(v),
            Var::Many(vs) => json!(vs),
            Var::Owned(v) => json!(v),
        }
    }
}

impl Engine {
    /// Compiles `policies` against the tenancy's compartments and groups.
    ///
    /// # Errors
    /// A statement that does not parse, or a policy attached to a
    /// compartment the tenancy does not have, with the policy's name, the
    /// statement and the column.
    pub fn new(file: &TenancyFile, policies: Vec<Policy>) -> Result<Self, String> {
        let directory = Directory::new(file);
        let mut statements = Vec::new();
        let built_in = policy::parse(BUILT_IN_STATEMENT).map_err(|e| e.to_string())?;
        statements.push(Compiled {
            policy: BUILT_IN_POLICY.into(),
            index: 0,
            text: BUILT_IN_STATEMENT.into(),
            statement: built_in,
            location: Ok(directory.tenancy_id.clone()),
            lint: Vec::new(),
        });
        for (p, policy) in policies.iter().enumerate() {
            if !directory.exists(&policy.compartment_id) {
                return Err(format!(
                    "policies[{p}] {:?}: compartmentId {:?} is neither the tenancy nor a compartment",
                    policy.name, policy.compartment_id
                ));
            }
            for (i, text) in policy.statements.iter().enumerate() {
                let statement = policy::parse(text).map_err(|e| {
                    format!(
                        "policies[{p}] {:?}: statements[{i}] {text:?}: {e}",
                        policy.name
                    )
                })?;
                let location = locate(&directory, &policy.compartment_id, &statement.location);
                let lint = lint(&directory, &statement, &location);
                statements.push(Compiled {
                    policy: policy.name.clone(),
                    index: i,
                    text: text.clone(),
                    statement,
                    location,
                    lint,
                });
            }
        }
        Ok(Self {
            directory,
            policies,
            statements,
        })
    }

    /// The policies as given (without the built-in one).
    pub fn policies(&self) -> &[Policy] {
        &self.policies
    }

    /// The compartment tree.
    pub fn directory(&self) -> &Directory {
        &self.directory
    }

    /// Every lint finding, in policy order.
    pub fn lint(&self) -> Vec<Lint> {
        self.statements
            .iter()
            .flat_map(|s| {
                s.lint.iter().map(|m| Lint {
                    policy: s.policy.clone(),
                    statement: s.index,
                    text: s.text.clone(),
                    message: m.clone(),
                })
            })
            .collect()
    }

    /// The index of the first check no statement grants, or `None` when
    /// every check is granted. The fast path: no explanation is built.
    pub fn first_denied(&self, request: &Request) -> Option<usize> {
        request.checks.iter().position(|check| {
            let ancestors = self.directory.ancestors(&check.target.compartment_id);
            !self
                .statements
                .iter()
                .any(|s| self.grants_within(s, request, check, &ancestors))
        })
    }

    fn grants(&self, s: &Compiled, request: &Request, check: &Check) -> bool {
        let ancestors = self.directory.ancestors(&check.target.compartment_id);
        self.grants_within(s, request, check, &ancestors)
    }

    /// Whether `s` grants `check`; `ancestors` are the target compartment's
    /// (computed once per check, not per statement).
    fn grants_within(
        &self,
        s: &Compiled,
        request: &Request,
        check: &Check,
        ancestors: &[&str],
    ) -> bool {
        self.subject_covers(&s.statement.subject, &request.principal)
            && verb_covers(&s.statement, check.permission)
            && s.location
                .as_ref()
                .is_ok_and(|at| ancestors.contains(&at.as_str()))
            && self.missing_variable(s, request, check).is_none()
            && s.statement
                .condition
                .as_ref()
                .is_none_or(|c| self.holds(c, request, check))
    }

    fn subject_covers(&self, subject: &Subject, p: &Principal) -> bool {
        match subject {
            Subject::AnyUser => true,
            Subject::AnyGroup => true,
            Subject::Groups(names) => names.iter().any(|n| {
                let domain = n.domain.as_deref().unwrap_or(DEFAULT_DOMAIN);
                p.groups.iter().any(|g| {
                    g.name.eq_ignore_ascii_case(&n.name) && g.domain.eq_ignore_ascii_case(domain)
                })
            }),
            Subject::GroupIds(ids) => ids.iter().any(|id| p.groups.iter().any(|g| &g.id == id)),
            Subject::DynamicGroups(names) => names.iter().any(|n| {
                p.dynamic_groups
                    .iter()
                    .any(|g| g.name.eq_ignore_ascii_case(&n.name))
            }),
            Subject::DynamicGroupIds(ids) => ids
                .iter()
                .any(|id| p.dynamic_groups.iter().any(|g| &g.id == id)),
        }
    }

    fn location_covers(&self, s: &Compiled, compartment: &str) -> bool {
        match &s.location {
            Ok(at) => self.directory.ancestors(compartment).contains(&at.as_str()),
            Err(_) => false,
        }
    }

    fn variable<'a>(&'a self, name: &str, r: &'a Request, c: &'a Check) -> Option<Var<'a>> {
        let p = &r.principal;
        if let Some(time_variable) = TimeVariable::named(name) {
            return Some(Var::Owned(time_variable.value_at(r.time)));
        }
        Some(match name {
            "request.operation" => Var::One(r.operation),
            "request.permission" => Var::One(c.permission),
            "request.user.id" if p.kind == "user" => Var::One(&p.user_id),
            "request.user.name" if p.kind == "user" => Var::One(&p.user_name),
            "request.principal.id" => Var::One(&p.user_id),
            "request.principal.type" => Var::One(p.principal_type()),
            "request.principal.compartment.id" => Var::One(p.compartment_id.as_deref()?),
            "request.groups.id" => Var::Many(p.groups.iter().map(|g| g.id.as_str()).collect()),
            "request.region" => Var::Many(vec![&r.region, crate::ocid::region_key(&r.region)]),
            "target.compartment.id" => Var::One(&c.target.compartment_id),
            "target.compartment.name" => Var::One(self.directory.name(&c.target.compartment_id)?),
            other => Var::One(
                r.variables
                    .iter()
                    .chain(&c.target.variables)
                    .find(|(n, _)| *n == other)
                    .map(|(_, v)| v.as_str())?,
            ),
        })
    }

    fn missing_variable<'a>(&self, s: &'a Compiled, r: &Request, c: &Check) -> Option<&'a str> {
        let condition = s.statement.condition.as_ref()?;
        condition
            .variables()
            .into_iter()
            .find(|v| self.variable(v, r, c).is_none())
    }

    fn holds(&self, condition: &Condition, r: &Request, c: &Check) -> bool {
        match condition {
            Condition::Any(list) => list.iter().any(|x| self.holds(x, r, c)),
            Condition::All(list) => list.iter().all(|x| self.holds(x, r, c)),
            Condition::Compare {
                variable,
                negated,
                value,
            } => {
                let matched = match self.variable(variable, r, c) {
                    Some(Var::One(v)) => value_matches(value, v),
                    Some(Var::Owned(v)) => value_matches(value, &v),
                    Some(Var::Many(vs)) => vs.iter().any(|v| value_matches(value, v)),
                    None => return false,
                };
                matched != *negated
            }
            Condition::Time(t) => t.holds(r.time),
        }
    }

    /// Each comparison of `condition` with the variable's value for this
    /// request and whether it held (time comparisons say why).
    fn comparisons(&self, condition: &Condition, r: &Request, c: &Check, out: &mut Vec<Json>) {
        match condition {
            Condition::Any(list) | Condition::All(list) => {
                for x in list {
                    self.comparisons(x, r, c, out);
                }
            }
            Condition::Compare { variable, .. } => {
                let value = self.variable(variable, r, c);
                let holds = self.holds(condition, r, c);
                out.push(json!({
                    "condition": condition.to_string(),
                    "variable": variable,
                    "value": value.as_ref().map_or(Json::Null, Var::to_json),
                    "holds": holds,
                }));
            }
            Condition::Time(t) => out.push(json!({
                "condition": condition.to_string(),
                "variable": t.variable.name(),
                "value": t.variable.value_at(r.time),
                "holds": t.holds(r.time),
                "why": t.explain(r.time),
            })),
        }
    }

    /// The full explanation of a request: per check, every statement and
    /// why it did or did not grant. No secret content is involved: only
    /// names, OCIDs and policy text.
    pub fn explain(&self, request: &Request) -> Json {
        let denied = self.first_denied(request);
        let checks: Vec<Json> = request
            .checks
            .iter()
            .map(|check| {
                let statements: Vec<Json> = self
                    .statements
                    .iter()
                    .map(|s| self.explain_statement(s, request, check))
                    .collect();
                let granted_by = self
                    .statements
                    .iter()
                    .find(|s| self.grants(s, request, check))
                    .map(|s| json!({"policy": s.policy, "statement": s.text}));
                json!({
                    "permission": check.permission,
                    "role": check.role.as_str(),
                    "target": {
                        "kind": check.target.kind,
                        "id": check.target.id,
                        "name": check.target.name,
                        "compartmentId": check.target.compartment_id,
                        "compartmentPath": self.directory.path(&check.target.compartment_id),
                    },
                    "granted": granted_by.is_some(),
                    "grantedBy": granted_by,
                    "statements": statements,
                })
            })
            .collect();
        let summary = match denied {
            None => format!(
                "Allowed: every permission {} needs is granted.",
                request.operation
            ),
            Some(i) => {
                let c = &request.checks[i];
                format!(
                    "Denied: no statement grants {} on {} {} in {} to {} {}.",
                    c.permission,
                    c.target.kind,
                    c.target.name.as_deref().unwrap_or(&c.target.id),
                    self.directory.path(&c.target.compartment_id),
                    request.principal.kind,
                    request.principal.user_name,
                )
            }
        };
        json!({
            "operation": request.operation,
            "requestTime": TimeVariable::Timestamp.value_at(request.time),
            "principal": {
                "type": request.principal.principal_type(),
                "id": request.principal.user_id,
                "name": request.principal.user_name,
                "compartmentId": request.principal.compartment_id,
                "groups": request.principal.groups.iter().map(|g| &g.name).collect::<Vec<_>>(),
                "dynamicGroups": request.principal.dynamic_groups.iter().map(|g| &g.name).collect::<Vec<_>>(),
                "dynamicGroupMatches": request.principal.dynamic_group_matches.iter().map(|m| json!({
                    "id": m.id, "name": m.name, "matched": m.matched, "why": m.why,
                })).collect::<Vec<_>>(),
            },
            "decision": if denied.is_some() { "denied" } else { "allowed" },
            "summary": summary,
            "checks": checks,
        })
    }

    /// The values a failed condition saw: `v = 'x'` per variable, and for a
    /// time comparison why it held or not.
    fn condition_values(&self, cond: &Condition, r: &Request, c: &Check) -> String {
        let mut seen: Vec<String> = Vec::new();
        let mut times = Vec::new();
        collect_times(cond, &mut times);
        for t in times {
            let why = t.explain(r.time);
            if !seen.contains(&why) {
                seen.push(why);
            }
        }
        for v in cond.variables() {
            if TimeVariable::named(v).is_some() {
                continue;
            }
            let text = match self.variable(v, r, c) {
                Some(Var::One(x)) => format!("{v} = '{x}'"),
                Some(Var::Owned(x)) => format!("{v} = '{x}'"),
                Some(Var::Many(xs)) => format!("{v} in ['{}']", xs.join("', '")),
                None => format!("{v} absent"),
            };
            if !seen.contains(&text) {
                seen.push(text);
            }
        }
        seen.join(", ")
    }

    fn explain_statement(&self, s: &Compiled, r: &Request, c: &Check) -> Json {
        let st = &s.statement;
        let subject = if self.subject_covers(&st.subject, &r.principal) {
            Ok(format!(
                "{} covers {} {}",
                st.subject, r.principal.kind, r.principal.user_name
            ))
        } else {
            let names = |groups: &[super::tenancy::GroupRef]| {
                groups
                    .iter()
                    .map(|g| g.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let member_of = if r.principal.kind == "user" {
                format!("groups: {}", names(&r.principal.groups))
            } else {
                format!("dynamic groups: {}", names(&r.principal.dynamic_groups))
            };
            Err(format!(
                "{} does not cover {} {} ({member_of})",
                st.subject, r.principal.kind, r.principal.user_name,
            ))
        };
        let grant = match &st.resource {
            Some(res) => format!("{} {res}", st.verb),
            None => st.verb.to_string(),
        };
        let verb = if verb_covers(st, c.permission) {
            Ok(format!("{grant} includes {}", c.permission))
        } else {
            Err(format!("{grant} does not include {}", c.permission))
        };
        let location = match &s.location {
            Err(why) => Err(format!("grants nowhere: {why}")),
            Ok(at) if self.location_covers(s, &c.target.compartment_id) => Ok(format!(
                "{} contains {}",
                self.directory.path(at),
                self.directory.path(&c.target.compartment_id)
            )),
            Ok(at) => Err(format!(
                "{} does not contain {} (policies apply in their compartment and below, never above or beside)",
                self.directory.path(at),
                self.directory.path(&c.target.compartment_id)
            )),
        };
        let condition = match &st.condition {
            None => Ok("no condition".to_owned()),
            Some(cond) => match self.missing_variable(s, r, c) {
                Some(v) => Err(format!(
                    "{v} is not supplied by {} for {}: OCI declines a statement whose condition names a variable the request does not have",
                    r.operation, c.permission
                )),
                None if self.holds(cond, r, c) => Ok(format!("{cond} holds")),
                None => Err(format!(
                    "{cond} does not hold ({})",
                    self.condition_values(cond, r, c)
                )),
            },
        };
        let mut comparisons = Vec::new();
        if let Some(cond) = &st.condition {
            self.comparisons(cond, r, c, &mut comparisons);
        }
        let facet = |r: Result<String, String>| match r {
            Ok(why) => json!({"ok": true, "why": why}),
            Err(why) => json!({"ok": false, "why": why}),
        };
        let grants = subject.is_ok() && verb.is_ok() && location.is_ok() && condition.is_ok();
        json!({
            "policy": s.policy,
            "statement": s.text,
            "grants": grants,
            "subject": facet(subject),
            "verb": facet(verb),
            "location": facet(location),
            "condition": facet(condition),
            "comparisons": comparisons,
            "lint": s.lint,
        })
    }
}

fn collect_times<'a>(
    condition: &'a Condition,
    out: &mut Vec<&'a super::time_conditions::TimeCondition>,
) {
    match condition {
        Condition::Any(list) | Condition::All(list) => {
            for c in list {
                collect_times(c, out);
            }
        }
        Condition::Compare { .. } => {}
        Condition::Time(t) => out.push(t),
    }
}

fn verb_covers(st: &Statement, permission: &str) -> bool {
    match &st.verb {
        Verb::Permissions(list) => list.iter().any(|p| p == permission),
        Verb::Level(level) => st
            .resource
            .as_deref()
            .is_some_and(|r| level_grants(r, *level, permission)),
    }
}

fn locate(dir: &Directory, attached: &str, location: &Location) -> Result<String, String> {
    let within = |id: &str| dir.ancestors(id).contains(&attached);
    match location {
        Location::Tenancy if attached == dir.tenancy_id => Ok(dir.tenancy_id.clone()),
        Location::Tenancy => Err(format!(
            "'in tenancy' in a policy attached to {}: a policy reaches only its compartment and below",
            dir.path(attached)
        )),
        Location::Id(id) if !dir.exists(id) => Err(format!("no compartment has id {id}")),
        Location::Id(id) if !within(id) => Err(format!(
            "{} is outside {}, where the policy is attached",
            dir.path(id),
            dir.path(attached)
        )),
        Location::Id(id) => Ok(id.clone()),
        Location::Path(path) => dir.resolve_path(attached, path),
    }
}

/// Lint of single comparisons OCI would not match as written: a
/// `request.region` compared with a region name (OCI supplies the key,
/// `IAD`), and a bare-word value that is not an OCID (OCI's policy reference
/// quotes values).
fn lint_comparisons(condition: &Condition, out: &mut Vec<String>) {
    match condition {
        Condition::Any(list) | Condition::All(list) => {
            for c in list {
                lint_comparisons(c, out);
            }
        }
        Condition::Time(t) => {
            out.extend(t.lint());
            for value in t.values() {
                if let Value::Word(word) = value {
                    out.push(format!(
                        "the value {word} is not quoted: OCI's policy reference writes time values in single quotes ('{word}')"
                    ));
                }
            }
        }
        Condition::Compare {
            variable, value, ..
        } => {
            let text = match value {
                Value::Quoted(t) | Value::Word(t) => t.as_str(),
                Value::Pattern(_) => return,
            };
            if variable == "request.region" && text.contains('-') {
                let key = crate::ocid::region_key(&text.to_ascii_lowercase()).to_ascii_uppercase();
                out.push(format!(
                    "request.region is a region key in OCI ('{key}'), not a name: {variable} = '{text}' does not match there (the emulator accepts both)"
                ));
            }
            if let Value::Word(word) = value {
                if !word.starts_with("ocid1.") {
                    out.push(format!(
                        "the value {word} is not quoted: OCI's policy reference writes condition values in single quotes ('{word}')"
                    ));
                }
            }
        }
    }
}

fn lint(dir: &Directory, st: &Statement, location: &Result<String, String>) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(condition) = &st.condition {
        for value in condition.values() {
            if let Value::Quoted(text) = value {
                if text.contains('*') {
                    out.push(format!(
                        "'{text}' is a literal in OCI: it matches only the exact text {text}; write /{text}/ for a pattern"
                    ));
                }
            }
        }
        lint_comparisons(condition, &mut out);
        for v in condition.variables() {
            if !VARIABLES.contains(&v) {
                out.push(format!(
                    "never grants: the emulator supplies no variable {v} (known: {})",
                    VARIABLES.join(", ")
                ));
            }
        }
    }
    match &st.subject {
        Subject::Groups(names) => {
            let missing: Vec<String> = names
                .iter()
                .filter(|n| {
                    !dir.groups.contains_key(&group_key(
                        n.domain.as_deref().unwrap_or(DEFAULT_DOMAIN),
                        &n.name,
                    ))
                })
                .map(|n| match &n.domain {
                    Some(domain) => format!("'{domain}'/'{}'", n.name),
                    None => format!("'{}'", n.name),
                })
                .collect();
            for name in &missing {
                out.push(format!("no group is named {name}"));
            }
            if missing.len() == names.len() {
                out.push("never grants: none of its groups exists".into());
            }
        }
        Subject::GroupIds(ids) => {
            if !ids.iter().any(|id| dir.groups.values().any(|g| g == id)) {
                out.push("never grants: none of its group ids exists".into());
            }
        }
        Subject::DynamicGroups(names) => {
            for n in names {
                if !dir.dynamic_groups.contains_key(&n.name.to_lowercase()) {
                    out.push(format!("no dynamic group is named '{}'", n.name));
                }
            }
        }
        Subject::DynamicGroupIds(_) | Subject::AnyUser | Subject::AnyGroup => {}
    }
    match &st.verb {
        Verb::Permissions(list) => {
            let unknown: Vec<&str> = list
                .iter()
                .filter(|p| !known_permission(p))
                .map(String::as_str)
                .collect();
            if !unknown.is_empty() {
                out.push(format!(
                    "{} is not a Vault permission{}",
                    unknown.join(", "),
                    if unknown.len() == list.len() {
                        "; never grants anything here"
                    } else {
                        ""
                    }
                ));
            }
        }
        Verb::Level(level) => {
            let resource = st.resource.as_deref().unwrap_or("");
            if !known_resource_type(resource) {
                out.push(format!(
                    "never grants here: {resource} is not a Vault resource type (vaults, keys, key-delegate, secrets, secret-versions, secret-bundles, secret-family, all-resources)"
                ));
            } else if !TABLE.iter().any(|(_, rows)| {
                rows.iter()
                    .any(|r| r.iter().any(|p| level_grants(resource, *level, p)))
            }) {
                out.push(format!(
                    "never grants: {} {resource} includes no permission",
                    level.as_str()
                ));
            }
        }
    }
    if let Err(why) = location {
        out.push(format!("never grants: {why}"));
    }
    out
}

/// Engines shared by requests and swapped whole when policies change.
pub type SharedEngine = Arc<Engine>;

/// Whether a group name is known to the tenancy (for simulate's synthetic
/// principals).
pub fn group_id(dir: &Directory, name: &str) -> Option<String> {
    dir.groups.get(&group_key(DEFAULT_DOMAIN, name)).cloned()
}

/// The directory's key of a group: `domain/name`, lowercase (names are
/// unique within an identity domain and compared without regard to case).
fn group_key(domain: &str, name: &str) -> String {
    format!("{}/{}", domain.to_lowercase(), name.to_lowercase())
}

/// A set of distinct lint messages (for logs).
pub fn distinct(lint: &[Lint]) -> HashSet<String> {
    lint.iter()
        .map(|l| {
            format!(
                "policy {:?} statement {}: {}",
                l.policy, l.statement, l.message
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::iam::tenancy::{GroupRef, Tenancy};
    use proptest::prelude::*;

    const APPS: &str =
        "ocid1.compartment.oc1..aaaaaaaaemulatorapps000000000000000000000000000000000000001";
    const DEV: &str =
        "ocid1.compartment.oc1..aaaaaaaaemulatorappsdev0000000000000000000000000000000000001";
    const SECURITY: &str =
        "ocid1.compartment.oc1..aaaaaaaaemulatorsecurity00000000000000000000000000000000001";

    fn tenancy() -> TenancyFile {
        Tenancy::embedded().file
    }

    fn policy(at: &str, statements: &[&str]) -> Policy {
        Policy {
            name: "p".into(),
            compartment_id: at.into(),
            statements: statements.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn engine(policies: Vec<Policy>) -> Engine {
        Engine::new(&tenancy(), policies).unwrap()
    }

    fn user(groups: &[&str]) -> Principal {
        Principal {
            user_id: "ocid1.user.oc1..u".into(),
            user_name: "u".into(),
            tenancy_id: tenancy().tenancy.id,
            kind: "user",
            compartment_id: None,
            groups: groups
                .iter()
                .map(|g| GroupRef {
                    id: format!("ocid1.group.oc1..{g}"),
                    name: g.to_string(),
                    domain: "Default".into(),
                })
                .collect(),
            dynamic_groups: Vec::new(),
            resource_type: None,
            dynamic_group_matches: Vec::new(),
        }
    }

    fn secret_check(permission: &'static str, compartment: &str, name: &str) -> Check {
        Check {
            permission,
            role: Role::Own,
            target: Target {
                kind: "secret",
                id: "ocid1.vaultsecret.oc1..s".into(),
                name: Some(name.into()),
                compartment_id: compartment.into(),
                variables: vec![
                    ("target.secret.name", name.into()),
                    ("target.secret.id", "ocid1.vaultsecret.oc1..s".into()),
                ],
            },
        }
    }

    fn list_check(permission: &'static str, compartment: &str) -> Check {
        Check {
            permission,
            role: Role::Own,
            target: Target {
                kind: "compartment",
                id: compartment.into(),
                name: None,
                compartment_id: compartment.into(),
                variables: Vec::new(),
            },
        }
    }

    fn request(groups: &[&str], operation: &'static str, check: Check) -> Request {
        Request {
            variables: Vec::new(),
            principal: user(groups),
            operation,
            region: "us-ashburn-1".into(),
            checks: vec![check],
            time: time::macros::datetime!(2026-12-01 10:00:00 UTC),
        }
    }

    fn allowed(e: &Engine, r: &Request) -> bool {
        e.first_denied(r).is_none()
    }

    #[test]
    fn verbs_are_cumulative_and_families_aggregate() {
        assert!(level_grants(
            "secret-family",
            Level::Read,
            "SECRET_BUNDLE_READ"
        ));
        assert!(level_grants("secrets", Level::Manage, "SECRET_INSPECT"));
        assert!(!level_grants("secrets", Level::Use, "SECRET_CREATE"));
        assert!(level_grants("all-resources", Level::Manage, "KEY_ENCRYPT"));
        assert!(!level_grants("secret-family", Level::Manage, "KEY_ENCRYPT"));
        assert!(level_grants("vaults", Level::Use, "VAULT_CREATE_SECRET"));
        assert!(level_grants("secrets", Level::Use, "SECRET_ROTATE"));
        assert!(!level_grants("secrets", Level::Read, "SECRET_ROTATE"));
    }

    #[test]
    fn administrators_may_do_everything_and_others_nothing_by_default() {
        let e = engine(Vec::new());
        let r = request(
            &["Administrators"],
            "GetSecret",
            secret_check("SECRET_READ", DEV, "x"),
        );
        assert!(allowed(&e, &r));
        let r = request(
            &["Developers"],
            "GetSecret",
            secret_check("SECRET_READ", DEV, "x"),
        );
        assert!(!allowed(&e, &r));
    }

    #[test]
    fn a_domain_prefix_matches_only_that_domains_group() {
        let e = engine(vec![policy(
            &tenancy().tenancy.id,
            &["Allow group 'Sales'/Readers to read secret-bundles in compartment apps"],
        )]);
        let check = || secret_check("SECRET_BUNDLE_READ", APPS, "a");
        // `request` makes groups of the Default domain.
        let mut r = request(&["Readers"], "GetSecretBundle", check());
        assert!(!allowed(&e, &r), "Default/Readers is not Sales/Readers");
        r.principal.groups[0].domain = "sales".into();
        assert!(allowed(&e, &r));
        let e = engine(vec![policy(
            &tenancy().tenancy.id,
            &["Allow group 'Default'/Readers to read secret-bundles in compartment apps"],
        )]);
        assert!(allowed(
            &e,
            &request(&["Readers"], "GetSecretBundle", check())
        ));
    }

    #[test]
    fn read_secret_bundles_reads_bundles_only_in_its_compartment() {
        let e = engine(vec![policy(
            &tenancy().tenancy.id,
            &["Allow group Readers to read secret-bundles in compartment apps"],
        )]);
        let g = &["Readers"];
        assert!(allowed(
            &e,
            &request(
                g,
                "GetSecretBundle",
                secret_check("SECRET_BUNDLE_READ", APPS, "a")
            )
        ));
        assert!(allowed(
            &e,
            &request(
                g,
                "GetSecretBundle",
                secret_check("SECRET_BUNDLE_READ", DEV, "a")
            )
        ));
        assert!(!allowed(
            &e,
            &request(
                g,
                "GetSecretBundle",
                secret_check("SECRET_BUNDLE_READ", SECURITY, "a")
            )
        ));
        assert!(!allowed(
            &e,
            &request(g, "GetSecret", secret_check("SECRET_READ", APPS, "a"))
        ));
        assert!(!allowed(
            &e,
            &request(g, "ListSecrets", list_check("SECRET_INSPECT", APPS))
        ));
    }

    #[test]
    fn patterns_match_and_quoted_stars_are_literals() {
        let pattern = engine(vec![policy(
            &tenancy().tenancy.id,
            &["Allow group R to read secret-bundles in tenancy where target.secret.name = /db-*/"],
        )]);
        let quoted = engine(vec![policy(
            &tenancy().tenancy.id,
            &["Allow group R to read secret-bundles in tenancy where target.secret.name = 'db-*'"],
        )]);
        let read = |name: &str| {
            request(
                &["R"],
                "GetSecretBundle",
                secret_check("SECRET_BUNDLE_READ", APPS, name),
            )
        };
        assert!(allowed(&pattern, &read("db-password")));
        assert!(allowed(&pattern, &read("DB-Password")));
        assert!(!allowed(&pattern, &read("api-token")));
        assert!(!allowed(&quoted, &read("db-password")));
        assert!(allowed(&quoted, &read("db-*")));
        assert!(quoted.lint().iter().any(|l| l.message.contains("literal")));
        let why = quoted.explain(&read("db-password")).to_string();
        assert!(why.contains("does not hold"), "{why}");
    }

    #[test]
    fn a_condition_on_a_missing_variable_grants_nothing_even_with_not_equal() {
        let e = engine(vec![policy(
            &tenancy().tenancy.id,
            &["Allow group R to inspect secrets in tenancy where target.secret.name != 'x'"],
        )]);
        assert!(!allowed(
            &e,
            &request(&["R"], "ListSecrets", list_check("SECRET_INSPECT", APPS))
        ));
        assert!(allowed(
            &e,
            &request(
                &["R"],
                "GetSecret",
                secret_check("SECRET_INSPECT", APPS, "y")
            )
        ));
    }

    #[test]
    fn policies_apply_down_never_up() {
        let parent = engine(vec![policy(
            APPS,
            &["Allow group R to read secrets in compartment dev"],
        )]);
        assert!(allowed(
            &parent,
            &request(&["R"], "GetSecret", secret_check("SECRET_READ", DEV, "a"))
        ));
        assert!(!allowed(
            &parent,
            &request(&["R"], "GetSecret", secret_check("SECRET_READ", APPS, "a"))
        ));
        let own = engine(vec![policy(
            APPS,
            &["Allow group R to read secrets in compartment apps"],
        )]);
        assert!(allowed(
            &own,
            &request(&["R"], "GetSecret", secret_check("SECRET_READ", DEV, "a"))
        ));
        let child = engine(vec![policy(
            DEV,
            &["Allow group R to read secrets in tenancy"],
        )]);
        assert!(!allowed(
            &child,
            &request(&["R"], "GetSecret", secret_check("SECRET_READ", APPS, "a"))
        ));
        assert!(child
            .lint()
            .iter()
            .any(|l| l.message.starts_with("never grants")));
        let by_id = engine(vec![policy(
            DEV,
            &[&format!(
                "Allow group R to read secrets in compartment id {APPS}"
            )],
        )]);
        assert!(!allowed(
            &by_id,
            &request(&["R"], "GetSecret", secret_check("SECRET_READ", APPS, "a"))
        ));
    }

    #[test]
    fn any_user_with_an_operation_condition_and_permission_lists() {
        let e = engine(vec![policy(
            &tenancy().tenancy.id,
            &["Allow any-user to {SECRET_BUNDLE_READ} in tenancy where request.operation = 'GetSecretBundle'"],
        )]);
        assert!(allowed(
            &e,
            &request(
                &[],
                "GetSecretBundle",
                secret_check("SECRET_BUNDLE_READ", APPS, "a")
            )
        ));
        assert!(!allowed(
            &e,
            &request(
                &[],
                "GetSecretBundleByName",
                secret_check("SECRET_BUNDLE_READ", APPS, "a")
            )
        ));
    }

    #[test]
    fn lint_finds_missing_names_and_dead_statements() {
        let e = engine(vec![policy(
            &tenancy().tenancy.id,
            &[
                "Allow group Nobody to read secrets in compartment nowhere",
                "Allow group Developers to manage buckets in tenancy",
                "Allow group Developers to inspect key-delegate in tenancy",
            ],
        )]);
        let messages: Vec<String> = e.lint().into_iter().map(|l| l.message).collect();
        let text = messages.join("\n");
        assert!(text.contains("no group is named 'Nobody'"), "{text}");
        assert!(text.contains("no compartment named 'nowhere'"), "{text}");
        assert!(
            text.contains("buckets is not a Vault resource type"),
            "{text}"
        );
        assert!(
            text.contains("inspect key-delegate includes no permission"),
            "{text}"
        );
    }

    #[test]
    fn lint_names_region_names_and_unquoted_values() {
        let e = engine(vec![policy(
            &tenancy().tenancy.id,
            &[
                "Allow group Developers to read secrets in tenancy where request.region = 'us-ashburn-1'",
                "Allow group Developers to read vaults in tenancy where request.operation = GetVault",
                "Allow group Developers to read keys in tenancy where all {request.region = 'IAD', target.key.id = ocid1.key.oc1..a}",
            ],
        )]);
        let lint = e.lint();
        let of = |i: usize| -> Vec<&str> {
            lint.iter()
                .filter(|l| l.statement == i)
                .map(|l| l.message.as_str())
                .collect()
        };
        assert_eq!(of(0), ["request.region is a region key in OCI ('IAD'), not a name: request.region = 'us-ashburn-1' does not match there (the emulator accepts both)"]);
        assert_eq!(of(1), ["the value GetVault is not quoted: OCI's policy reference writes condition values in single quotes ('GetVault')"]);
        assert!(of(2).is_empty(), "{:?}", of(2));
    }

    fn at(mut r: Request, time: OffsetDateTime) -> Request {
        r.time = time;
        r
    }

    #[test]
    fn time_conditions_read_the_requests_time() {
        use time::macros::datetime;
        let e = engine(vec![policy(
            &tenancy().tenancy.id,
            &[
                "Allow group Contractors to read secrets in tenancy where request.utc-timestamp before '2026-12-01T00:00Z'",
                "Allow group DayShift to read secrets in tenancy where request.utc-timestamp.time-of-day between '17:00:00Z' and '01:00:00Z'",
                "Allow group WorkWeek to read secrets in tenancy where any {request.utc-timestamp.day-of-week in ('monday', 'tuesday', 'wednesday', 'thursday', 'friday')}",
                "Allow group Interns to read secrets in tenancy where all {request.utc-timestamp.month-of-year in ('6', '7', '8'), request.utc-timestamp.day-of-month != '1'}",
            ],
        )]);
        let read = |group: &str, time| {
            allowed(
                &e,
                &at(
                    request(
                        &[group],
                        "GetSecret",
                        secret_check("SECRET_READ", APPS, "s"),
                    ),
                    time,
                ),
            )
        };
        // 2026-11-30 is a Monday.
        assert!(read("Contractors", datetime!(2026-11-30 23:59:59 UTC)));
        assert!(!read("Contractors", datetime!(2026-12-01 00:00:00 UTC)));
        assert!(read("DayShift", datetime!(2026-11-30 18:00:00 UTC)));
        assert!(read("DayShift", datetime!(2026-12-01 00:59:59 UTC)));
        assert!(!read("DayShift", datetime!(2026-12-01 01:00:00 UTC)));
        assert!(read("WorkWeek", datetime!(2026-11-30 12:00:00 UTC)));
        assert!(!read("WorkWeek", datetime!(2026-12-05 12:00:00 UTC)));
        assert!(read("Interns", datetime!(2026-07-02 12:00:00 UTC)));
        assert!(!read("Interns", datetime!(2026-07-01 12:00:00 UTC)));
        assert!(!read("Interns", datetime!(2026-09-02 12:00:00 UTC)));
    }

    #[test]
    fn explanations_name_the_time_variable_its_value_and_why() {
        use time::macros::datetime;
        let e = engine(vec![policy(
            &tenancy().tenancy.id,
            &["Allow group Contractors to read secrets in tenancy where request.utc-timestamp before '2026-12-01T00:00Z'"],
        )]);
        let r = at(
            request(
                &["Contractors"],
                "GetSecret",
                secret_check("SECRET_READ", APPS, "s"),
            ),
            datetime!(2026-12-01 00:00:30 UTC),
        );
        let why = e.explain(&r);
        assert_eq!(why["decision"], "denied");
        assert_eq!(why["requestTime"], "2026-12-01T00:00:30Z");
        let s = &why["checks"][0]["statements"][1];
        assert_eq!(
            s["condition"],
            json!({"ok": false, "why": "request.utc-timestamp before '2026-12-01T00:00Z' does not hold (request.utc-timestamp is '2026-12-01T00:00:30Z', not before '2026-12-01T00:00Z')"})
        );
        assert_eq!(
            s["comparisons"],
            json!([{
                "condition": "request.utc-timestamp before '2026-12-01T00:00Z'",
                "variable": "request.utc-timestamp",
                "value": "2026-12-01T00:00:30Z",
                "holds": false,
                "why": "request.utc-timestamp is '2026-12-01T00:00:30Z', not before '2026-12-01T00:00Z'",
            }])
        );
        let r = at(r, datetime!(2026-11-30 23:00:00 UTC));
        let why = e.explain(&r);
        assert_eq!(why["decision"], "allowed");
        assert_eq!(
            why["checks"][0]["statements"][1]["comparisons"][0]["holds"],
            true
        );
    }

    #[test]
    fn lint_finds_an_empty_interval_and_unquoted_time_values() {
        let e = engine(vec![policy(
            &tenancy().tenancy.id,
            &[
                "Allow group Developers to read secrets in tenancy where request.utc-timestamp.time-of-day between '09:00Z' and '09:00:00Z'",
                "Allow group Developers to read secrets in tenancy where request.utc-timestamp.day-of-week = monday",
                "Allow group Developers to read secrets in tenancy where request.utc-timestamp after '2026-01-01Z'",
            ],
        )]);
        let lint = e.lint();
        let of = |i: usize| -> Vec<&str> {
            lint.iter()
                .filter(|l| l.statement == i)
                .map(|l| l.message.as_str())
                .collect()
        };
        assert_eq!(of(0), ["never holds: request.utc-timestamp.time-of-day between '09:00Z' and '09:00:00Z' is an empty interval (the start is included, the end is not)"]);
        assert_eq!(of(1), ["the value monday is not quoted: OCI's policy reference writes time values in single quotes ('monday')"]);
        assert!(of(2).is_empty(), "{:?}", of(2));
    }

    #[test]
    fn glob_matches_prefix_suffix_and_contains() {
        use super::super::policy::glob;
        assert!(glob("db-*", "db-password"));
        assert!(glob("*-token", "api-token"));
        assert!(glob("*pass*", "db-password"));
        assert!(!glob("db-*", "api-token"));
        assert!(glob("exact", "exact"));
        assert!(!glob("exact", "exactly"));
    }

    fn checks() -> impl Strategy<Value = (Vec<String>, &'static str, usize, String)> {
        let perms: Vec<&'static str> = TABLE
            .iter()
            .flat_map(|(_, rows)| rows.iter().flat_map(|r| r.iter().copied()))
            .collect();
        (
            proptest::collection::vec(
                prop_oneof![
                    Just("Developers".to_string()),
                    Just("R".to_string()),
                    "[A-Za-z]{1,6}"
                ],
                0..3,
            ),
            proptest::sample::select(perms),
            0..3usize,
            prop_oneof![Just("db-password".to_string()), "[a-z-]{1,8}"],
        )
    }

    fn check_of(perm: &'static str, comp: usize, name: &str) -> Check {
        secret_check(perm, [APPS, DEV, SECURITY][comp], name)
    }

    proptest! {
        #[test]
        fn adding_a_statement_never_removes_access(
            base in proptest::collection::vec(crate::iam::policy::tests::statement(), 0..4),
            extra in crate::iam::policy::tests::statement(),
            (groups, perm, comp, name) in checks(),
        ) {
            let root = tenancy().tenancy.id;
            let texts: Vec<String> = base.iter().map(ToString::to_string).collect();
            let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
            let before = engine(vec![policy(&root, &refs)]);
            let mut more = texts.clone();
            more.push(extra.to_string());
            let refs: Vec<&str> = more.iter().map(String::as_str).collect();
            let after = engine(vec![policy(&root, &refs)]);
            let g: Vec<&str> = groups.iter().map(String::as_str).collect();
            let r = request(&g, "GetSecret", check_of(perm, comp, &name));
            if allowed(&before, &r) {
                prop_assert!(allowed(&after, &r));
            }
            // Explaining never panics and agrees with the fast path.
            let why = after.explain(&r);
            prop_assert_eq!(why["decision"] == "allowed", allowed(&after, &r));
        }

        #[test]
        fn with_no_policies_only_administrators_are_allowed(
            (groups, perm, comp, name) in checks(),
        ) {
            let e = engine(Vec::new());
            let g: Vec<&str> = groups.iter().map(String::as_str).filter(|g| !g.eq_ignore_ascii_case("administrators")).collect();
            prop_assert!(!allowed(&e, &request(&g, "GetSecret", check_of(perm, comp, &name))));
        }
    }

    /// Evaluation cost per decision with 100 policies of 5 statements each
    /// (run with `cargo test --release -- --ignored --nocapture eval_cost`).
    #[test]
    #[ignore]
    fn eval_cost() {
        let root = tenancy().tenancy.id;
        let policies: Vec<Policy> = (0..100)
            .map(|i| Policy {
                name: format!("p{i}"),
                compartment_id: if i % 2 == 0 { root.clone() } else { APPS.into() },
                statements: vec![
                    format!("Allow group G{i} to read secret-family in compartment apps"),
                    format!("Allow group G{i}, Developers to use keys in compartment dev where target.key.id = 'k{i}'"),
                    format!("Allow group id ocid1.group.oc1..g{i} to manage vaults in tenancy"),
                    format!("Allow any-user to {{SECRET_BUNDLE_READ}} in compartment id {DEV} where all {{request.operation = 'GetSecretBundle', target.secret.name = /app{i}-*/}}"),
                    format!("Allow group G{i} to inspect secrets in compartment security where request.user.name = 'u{i}'"),
                ],
            })
            .collect();
        let e = engine(policies);
        // The worst case: a denial, so every statement is evaluated.
        let r = request(
            &["Developers", "Other"],
            "GetSecretBundle",
            secret_check("SECRET_BUNDLE_READ", DEV, "zzz"),
        );
        let n = 20_000;
        let start = std::time::Instant::now();
        let mut denied = 0;
        for _ in 0..n {
            denied += usize::from(e.first_denied(std::hint::black_box(&r)).is_some());
        }
        let per = start.elapsed() / n;
        assert_eq!(denied, n as usize);
        let start = std::time::Instant::now();
        for _ in 0..200 {
            std::hint::black_box(e.explain(&r));
        }
        let explain = start.elapsed() / 200;
        // A grant by the last policy's statements (a non-administrator).
        let r = request(
            &["G99"],
            "GetSecret",
            secret_check("SECRET_READ", APPS, "x"),
        );
        let start = std::time::Instant::now();
        for _ in 0..n {
            assert!(e.first_denied(std::hint::black_box(&r)).is_none());
        }
        let late = start.elapsed() / n;
        println!("eval_cost: {per:?} per denied decision (all 500 statements), {late:?} per decision granted by policy 100; explanation {explain:?}");
    }
}
