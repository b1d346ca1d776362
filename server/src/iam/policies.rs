//! The policies in force at run time: the tenancy file's, until
//! `PUT /_emulator/iam/policies` replaces them (and a reset restores them),
//! with the log of decisions made under them.

use std::sync::{Arc, RwLock};

use super::decisions::DecisionLog;
use super::eval::{Engine, Lint};
use super::tenancy::{Policy, TenancyFile};

/// Policies in force and the decisions made under them.
pub struct Iam {
    file: TenancyFile,
    engine: RwLock<Arc<Engine>>,
    /// Recorded decisions, for `GET /_emulator/decisions/{id}`.
    pub decisions: DecisionLog,
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
            decisions: DecisionLog::default(),
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
        self.decisions.clear();
    }
}

fn log_lint(lint: &[Lint]) {
    for l in lint {
        tracing::warn!(policy = %l.policy, statement = l.statement, text = %l.text, "policy lint: {}", l.message);
    }
}
