//! The log of authorise decisions that `GET /_emulator/decisions/{id}`
//! explains: the last [`DECISIONS_KEPT`] requests, by `opc-request-id`.
//! The pipeline records into it after the authorise step; nothing here
//! decides anything.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use serde_json::{json, Value as Json};
use time::OffsetDateTime;

use super::authz::{Decision, Outcome};

/// How many decisions are kept.
pub const DECISIONS_KEPT: usize = 4096;

#[derive(Default)]
struct Log {
    order: VecDeque<String>,
    by_id: HashMap<String, (OffsetDateTime, Arc<Decision>)>,
}

/// Recorded decisions, oldest dropped first. A std mutex held for a map
/// insert or lookup only.
#[derive(Default)]
pub struct DecisionLog(Mutex<Log>);

impl std::fmt::Debug for DecisionLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DecisionLog(..)")
    }
}

impl DecisionLog {
    fn lock(&self) -> std::sync::MutexGuard<'_, Log> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Keeps `decision` (made at `time`) under `request_id`, forgetting the
    /// oldest beyond [`DECISIONS_KEPT`]. The forgotten decision is freed
    /// after the lock is released: every request records one.
    pub fn record(&self, request_id: &str, time: OffsetDateTime, decision: Arc<Decision>) {
        let forgotten = {
            let mut log = self.lock();
            if log
                .by_id
                .insert(request_id.to_owned(), (time, decision))
                .is_none()
            {
                log.order.push_back(request_id.to_owned());
            }
            // One record adds at most one entry, so one eviction keeps the bound.
            if log.order.len() > DECISIONS_KEPT {
                let old = log.order.pop_front();
                old.and_then(|old| log.by_id.remove(&old))
            } else {
                None
            }
        };
        drop(forgotten);
    }

    /// The explanation of the decision recorded under `request_id`.
    pub fn explain(&self, request_id: &str) -> Option<Json> {
        let log = self.lock();
        log.by_id
            .get(request_id)
            .map(|(time, d)| explanation(d, request_id, *time))
    }

    /// Forgets every decision (`POST /_emulator/reset`).
    pub fn clear(&self) {
        *self.lock() = Log::default();
    }
}

/// The JSON `GET /_emulator/decisions/{id}` answers: the engine's
/// explanation of the checks, plus the request id, the time and, for a
/// denial, the status and code the client got.
fn explanation(decision: &Decision, request_id: &str, time: OffsetDateTime) -> Json {
    let mut out = match &decision.request {
        Some(r) => decision.engine.explain(r),
        None => json!({
            "operation": decision.operation,
            "principal": {
                "type": decision.principal.principal_type(),
                "id": decision.principal.user_id,
                "name": decision.principal.user_name,
            },
            "checks": [],
        }),
    };
    out["requestId"] = json!(request_id);
    out["time"] = json!(time
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default());
    match &decision.outcome {
        Outcome::Allowed => {}
        Outcome::Denied(_) => {
            if let Some(denial) = decision.denial() {
                let (status, code) = denial.status_and_code();
                out["response"] = json!({"status": status, "code": code});
            }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::iam::authz::authorize;
    use crate::iam::eval::Engine;
    use crate::iam::tenancy::Tenancy;
    use crate::operation::Operation;

    /// The log keeps the newest [`DECISIONS_KEPT`] decisions: one more
    /// forgets the oldest and only it.
    #[test]
    fn the_oldest_decision_is_forgotten_past_the_bound() {
        let tenancy = Tenancy::embedded();
        let engine = Arc::new(Engine::new(&tenancy.file, Vec::new()).unwrap());
        let principal = tenancy.user_principal(&tenancy.file.users[0]);
        let decision = Arc::new(authorize(
            engine,
            &principal,
            Operation::ListVaults,
            "us-ashburn-1",
            &crate::iam::authz::Targets::default(),
            Vec::new(),
            OffsetDateTime::UNIX_EPOCH,
        ));
        let log = DecisionLog::default();
        for n in 0..=DECISIONS_KEPT {
            log.record(&n.to_string(), OffsetDateTime::UNIX_EPOCH, decision.clone());
        }
        assert!(log.explain("0").is_none());
        assert!(log.explain("1").is_some());
        assert!(log.explain(&DECISIONS_KEPT.to_string()).is_some());
        let kept = log.lock();
        assert_eq!(
            (kept.order.len(), kept.by_id.len()),
            (DECISIONS_KEPT, DECISIONS_KEPT)
        );
    }
}
