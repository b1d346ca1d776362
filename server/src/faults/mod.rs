//! Fault injection and rate limits: chaos on demand, deterministic, aimed at
//! one operation or one caller (issue 4).
//!
//! - [`rules`]: the rule shape, its validation, schedules (pure).
//! - [`rate_limit`]: token buckets per tenancy / principal / principal+operation.
//!
//! Pure decisions: this module imports only `operation`. It never sleeps,
//! touches a connection or builds a response; [`Faults::decide`] answers
//! what fires for one call ([`Fired`]: the rule and its [`Action`]), and the
//! pipeline acts on it and records it. `/_emulator/faults` (in `http`) edits
//! the rules; the listener wrapper that drops connections is `http::conn`.
//!
//! All state is in one [`Faults`] on the application state: rules with their
//! counters and seeded generators, rate limits with their buckets, and the
//! document the process started with (`--faults` / `OCI_EMULATOR_FAULTS`),
//! which [`Faults::reset_to_start`] restores. The pipeline decides twice:
//! right after routing for `beforeAuth` rules, and after authentication and
//! target resolution for the rest and for rate limits. With no rules and no
//! limits, [`Faults::is_active`] is one atomic load and nothing else runs.
//!
//! Evaluation: rules in document order; a matching rule counts the call,
//! and fires when its schedule says so. Latency rules add their delay and
//! evaluation goes on; the first other rule that fires decides the outcome
//! and later rules do not see the call. If no such rule fired, every rate
//! limit the call matches must have a token (one is then taken from each),
//! else the call gets 429 and that limit's `fired` counts it.

pub mod rate_limit;
pub mod rules;

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use anyhow::Context as _;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::operation::Operation;
use rate_limit::{RateLimit, RateLimitSpec};
pub use rules::{Action, DropKind, FaultError, InjectedError, Rule, RuleSpec};

/// The response header naming the rule (or rate limit) that fired.
pub const FAULT_HEADER: &str = "x-oci-emulator-fault";

/// A fault document: `--faults FILE`, `PUT /_emulator/faults`, and what
/// `GET` shows (plus counters). Fields may be added, never renamed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FaultDocument {
    /// Free text saying what the document is for (profiles carry one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Seeds every rule's generator (with the rule's id); default 0.
    #[serde(default)]
    pub seed: u64,
    /// Fault rules, evaluated in order.
    #[serde(default)]
    pub rules: Vec<RuleSpec>,
    /// Rate limits.
    #[serde(default)]
    pub rate_limits: Vec<RateLimitSpec>,
}

/// Parses JSON as `T`, naming the field of any error
/// (`rules[0].schedule.firstN: invalid type …`).
pub fn parse<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, FaultError> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let field = if path == "." { "body".to_owned() } else { path };
        FaultError::new(field, inner.to_string())
    })
}

/// Who is calling, as rules and rate limits see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caller<'a> {
    /// The user's (or principal's) OCID.
    pub user_id: &'a str,
    /// The user's name.
    pub user_name: &'a str,
    /// The caller's tenancy OCID (the `tenancy` bucket key).
    pub tenancy_id: &'a str,
}

/// The request a rule is matched against.
#[derive(Debug, Clone)]
pub struct Target<'a> {
    /// The operation.
    pub operation: Operation,
    /// The caller (`None` before authentication).
    pub principal: Option<Caller<'a>>,
    /// The compartment of the target, when known.
    pub compartment_id: Option<String>,
    /// The OCID of the target (vault, key or secret), when known.
    pub resource_id: Option<String>,
}

impl Target<'_> {
    /// A target known only by its operation (before authentication).
    pub fn bare(operation: Operation) -> Self {
        Target {
            operation,
            principal: None,
            compartment_id: None,
            resource_id: None,
        }
    }
}

/// When in the pipeline faults are evaluated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Right after routing: `beforeAuth` rules only.
    BeforeAuth,
    /// After authentication and target resolution: other rules, rate limits.
    AfterAuth,
}

/// A rule or rate limit that fired, and what to do.
#[derive(Debug, Clone, PartialEq)]
pub struct Fired {
    /// The rule's or limit's id.
    pub id: String,
    /// What to do (latency jitter already drawn).
    pub action: Action,
    /// Whether a rate limit (not a fault rule) fired: its bucket was empty.
    pub rate_limit: bool,
}

/// The mutable part, behind the one lock.
#[derive(Debug)]
struct State {
    seed: u64,
    rules: Vec<Rule>,
    limits: Vec<RateLimit>,
    /// For minting ids of rules posted without one.
    minted: u64,
}

/// All fault and rate-limit state of the process (one per `AppState`).
#[derive(Debug)]
pub struct Faults {
    /// Whether any rule or limit exists: the only cost when none does.
    active: AtomicBool,
    /// The document the process started with, for [`Faults::reset_to_start`].
    initial: FaultDocument,
    /// Rules, limits, counters, generators, buckets. A std mutex: held only
    /// in synchronous code, never across `.await`.
    state: Mutex<State>,
}

impl Faults {
    /// Loads `--faults FILE` (none: no faults). A bad file is refused with
    /// the path of the wrong field.
    pub fn load(path: Option<&Path>) -> anyhow::Result<Self> {
        let doc = match path {
            None => FaultDocument::default(),
            Some(path) => {
                let text = std::fs::read(path)
                    .with_context(|| format!("reading faults file {}", path.display()))?;
                parse::<FaultDocument>(&text)
                    .map_err(|e| anyhow::anyhow!("faults file {}: {e}", path.display()))?
            }
        };
        Self::new(doc).map_err(|e| {
            anyhow::anyhow!(
                "faults file {}: {e}",
                path.map(|p| p.display().to_string()).unwrap_or_default()
            )
        })
    }

    /// Faults from a document, validated.
    pub fn new(doc: FaultDocument) -> Result<Self, FaultError> {
        let state = compile(&doc)?;
        let faults = Self {
            active: AtomicBool::new(false),
            initial: doc,
            state: Mutex::new(state),
        };
        faults.refresh_flags(&faults.lock());
        Ok(faults)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn refresh_flags(&self, state: &State) {
        self.active.store(
            !state.rules.is_empty() || !state.limits.is_empty(),
            Ordering::Release,
        );
    }

    /// Whether any rule or rate limit is configured.
    pub fn is_active(&self) -> bool {
        self.active.load(Ordering::Acquire)
    }

    /// Decides what fires for one call (see the module doc). `now` is the
    /// emulator clock (schedule windows), `instant` the monotonic clock
    /// (buckets). Counters and generators advance; nothing waits.
    pub fn decide(
        &self,
        stage: Stage,
        target: &Target<'_>,
        now: OffsetDateTime,
        instant: Instant,
    ) -> Vec<Fired> {
        let mut state = self.lock();
        let mut fired = Vec::new();
        for rule in state
            .rules
            .iter_mut()
            .filter(|r| r.before_auth == (stage == Stage::BeforeAuth))
        {
            if let Some(action) = rule.consider(target, now) {
                let terminal = action.is_terminal();
                fired.push(Fired {
                    id: rule.id.clone(),
                    action,
                    rate_limit: false,
                });
                if terminal {
                    return fired;
                }
            }
        }
        if stage == Stage::AfterAuth && !state.limits.is_empty() {
            let keys: Vec<Option<String>> = state.limits.iter().map(|l| l.key_of(target)).collect();
            let empty = state
                .limits
                .iter_mut()
                .zip(&keys)
                .position(|(l, k)| k.as_ref().is_some_and(|k| !l.has_token(k, instant)));
            match empty {
                Some(i) => {
                    let limit = &mut state.limits[i];
                    limit.fired += 1;
                    fired.push(Fired {
                        id: limit.id.clone(),
                        action: Action::Error(limit.error()),
                        rate_limit: true,
                    });
                }
                None => {
                    for (limit, key) in state.limits.iter_mut().zip(&keys) {
                        if let Some(key) = key {
                            limit.take(key);
                        }
                    }
                }
            }
        }
        fired
    }

    /// `PUT`: replaces everything, restarting counters, generators and
    /// buckets; on error nothing changes.
    pub fn replace(&self, doc: &FaultDocument) -> Result<(), FaultError> {
        let new = compile(doc)?;
        let mut state = self.lock();
        *state = new;
        self.refresh_flags(&state);
        Ok(())
    }

    /// `POST`: appends one rule (id minted as `rule-N` when absent) and
    /// returns its id. `Ok(None)`: the id is taken.
    pub fn add_rule(&self, mut spec: RuleSpec) -> Result<Option<String>, FaultError> {
        let mut state = self.lock();
        if spec.id.is_none() {
            spec.id = Some(mint(&mut state, "rule"));
        }
        let id = spec.id.clone().unwrap_or_default();
        if state.rules.iter().any(|r| r.id == id) || state.limits.iter().any(|l| l.id == id) {
            return Ok(None);
        }
        let rule = Rule::compile(spec, "body", state.seed)?;
        state.rules.push(rule);
        self.refresh_flags(&state);
        Ok(Some(id))
    }

    /// `DELETE /{id}`: removes the rule or limit `id`; false when none.
    pub fn remove(&self, id: &str) -> bool {
        let mut state = self.lock();
        let before = state.rules.len() + state.limits.len();
        state.rules.retain(|r| r.id != id);
        state.limits.retain(|l| l.id != id);
        let removed = state.rules.len() + state.limits.len() < before;
        self.refresh_flags(&state);
        removed
    }

    /// `DELETE`: removes every rule and limit (the seed stays).
    pub fn clear(&self) {
        let mut state = self.lock();
        state.rules.clear();
        state.limits.clear();
        self.refresh_flags(&state);
    }

    /// Restores the document the process started with (`--faults`), with
    /// fresh counters, generators and buckets: the same firing pattern
    /// starts over. `POST /_emulator/reset` (issue 5) calls this.
    pub fn reset_to_start(&self) {
        // `initial` was compiled once in `new`, so this cannot fail; keep
        // the current rules rather than panic if it ever did.
        let Ok(start) = compile(&self.initial) else {
            return;
        };
        let mut state = self.lock();
        *state = start;
        self.refresh_flags(&state);
    }

    /// The current document with `matched`/`fired` per rule and `fired` per
    /// limit, as `GET /_emulator/faults` shows it.
    pub fn view(&self) -> serde_json::Value {
        let state = self.lock();
        let with = |spec: serde_json::Value, counters: &[(&str, u64)]| {
            let mut spec = spec;
            if let Some(map) = spec.as_object_mut() {
                for (name, value) in counters {
                    map.insert((*name).to_owned(), (*value).into());
                }
            }
            spec
        };
        serde_json::json!({
            "seed": state.seed,
            "rules": state.rules.iter().map(|r| with(
                serde_json::to_value(&r.spec).unwrap_or_default(),
                &[("matched", r.matched), ("fired", r.fired)],
            )).collect::<Vec<_>>(),
            "rateLimits": state.limits.iter().map(|l| with(
                serde_json::to_value(&l.spec).unwrap_or_default(),
                &[("fired", l.fired)],
            )).collect::<Vec<_>>(),
        })
    }
}

/// A fresh id `prefix-N` not used by any rule or limit.
fn mint(state: &mut State, prefix: &str) -> String {
    loop {
        state.minted += 1;
        let id = format!("{prefix}-{}", state.minted);
        if !state.rules.iter().any(|r| r.id == id) && !state.limits.iter().any(|l| l.id == id) {
            return id;
        }
    }
}

/// Validates a whole document into fresh state.
fn compile(doc: &FaultDocument) -> Result<State, FaultError> {
    let mut state = State {
        seed: doc.seed,
        rules: Vec::new(),
        limits: Vec::new(),
        minted: 0,
    };
    let mut seen = std::collections::HashSet::new();
    for (i, spec) in doc.rules.iter().enumerate() {
        let mut spec = spec.clone();
        if spec.id.is_none() {
            spec.id = Some(format!("rule-{}", i + 1));
        }
        let rule = Rule::compile(spec, &format!("rules[{i}]"), doc.seed)?;
        if !seen.insert(rule.id.clone()) {
            return Err(FaultError::new(format!("rules[{i}].id"), "duplicate id"));
        }
        state.rules.push(rule);
    }
    for (i, spec) in doc.rate_limits.iter().enumerate() {
        let mut spec = spec.clone();
        if spec.id.is_none() {
            spec.id = Some(format!("rate-limit-{}", i + 1));
        }
        let limit = RateLimit::compile(spec, &format!("rateLimits[{i}]"))?;
        if !seen.insert(limit.id.clone()) {
            return Err(FaultError::new(
                format!("rateLimits[{i}].id"),
                "duplicate id",
            ));
        }
        state.limits.push(limit);
    }
    Ok(state)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(json: serde_json::Value) -> FaultDocument {
        parse(json.to_string().as_bytes()).unwrap()
    }

    fn admin() -> Caller<'static> {
        Caller {
            user_id: "ocid1.user.oc1..admin",
            user_name: "admin",
            tenancy_id: "ocid1.tenancy.oc1..t",
        }
    }

    fn now() -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }

    fn ids(f: &Faults, stage: Stage, t: &Target<'_>) -> Vec<String> {
        f.decide(stage, t, now(), Instant::now())
            .into_iter()
            .map(|f| f.id)
            .collect()
    }

    #[test]
    fn an_empty_document_is_inactive() {
        let f = Faults::new(FaultDocument::default()).unwrap();
        assert!(!f.is_active());
    }

    #[test]
    fn latency_stacks_and_the_first_terminal_rule_wins() {
        let f = Faults::new(doc(serde_json::json!({"rules": [
            {"id": "slow", "action": {"latencyMs": 1}},
            {"id": "fail", "action": {"error": {"status": 503}}},
            {"id": "never", "action": {"error": {"status": 500}}},
        ]})))
        .unwrap();
        let p = admin();
        let t = Target {
            principal: Some(p),
            ..Target::bare(Operation::Encrypt)
        };
        assert_eq!(ids(&f, Stage::AfterAuth, &t), ["slow", "fail"]);
        let view = f.view();
        assert_eq!(view["rules"][2]["matched"], 0, "{view}");
    }

    #[test]
    fn before_auth_rules_fire_only_before_auth() {
        let f = Faults::new(doc(serde_json::json!({"rules": [
            {"id": "early", "beforeAuth": true, "action": {"error": {}}},
        ]})))
        .unwrap();
        let t = Target::bare(Operation::GetVault);
        assert!(ids(&f, Stage::AfterAuth, &t).is_empty());
        assert_eq!(ids(&f, Stage::BeforeAuth, &t), ["early"]);
    }

    #[test]
    fn rate_limits_throttle_one_principal_not_another() {
        let f = Faults::new(doc(serde_json::json!({"rateLimits": [
            {"id": "rl", "perSecond": 0.001, "burst": 2, "key": "principal"}]})))
        .unwrap();
        let a = admin();
        let b = Caller {
            user_id: "ocid1.user.oc1..dev",
            ..admin()
        };
        let ta = Target {
            principal: Some(a),
            ..Target::bare(Operation::GetSecretBundle)
        };
        let tb = Target {
            principal: Some(b),
            ..ta.clone()
        };
        assert!(ids(&f, Stage::AfterAuth, &ta).is_empty());
        assert!(ids(&f, Stage::AfterAuth, &ta).is_empty());
        assert_eq!(ids(&f, Stage::AfterAuth, &ta), ["rl"]);
        assert!(ids(&f, Stage::AfterAuth, &tb).is_empty());
        assert_eq!(f.view()["rateLimits"][0]["fired"], 1);
    }

    #[test]
    fn replace_restarts_the_seeded_sequence_and_reset_restores_the_start() {
        let d = doc(serde_json::json!({"seed": 7, "rules": [
            {"id": "flaky", "action": {"error": {}}, "schedule": {"probability": 0.3}}]}));
        let f = Faults::new(d.clone()).unwrap();
        let t = Target::bare(Operation::GetVault);
        let run = |f: &Faults| -> Vec<bool> {
            (0..50)
                .map(|_| !ids(f, Stage::AfterAuth, &t).is_empty())
                .collect()
        };
        let first = run(&f);
        f.replace(&d).unwrap();
        assert_eq!(run(&f), first);
        f.clear();
        assert!(!f.is_active());
        f.reset_to_start();
        assert_eq!(run(&f), first);
    }

    #[test]
    fn a_bad_document_changes_nothing() {
        let f = Faults::new(doc(serde_json::json!({"rules": [
            {"id": "a", "action": {"latencyMs": 1}}]})))
        .unwrap();
        let bad = doc(serde_json::json!({"rules": [
            {"id": "b", "action": {"latencyMs": 1}},
            {"id": "b", "action": {"latencyMs": 1}}]}));
        assert_eq!(f.replace(&bad).unwrap_err().field, "rules[1].id");
        assert_eq!(f.view()["rules"][0]["id"], "a");
    }

    #[test]
    fn unknown_fields_are_refused_with_their_path() {
        let err = parse::<FaultDocument>(
            br#"{"rules": [{"id": "x", "action": {"drop": "close"}, "schedule": {"firstn": 3}}]}"#,
        )
        .unwrap_err();
        assert_eq!(err.field, "rules[0].schedule.firstn", "{err}");
        let err = parse::<FaultDocument>(br#"{"rules": [{"action": {"drop": "sideways"}}]}"#)
            .unwrap_err();
        assert_eq!(err.field, "rules[0].action.drop", "{err}");
    }

    #[test]
    fn posted_rules_get_ids_and_taken_ids_are_refused() {
        let f = Faults::new(FaultDocument::default()).unwrap();
        let spec: RuleSpec = parse(br#"{"action": {"latencyMs": 1}}"#).unwrap();
        assert_eq!(f.add_rule(spec.clone()).unwrap().as_deref(), Some("rule-1"));
        assert_eq!(f.add_rule(spec).unwrap().as_deref(), Some("rule-2"));
        let named: RuleSpec = parse(br#"{"id": "rule-1", "action": {"latencyMs": 1}}"#).unwrap();
        assert_eq!(f.add_rule(named).unwrap(), None);
        assert!(f.remove("rule-1"));
        assert!(!f.remove("rule-1"));
    }

    #[test]
    fn every_shipped_profile_loads() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/faults");
        let mut names = Vec::new();
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let faults = Faults::load(Some(&path)).unwrap_or_else(|e| panic!("{e:#}"));
            assert!(faults.is_active(), "{}", path.display());
            let doc: FaultDocument = parse(&std::fs::read(&path).unwrap()).unwrap();
            assert!(
                doc.description.is_some(),
                "{} has no description",
                path.display()
            );
            names.push(path.file_name().unwrap().to_string_lossy().into_owned());
        }
        names.sort();
        assert_eq!(
            names,
            [
                "flaky-5-percent.json",
                "oci-like-rate-limits.json",
                "slow-crypto.json",
                "throttled-secrets.json",
                "vault-outage.json"
            ]
        );
    }

    #[test]
    fn a_bad_faults_file_is_refused_with_its_field() {
        let dir = std::env::temp_dir().join(format!("faults-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("bad.json");
        std::fs::write(
            &path,
            br#"{"rules": [{"id": "a", "action": {"hangMs": -1}}]}"#,
        )
        .unwrap();
        let err = format!("{:#}", Faults::load(Some(&path)).unwrap_err());
        assert!(err.contains("rules[0].action.hangMs"), "{err}");
        std::fs::remove_dir_all(&dir).ok();
    }
}
