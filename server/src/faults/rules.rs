//! Fault rules: the JSON shape of a rule (`rules[]` of a fault document,
//! the body of `POST /_emulator/faults`), its validation into a compiled
//! [`Rule`], and the pure decision of whether one call fires it.
//!
//! A rule = a match + an action + a schedule (issue 4):
//! - **match**: `operations` (OCI names, `GetSecretBundle`), `services`
//!   (`kms-vault`, `kms-management`, `kms-crypto`, `vault-secrets`,
//!   `secrets`), `principal` (user OCID or name), `compartmentId`,
//!   `resourceId`; an omitted field matches everything.
//! - **action**: exactly one of `error` (status + code + message),
//!   `latencyMs` (+ `jitterMs`), `drop` (`close` | `reset`), `hangMs`,
//!   `errorAfterCommit` (status + code + message, answered after the handler
//!   committed).
//! - **schedule**: `probability` (0–1, drawn from the rule's seeded
//!   generator), `firstN`, `everyNth`, `afterN`, `maxFirings`, `from`/`until`
//!   (RFC 3339, read on the emulator's clock). All given conditions must hold.
//!
//! Every field error names its path (`rules[0].schedule.probability`), and a
//! document with an error changes nothing.

use std::fmt;

use chacha20::rand_core::{Rng as _, SeedableRng as _};
use chacha20::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::Target;
use crate::operation::{Operation, Service, OPERATIONS};

/// A fault document or rule that cannot be used: the field's path and why.
/// Answered as 400 `InvalidParameter` by `/_emulator/faults`, and refused at
/// start for `--faults`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaultError {
    /// Path of the offending field, e.g. `rules[0].schedule.probability`.
    pub field: String,
    /// What is wrong with it.
    pub reason: String,
}

impl FaultError {
    /// An error about `field`.
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

impl fmt::Display for FaultError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.reason)
    }
}

impl std::error::Error for FaultError {}

/// `match` of a rule or a rate limit, as written. Omitted fields match all.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MatchSpec {
    /// OCI operation names (`GetSecretBundle`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operations: Option<Vec<String>>,
    /// Service names, the first column of `oci-operations.tsv`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub services: Option<Vec<String>>,
    /// The caller: a user OCID or a user name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal: Option<String>,
    /// The compartment of the request's target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compartment_id: Option<String>,
    /// The OCID of the request's target (vault, key or secret).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_id: Option<String>,
}

/// An OCI error as a rule writes it. `status` alone takes OCI's usual code
/// for it (429 `TooManyRequests`, 500 `InternalServerError`, 503
/// `ServiceUnavailable`, 409 `IncorrectState`, …); a status without a usual
/// code (403, 418, …) needs `code`. Nothing given: 500 `InternalServerError`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ErrorSpec {
    /// HTTP status, 400–599.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// The body's `code`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// The body's `message`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// How a dropped connection ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DropKind {
    /// Closed (FIN) without a byte of response.
    Close,
    /// Reset (RST, `SO_LINGER` 0) without a byte of response.
    Reset,
}

/// `action` as written: exactly one kind.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ActionSpec {
    /// Answer this error instead of calling the handler (state untouched).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorSpec>,
    /// Delay the request by this many milliseconds, then serve it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<u64>,
    /// With `latencyMs`: add a uniform 0..=jitterMs ms from the rule's generator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jitter_ms: Option<u64>,
    /// Drop the connection without a response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drop: Option<DropKind>,
    /// Hold the request this many milliseconds, then close the connection
    /// without a response (longer than the client waits = a client timeout).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hang_ms: Option<u64>,
    /// Run the handler (its writes commit), then answer this error instead
    /// of its success: the retry-with-`opc-retry-token` case.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_after_commit: Option<ErrorSpec>,
}

/// `schedule` as written; all given conditions must hold for a call to fire.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ScheduleSpec {
    /// Chance (0–1) that an otherwise eligible call fires; default 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probability: Option<f64>,
    /// Only the first N matching calls.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_n: Option<u64>,
    /// Only every Nth matching call (N, 2N, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub every_nth: Option<u64>,
    /// Only matching calls after the first N.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_n: Option<u64>,
    /// The rule expires after firing this many times.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_firings: Option<u64>,
    /// Not before this time (RFC 3339, emulator clock).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// Not at or after this time (RFC 3339, emulator clock).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
}

/// One element of `rules`, as written (and as `GET` shows it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RuleSpec {
    /// Unique among rules and rate limits; minted (`rule-N`) when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Which calls.
    #[serde(default, rename = "match")]
    pub match_: MatchSpec,
    /// What happens to them.
    pub action: ActionSpec,
    /// When.
    #[serde(default)]
    pub schedule: ScheduleSpec,
    /// Fire right after routing, before the signature is checked; then only
    /// `operations` and `services` may be matched.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub before_auth: bool,
}

/// A compiled `match`.
#[derive(Debug, Clone, Default)]
pub struct Matcher {
    operations: Option<Vec<Operation>>,
    services: Option<Vec<Service>>,
    principal: Option<String>,
    compartment_id: Option<String>,
    resource_id: Option<String>,
}

impl Matcher {
    /// Validates `spec`; `path` names it in errors (`rules[0].match`).
    pub fn compile(spec: &MatchSpec, path: &str) -> Result<Self, FaultError> {
        let operations = spec
            .operations
            .as_ref()
            .map(|names| {
                names
                    .iter()
                    .enumerate()
                    .map(|(i, name)| {
                        OPERATIONS
                            .iter()
                            .find(|s| s.name == name)
                            .map(|s| s.operation)
                            .ok_or_else(|| {
                                FaultError::new(
                                    format!("{path}.operations[{i}]"),
                                    format!("unknown OCI operation {name:?}"),
                                )
                            })
                    })
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()?;
        let services = spec
            .services
            .as_ref()
            .map(|names| {
                names
                    .iter()
                    .enumerate()
                    .map(|(i, name)| {
                        service_named(name).ok_or_else(|| {
                            FaultError::new(
                                format!("{path}.services[{i}]"),
                                format!(
                                    "unknown service {name:?} (kms-vault, kms-management, \
                                     kms-crypto, vault-secrets, secrets)"
                                ),
                            )
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()?;
        for (field, value) in [
            ("principal", &spec.principal),
            ("compartmentId", &spec.compartment_id),
            ("resourceId", &spec.resource_id),
        ] {
            if value.as_deref() == Some("") {
                return Err(FaultError::new(
                    format!("{path}.{field}"),
                    "must not be empty (omit it to match everything)",
                ));
            }
        }
        Ok(Self {
            operations,
            services,
            principal: spec.principal.clone(),
            compartment_id: spec.compartment_id.clone(),
            resource_id: spec.resource_id.clone(),
        })
    }

    /// Whether a call to `target` matches.
    pub fn matches(&self, target: &Target<'_>) -> bool {
        if let Some(ops) = &self.operations {
            if !ops.contains(&target.operation) {
                return false;
            }
        }
        if let Some(services) = &self.services {
            if !services.contains(&target.operation.service()) {
                return false;
            }
        }
        if let Some(want) = &self.principal {
            match target.principal {
                Some(p) if p.user_id == want.as_str() || p.user_name == want.as_str() => {}
                _ => return false,
            }
        }
        if let Some(want) = &self.compartment_id {
            if target.compartment_id.as_deref() != Some(want.as_str()) {
                return false;
            }
        }
        if let Some(want) = &self.resource_id {
            if target.resource_id.as_deref() != Some(want.as_str()) {
                return false;
            }
        }
        true
    }

    /// Whether it matches on anything known only after authentication.
    fn names_caller_or_target(&self) -> Option<&'static str> {
        if self.principal.is_some() {
            Some("principal")
        } else if self.compartment_id.is_some() {
            Some("compartmentId")
        } else if self.resource_id.is_some() {
            Some("resourceId")
        } else {
            None
        }
    }
}

/// The service named `name` (`kms-vault`, …).
fn service_named(name: &str) -> Option<Service> {
    [
        Service::KmsVault,
        Service::KmsManagement,
        Service::KmsCrypto,
        Service::VaultSecrets,
        Service::Secrets,
        Service::Audit,
    ]
    .into_iter()
    .find(|s| s.as_str() == name)
}

/// What a fired rule does to its request.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Answer this error before the handler.
    Error(InjectedError),
    /// Sleep this long, then go on (other rules may still fire).
    Latency {
        /// The base delay, ms.
        ms: u64,
        /// Upper bound of the uniform extra delay, ms.
        jitter_ms: u64,
    },
    /// Drop the connection without a response.
    Drop(DropKind),
    /// Hold the request this long (ms), then close without a response.
    Hang(u64),
    /// Run the handler, then answer this error instead of its success.
    ErrorAfterCommit(InjectedError),
}

impl Action {
    /// Whether this action ends rule evaluation (all but latency do).
    pub fn is_terminal(&self) -> bool {
        !matches!(self, Action::Latency { .. })
    }

    /// A short name for log lines.
    pub fn kind(&self) -> &'static str {
        match self {
            Action::Error(_) => "error",
            Action::Latency { .. } => "latency",
            Action::Drop(DropKind::Close) => "drop-close",
            Action::Drop(DropKind::Reset) => "drop-reset",
            Action::Hang(_) => "hang",
            Action::ErrorAfterCommit(_) => "errorAfterCommit",
        }
    }

    /// Validates `spec`; `path` names it in errors (`rules[0].action`).
    pub fn compile(spec: &ActionSpec, path: &str, rule_id: &str) -> Result<Self, FaultError> {
        let given: Vec<&str> = [
            ("error", spec.error.is_some()),
            ("latencyMs", spec.latency_ms.is_some()),
            ("drop", spec.drop.is_some()),
            ("hangMs", spec.hang_ms.is_some()),
            ("errorAfterCommit", spec.error_after_commit.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, set)| set.then_some(name))
        .collect();
        if given.len() != 1 {
            return Err(FaultError::new(
                path,
                format!(
                    "give exactly one of error, latencyMs, drop, hangMs, errorAfterCommit (got {})",
                    if given.is_empty() {
                        "none".to_owned()
                    } else {
                        given.join(", ")
                    }
                ),
            ));
        }
        if spec.jitter_ms.is_some() && spec.latency_ms.is_none() {
            return Err(FaultError::new(
                format!("{path}.jitterMs"),
                "only allowed with latencyMs",
            ));
        }
        const HOUR_MS: u64 = 3_600_000;
        let bounded = |field: &str, v: u64| {
            if v > HOUR_MS {
                Err(FaultError::new(
                    format!("{path}.{field}"),
                    "must be at most 3600000 (one hour)",
                ))
            } else {
                Ok(v)
            }
        };
        Ok(if let Some(e) = &spec.error {
            Action::Error(compile_error(e, &format!("{path}.error"), rule_id)?)
        } else if let Some(ms) = spec.latency_ms {
            Action::Latency {
                ms: bounded("latencyMs", ms)?,
                jitter_ms: bounded("jitterMs", spec.jitter_ms.unwrap_or(0))?,
            }
        } else if let Some(kind) = spec.drop {
            Action::Drop(kind)
        } else if let Some(ms) = spec.hang_ms {
            Action::Hang(bounded("hangMs", ms)?)
        } else {
            let e = spec.error_after_commit.as_ref().expect("exactly one given");
            Action::ErrorAfterCommit(compile_error(
                e,
                &format!("{path}.errorAfterCommit"),
                rule_id,
            )?)
        })
    }
}

/// An error a fault rule injects: any status and code the rule names (418
/// and 403 included), answered in OCI's body shape `{"code","message"}` by
/// the pipeline. The one escape hatch from the emulator's table of codes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InjectedError {
    /// The HTTP status, 400–599.
    pub status: u16,
    /// The body's `code`.
    pub code: String,
    /// The body's `message` (written by whoever wrote the rule).
    pub message: String,
}

/// The code OCI usually sends with `status` (OCI "API Errors"), for rules
/// that name only a status; `None`: the rule must name a code.
pub const fn default_code(status: u16) -> Option<&'static str> {
    Some(match status {
        400 => "InvalidParameter",
        401 => "NotAuthenticated",
        404 => "NotAuthorizedOrNotFound",
        405 => "MethodNotAllowed",
        409 => "IncorrectState",
        412 => "NoEtagMatch",
        413 => "PayloadTooLarge",
        429 => "TooManyRequests",
        500 => "InternalServerError",
        501 => "MethodNotImplemented",
        503 => "ServiceUnavailable",
        _ => return None,
    })
}

/// The error a rule answers, with OCI's defaults filled in.
fn compile_error(spec: &ErrorSpec, path: &str, rule_id: &str) -> Result<InjectedError, FaultError> {
    let status = match (spec.status, spec.code.as_deref()) {
        (Some(s), _) => s,
        (None, None) => 500,
        (None, Some(code)) => (400..600)
            .find(|s| default_code(*s) == Some(code))
            .ok_or_else(|| {
                FaultError::new(
                    format!("{path}.status"),
                    format!("required: {code:?} is not a code with a known status"),
                )
            })?,
    };
    if !(400..=599).contains(&status) {
        return Err(FaultError::new(
            format!("{path}.status"),
            "must be an error status, 400–599",
        ));
    }
    let known = default_code(status);
    let code = match (spec.code.as_deref(), known) {
        (Some(code), _) => {
            if code.is_empty() || !code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.') {
                return Err(FaultError::new(
                    format!("{path}.code"),
                    "must be a non-empty OCI-style code (letters, digits, dots)",
                ));
            }
            code.to_owned()
        }
        (None, Some(known)) => known.to_owned(),
        (None, None) => {
            return Err(FaultError::new(
                format!("{path}.code"),
                format!("required for status {status} (no usual OCI code)"),
            ))
        }
    };
    let message = match &spec.message {
        Some(m) if m.is_empty() => {
            return Err(FaultError::new(
                format!("{path}.message"),
                "must not be empty",
            ))
        }
        Some(m) => m.clone(),
        None => default_message(&code, rule_id),
    };
    Ok(InjectedError {
        status,
        code,
        message,
    })
}

/// The message of an injected error that names none: OCI's wording for the
/// common codes, else a line naming the rule.
fn default_message(code: &str, rule_id: &str) -> String {
    match code {
        "TooManyRequests" => "Too many requests for the tenant.".to_owned(),
        "InternalServerError" => "Internal error occurred.".to_owned(),
        "ServiceUnavailable" => "The service is currently unavailable; retry later.".to_owned(),
        "IncorrectState" => {
            "The resource is in a state that does not allow this operation; retry later.".to_owned()
        }
        _ => format!("{code} (injected by fault rule {rule_id})."),
    }
}

/// A compiled `schedule`: the pure part of deciding whether a call fires.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Schedule {
    /// `probability`, when below 1.
    pub probability: Option<f64>,
    /// `firstN`.
    pub first_n: Option<u64>,
    /// `everyNth`.
    pub every_nth: Option<u64>,
    /// `afterN`.
    pub after_n: Option<u64>,
    /// `maxFirings`.
    pub max_firings: Option<u64>,
    /// `from`.
    pub from: Option<OffsetDateTime>,
    /// `until`.
    pub until: Option<OffsetDateTime>,
}

impl Schedule {
    /// Validates `spec`; `path` names it in errors (`rules[0].schedule`).
    pub fn compile(spec: &ScheduleSpec, path: &str) -> Result<Self, FaultError> {
        if let Some(p) = spec.probability {
            if !(0.0..=1.0).contains(&p) {
                return Err(FaultError::new(
                    format!("{path}.probability"),
                    "must be between 0 and 1",
                ));
            }
        }
        if spec.every_nth == Some(0) {
            return Err(FaultError::new(
                format!("{path}.everyNth"),
                "must be at least 1",
            ));
        }
        let time = |field: &str, value: &Option<String>| {
            value
                .as_deref()
                .map(|v| {
                    OffsetDateTime::parse(v, &time::format_description::well_known::Rfc3339)
                        .map_err(|_| {
                            FaultError::new(
                                format!("{path}.{field}"),
                                "must be an RFC 3339 time, e.g. 2030-01-01T00:00:00Z",
                            )
                        })
                })
                .transpose()
        };
        let from = time("from", &spec.from)?;
        let until = time("until", &spec.until)?;
        if let (Some(f), Some(u)) = (from, until) {
            if f >= u {
                return Err(FaultError::new(
                    format!("{path}.until"),
                    "must be later than from",
                ));
            }
        }
        Ok(Self {
            probability: spec.probability.filter(|p| *p < 1.0),
            first_n: spec.first_n,
            every_nth: spec.every_nth,
            after_n: spec.after_n,
            max_firings: spec.max_firings,
            from,
            until,
        })
    }

    /// Whether matching call number `n` (1-based) may fire, given `fired`
    /// firings so far and the emulator time `now`; probability aside.
    pub fn eligible(&self, n: u64, fired: u64, now: OffsetDateTime) -> bool {
        self.first_n.is_none_or(|k| n <= k)
            && self.after_n.is_none_or(|k| n > k)
            && self.every_nth.is_none_or(|k| n.is_multiple_of(k))
            && self.max_firings.is_none_or(|k| fired < k)
            && self.from.is_none_or(|t| now >= t)
            && self.until.is_none_or(|t| now < t)
    }

    /// Whether matching call number `n` fires. Draws one number from `rng`
    /// only when the call is eligible and `probability` is below 1, so a
    /// rule's pattern depends on its own matching calls alone.
    pub fn fires(&self, n: u64, fired: u64, now: OffsetDateTime, rng: &mut ChaCha8Rng) -> bool {
        if !self.eligible(n, fired, now) {
            return false;
        }
        match self.probability {
            Some(p) => unit(rng) < p,
            None => true,
        }
    }
}

/// A uniform number in [0, 1) from the top 53 bits of one draw.
fn unit(rng: &mut ChaCha8Rng) -> f64 {
    (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
}

/// The generator of one rule: ChaCha8 (value-stable across platforms and
/// releases) seeded from the document's seed and the rule's id, so adding or
/// reordering rules does not change another rule's pattern.
pub fn rule_rng(seed: u64, id: &str) -> ChaCha8Rng {
    // FNV-1a of the id, mixed into the seed.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in id.bytes() {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    ChaCha8Rng::seed_from_u64(seed ^ hash)
}

/// A compiled rule with its counters and generator.
#[derive(Debug)]
pub struct Rule {
    /// The rule as written, with its id filled in (what `GET` shows).
    pub spec: RuleSpec,
    /// Its id.
    pub id: String,
    matcher: Matcher,
    /// Its action.
    pub action: Action,
    schedule: Schedule,
    /// `beforeAuth`.
    pub before_auth: bool,
    rng: ChaCha8Rng,
    /// Calls that matched so far.
    pub matched: u64,
    /// Times it fired so far.
    pub fired: u64,
}

impl Rule {
    /// Validates and compiles `spec` (whose id is already filled in); `path`
    /// names it in errors (`rules[0]`).
    pub fn compile(spec: RuleSpec, path: &str, seed: u64) -> Result<Self, FaultError> {
        let id = spec.id.clone().unwrap_or_default();
        validate_id(&id, &format!("{path}.id"))?;
        let matcher = Matcher::compile(&spec.match_, &format!("{path}.match"))?;
        if spec.before_auth {
            if let Some(field) = matcher.names_caller_or_target() {
                return Err(FaultError::new(
                    format!("{path}.match.{field}"),
                    "a beforeAuth rule fires before the caller and target are known; \
                     match only operations and services",
                ));
            }
        }
        let action = Action::compile(&spec.action, &format!("{path}.action"), &id)?;
        let schedule = Schedule::compile(&spec.schedule, &format!("{path}.schedule"))?;
        Ok(Self {
            rng: rule_rng(seed, &id),
            before_auth: spec.before_auth,
            id,
            matcher,
            action,
            schedule,
            spec,
            matched: 0,
            fired: 0,
        })
    }

    /// Counts a call to `target` if it matches and decides whether it
    /// fires; returns the action to take (latency jitter already drawn into
    /// `ms`, with `jitter_ms` 0).
    pub fn consider(&mut self, target: &Target<'_>, now: OffsetDateTime) -> Option<Action> {
        if !self.matcher.matches(target) {
            return None;
        }
        self.matched += 1;
        if !self
            .schedule
            .fires(self.matched, self.fired, now, &mut self.rng)
        {
            return None;
        }
        self.fired += 1;
        Some(match &self.action {
            Action::Latency { ms, jitter_ms } if *jitter_ms > 0 => Action::Latency {
                ms: ms + self.rng.next_u64() % (jitter_ms + 1),
                jitter_ms: 0,
            },
            other => other.clone(),
        })
    }
}

/// Ids are what `DELETE /_emulator/faults/{id}` and the response header
/// carry: 1–64 letters, digits, `-`, `_`, `.`.
pub fn validate_id(id: &str, path: &str) -> Result<(), FaultError> {
    if id.is_empty()
        || id.len() > 64
        || !id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    {
        return Err(FaultError::new(
            path,
            "must be 1–64 letters, digits, '-', '_' or '.'",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::faults::Caller;
    use proptest::prelude::*;

    fn now() -> OffsetDateTime {
        time::macros::datetime!(2030-01-01 12:00 UTC)
    }

    fn schedule(json: serde_json::Value) -> Schedule {
        let spec: ScheduleSpec = serde_json::from_value(json).unwrap();
        Schedule::compile(&spec, "schedule").unwrap()
    }

    /// The call numbers among 1..=calls that fire, counting firings.
    fn pattern(s: &Schedule, calls: u64, seed: u64) -> Vec<u64> {
        let mut rng = rule_rng(seed, "r");
        let mut fired = 0;
        (1..=calls)
            .filter(|n| {
                let f = s.fires(*n, fired, now(), &mut rng);
                fired += u64::from(f);
                f
            })
            .collect()
    }

    fn rule(json: serde_json::Value) -> Result<Rule, FaultError> {
        let spec: RuleSpec = serde_json::from_value(json).unwrap();
        Rule::compile(spec, "rules[0]", 42)
    }

    fn principal(id: &'static str, name: &'static str) -> Caller<'static> {
        Caller {
            user_id: id,
            user_name: name,
            tenancy_id: "ocid1.tenancy.oc1..t",
        }
    }

    #[test]
    fn first_n_fires_on_the_first_calls_only() {
        assert_eq!(
            pattern(&schedule(serde_json::json!({"firstN": 3})), 10, 1),
            [1, 2, 3]
        );
    }

    #[test]
    fn every_nth_fires_on_multiples() {
        assert_eq!(
            pattern(&schedule(serde_json::json!({"everyNth": 4})), 12, 1),
            [4, 8, 12]
        );
    }

    #[test]
    fn after_n_skips_the_first_calls() {
        assert_eq!(
            pattern(&schedule(serde_json::json!({"afterN": 8})), 10, 1),
            [9, 10]
        );
    }

    #[test]
    fn max_firings_expires_the_rule() {
        let s = schedule(serde_json::json!({"everyNth": 2, "maxFirings": 2}));
        assert_eq!(pattern(&s, 10, 1), [2, 4]);
    }

    #[test]
    fn conditions_combine() {
        let s = schedule(serde_json::json!({"afterN": 2, "firstN": 6, "everyNth": 2}));
        assert_eq!(pattern(&s, 10, 1), [4, 6]);
    }

    #[test]
    fn time_windows_read_the_given_clock() {
        let s = schedule(serde_json::json!({
            "from": "2030-01-01T11:00:00Z", "until": "2030-01-01T12:00:00Z"}));
        let mut rng = rule_rng(0, "r");
        assert!(!s.fires(1, 0, now(), &mut rng), "until is exclusive");
        assert!(s.fires(1, 0, now() - time::Duration::minutes(30), &mut rng));
        assert!(!s.fires(1, 0, now() - time::Duration::hours(2), &mut rng));
    }

    #[test]
    fn probability_zero_never_fires_and_one_always_does() {
        assert!(pattern(&schedule(serde_json::json!({"probability": 0.0})), 100, 7).is_empty());
        assert_eq!(
            pattern(&schedule(serde_json::json!({"probability": 1.0})), 100, 7).len(),
            100
        );
    }

    /// The first calls that fire for probability 0.2, seed 42, rule id `r`.
    const PINNED: [u64; 6] = [6, 8, 17, 29, 42, 46];

    #[test]
    fn a_known_seed_gives_a_known_pattern() {
        // Pinned: a change here changes every user's seeded fault pattern.
        let s = schedule(serde_json::json!({"probability": 0.2}));
        let fired = pattern(&s, 100, 42);
        assert_eq!(fired[..6], PINNED);
        assert_eq!(fired, pattern(&s, 100, 42));
        assert!((8..=35).contains(&fired.len()), "{fired:?}");
        assert_ne!(fired, pattern(&s, 100, 43));
    }

    proptest! {
        #[test]
        fn the_same_seed_gives_the_same_pattern(seed in any::<u64>(), p in 0.0f64..=1.0) {
            let s = schedule(serde_json::json!({"probability": p}));
            prop_assert_eq!(pattern(&s, 200, seed), pattern(&s, 200, seed));
        }

        #[test]
        fn first_n_and_max_firings_bound_the_firings(
            first in 0u64..50, max in 0u64..50, every in 1u64..5, calls in 0u64..200, seed in any::<u64>()
        ) {
            let s = schedule(serde_json::json!({
                "firstN": first, "maxFirings": max, "everyNth": every, "probability": 0.7}));
            let fired = pattern(&s, calls, seed);
            prop_assert!(fired.len() as u64 <= max);
            prop_assert!(fired.iter().all(|n| *n <= first && n.is_multiple_of(every)));
        }

        #[test]
        fn after_n_never_fires_early(after in 0u64..100, calls in 0u64..200) {
            let fired = pattern(&schedule(serde_json::json!({"afterN": after})), calls, 0);
            prop_assert_eq!(fired.len() as u64, calls.saturating_sub(after));
            prop_assert!(fired.iter().all(|n| *n > after));
        }

        #[test]
        fn jitter_stays_within_bounds(base in 0u64..1000, jitter in 0u64..1000, seed in any::<u64>()) {
            let spec: RuleSpec = serde_json::from_value(serde_json::json!({
                "id": "j", "action": {"latencyMs": base, "jitterMs": jitter}})).unwrap();
            let mut r = Rule::compile(spec, "rules[0]", seed).unwrap();
            let t = Target::bare(Operation::Encrypt);
            match r.consider(&t, now()) {
                Some(Action::Latency { ms, jitter_ms: 0 }) => prop_assert!(ms >= base && ms <= base + jitter),
                other => prop_assert!(false, "{:?}", other),
            }
        }
    }

    #[test]
    fn errors_take_ocis_usual_code_for_their_status() {
        let cases = [
            (serde_json::json!({}), 500, "InternalServerError"),
            (serde_json::json!({"status": 429}), 429, "TooManyRequests"),
            (
                serde_json::json!({"status": 503}),
                503,
                "ServiceUnavailable",
            ),
            (serde_json::json!({"status": 409}), 409, "IncorrectState"),
            (
                serde_json::json!({"code": "TooManyRequests"}),
                429,
                "TooManyRequests",
            ),
            (
                serde_json::json!({"status": 403, "code": "NotAuthorized"}),
                403,
                "NotAuthorized",
            ),
            (
                serde_json::json!({"status": 418, "code": "Teapot"}),
                418,
                "Teapot",
            ),
        ];
        for (error, status, code) in cases {
            let r = rule(serde_json::json!({"id": "e", "action": {"error": error}})).unwrap();
            match r.action {
                Action::Error(e) => {
                    assert_eq!((e.status, e.code.as_str()), (status, code));
                    assert!(!e.message.is_empty());
                }
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn bad_rules_name_the_field() {
        let cases = [
            (
                serde_json::json!({"id": "x", "action": {}}),
                "rules[0].action",
            ),
            (
                serde_json::json!({"id": "x", "action": {"drop": "close", "hangMs": 5}}),
                "rules[0].action",
            ),
            (
                serde_json::json!({"id": "x", "action": {"error": {"status": 418}}}),
                "rules[0].action.error.code",
            ),
            (
                serde_json::json!({"id": "x", "action": {"error": {"status": 200}}}),
                "rules[0].action.error.status",
            ),
            (
                serde_json::json!({"id": "x", "action": {"jitterMs": 5, "drop": "reset"}}),
                "rules[0].action.jitterMs",
            ),
            (
                serde_json::json!({"id": "x", "match": {"operations": ["GetSecretBundel"]},
                                   "action": {"drop": "close"}}),
                "rules[0].match.operations[0]",
            ),
            (
                serde_json::json!({"id": "x", "match": {"services": ["kms"]},
                                   "action": {"drop": "close"}}),
                "rules[0].match.services[0]",
            ),
            (
                serde_json::json!({"id": "x", "action": {"drop": "close"},
                                   "schedule": {"probability": 1.5}}),
                "rules[0].schedule.probability",
            ),
            (
                serde_json::json!({"id": "x", "action": {"drop": "close"},
                                   "schedule": {"everyNth": 0}}),
                "rules[0].schedule.everyNth",
            ),
            (
                serde_json::json!({"id": "x", "action": {"drop": "close"},
                                   "schedule": {"from": "yesterday"}}),
                "rules[0].schedule.from",
            ),
            (
                serde_json::json!({"id": "x", "beforeAuth": true, "match": {"principal": "admin"},
                                   "action": {"drop": "close"}}),
                "rules[0].match.principal",
            ),
            (
                serde_json::json!({"id": "has space", "action": {"drop": "close"}}),
                "rules[0].id",
            ),
        ];
        for (json, field) in cases {
            let err = rule(json.clone()).unwrap_err();
            assert_eq!(err.field, field, "{json} → {err}");
        }
    }

    #[test]
    fn matching_follows_each_given_field() {
        let admin = principal("ocid1.user.oc1..admin", "admin");
        let dev = principal("ocid1.user.oc1..dev", "developer");
        let r = rule(serde_json::json!({
            "id": "m",
            "match": {"operations": ["GetSecretBundle"], "principal": "developer",
                      "compartmentId": "c1", "resourceId": "s1"},
            "action": {"drop": "close"}}))
        .unwrap();
        let mut t = Target {
            operation: Operation::GetSecretBundle,
            principal: Some(dev),
            compartment_id: Some("c1".into()),
            resource_id: Some("s1".into()),
        };
        assert!(r.matcher.matches(&t));
        t.principal = Some(admin);
        assert!(!r.matcher.matches(&t), "other principal");
        t.principal = Some(dev);
        t.compartment_id = Some("c2".into());
        assert!(!r.matcher.matches(&t), "other compartment");
        t.compartment_id = Some("c1".into());
        t.resource_id = None;
        assert!(!r.matcher.matches(&t), "unknown target");
        t.resource_id = Some("s1".into());
        t.operation = Operation::GetSecret;
        assert!(!r.matcher.matches(&t), "other operation");

        let by_service = rule(serde_json::json!({
            "id": "s", "match": {"services": ["kms-crypto"]}, "action": {"drop": "close"}}))
        .unwrap();
        assert!(by_service
            .matcher
            .matches(&Target::bare(Operation::Encrypt)));
        assert!(!by_service
            .matcher
            .matches(&Target::bare(Operation::GetSecretBundle)));
        let by_id = rule(serde_json::json!({
            "id": "p", "match": {"principal": "ocid1.user.oc1..admin"}, "action": {"drop": "close"}}))
        .unwrap();
        let t = Target {
            principal: Some(admin),
            ..Target::bare(Operation::GetVault)
        };
        assert!(by_id.matcher.matches(&t));
    }

    #[test]
    fn different_rules_draw_from_different_streams() {
        let mut a = rule_rng(42, "a");
        let mut b = rule_rng(42, "b");
        assert_ne!(a.next_u64(), b.next_u64());
    }
}
