//! Alerts: the monitoring OCI customers set up by hand (Events rules and
//! alarms on the audit log), built in. Four detectors, fed once per OCI
//! request from the pipeline's record, each with defaults that a JSON file
//! (`--alerts-config FILE`, [`AlertConfig`]) changes:
//!
//! - `REPEATED_FAILURES`: more than `threshold` (10) failed requests by one
//!   principal within `windowSeconds` (300). One alert per burst: the
//!   detector re-arms once the principal's failures in the window fall back
//!   to the threshold.
//! - `NEW_SECRET_READER`: a principal reads a secret it never read before,
//!   after `quietSeconds` (3600) without any request.
//! - `PENDING_DELETION_READ`: a bundle read of a secret pending deletion
//!   (once per principal and secret).
//! - `THROTTLE_BURST`: more than `perSecond` (50) requests of one operation
//!   by one principal within one second, which OCI's service limits would
//!   throttle (429). One alert per burst.
//!
//! Times are the emulator's clock (virtual time included). Each alert is
//! kept (the last [`KEPT`]), logged once at `warn`, and counted in the
//! metrics by the HTTP layer. In memory; reset by `POST /_emulator/reset`.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

/// How many alerts are kept for `GET /_emulator/alerts`.
pub const KEPT: usize = 1000;

/// The detectors' settings (JSON, camelCase; every field optional).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct AlertConfig {
    /// `REPEATED_FAILURES`.
    pub repeated_failures: Failures,
    /// `NEW_SECRET_READER`.
    pub new_secret_reader: NewReader,
    /// `PENDING_DELETION_READ`.
    pub pending_deletion_read: Toggle,
    /// `THROTTLE_BURST`.
    pub throttle_burst: Burst,
}

/// `repeatedFailures`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct Failures {
    /// Off when false.
    pub enabled: bool,
    /// Failures allowed within the window (the alert is at one more).
    pub threshold: u64,
    /// The window, seconds.
    pub window_seconds: i64,
}

/// `newSecretReader`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct NewReader {
    /// Off when false.
    pub enabled: bool,
    /// How long the principal must have been quiet, seconds.
    pub quiet_seconds: i64,
}

/// A detector with no setting but on/off.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct Toggle {
    /// Off when false.
    pub enabled: bool,
}

/// `throttleBurst`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct Burst {
    /// Off when false.
    pub enabled: bool,
    /// Requests of one operation by one principal allowed in one second.
    pub per_second: u64,
}

impl Default for Failures {
    fn default() -> Self {
        Self {
            enabled: true,
            threshold: 10,
            window_seconds: 300,
        }
    }
}

impl Default for NewReader {
    fn default() -> Self {
        Self {
            enabled: true,
            quiet_seconds: 3600,
        }
    }
}

impl Default for Toggle {
    fn default() -> Self {
        Self { enabled: true }
    }
}

impl Default for Burst {
    fn default() -> Self {
        Self {
            enabled: true,
            per_second: 50,
        }
    }
}

impl AlertConfig {
    /// Parses an alerts file; unknown fields and non-positive windows are
    /// refused.
    ///
    /// # Errors
    /// What is wrong, naming the field.
    pub fn parse(text: &str) -> Result<Self, String> {
        let c: Self = serde_json::from_str(text).map_err(|e| e.to_string())?;
        if c.repeated_failures.window_seconds <= 0 {
            return Err("repeatedFailures.windowSeconds must be > 0".into());
        }
        if c.new_secret_reader.quiet_seconds <= 0 {
            return Err("newSecretReader.quietSeconds must be > 0".into());
        }
        Ok(c)
    }
}

/// One alert (JSON, camelCase).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Alert {
    /// 1, 2, 3, … since start or reset.
    pub id: u64,
    /// `REPEATED_FAILURES`, `NEW_SECRET_READER`, `PENDING_DELETION_READ`,
    /// `THROTTLE_BURST`.
    pub kind: &'static str,
    /// When it was raised (RFC 3339, the emulator's clock).
    pub time: String,
    /// The principal's name.
    pub principal: String,
    /// The operation of the request that raised it.
    pub operation: &'static str,
    /// The secret, when the alert is about one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret_id: Option<String>,
    /// The request that raised it.
    pub request_id: String,
    /// What happened, in words.
    pub message: String,
}

/// What the detectors see of one request.
#[derive(Debug, Clone, Copy)]
pub struct Seen<'a> {
    /// The caller's name (unauthenticated requests are not watched).
    pub principal: &'a str,
    /// The operation.
    pub operation: &'static str,
    /// The secret named, if any.
    pub secret_id: Option<&'a str>,
    /// A secret bundle read that succeeded.
    pub bundle_read: bool,
    /// A bundle read of a secret pending deletion.
    pub pending_deletion_read: bool,
    /// The request failed (status ≥ 400).
    pub failed: bool,
    /// The emulator's time, Unix seconds.
    pub unix_seconds: i64,
    /// The same time, RFC 3339.
    pub time: &'a str,
    /// The `opc-request-id`.
    pub request_id: &'a str,
}

#[derive(Debug, Default)]
struct State {
    next_id: u64,
    alerts: VecDeque<Alert>,
    failures: HashMap<String, (VecDeque<i64>, bool)>,
    last_seen: HashMap<String, i64>,
    read: HashSet<(String, String)>,
    pending_alerted: HashSet<(String, String)>,
    bursts: HashMap<(String, &'static str), (i64, u64, bool)>,
}

/// The detectors and the alerts they raised.
#[derive(Debug)]
pub struct Alerts {
    config: AlertConfig,
    state: Mutex<State>,
}

impl Alerts {
    /// Detectors with `config`.
    pub fn new(config: AlertConfig) -> Self {
        Self {
            config,
            state: Mutex::new(State::default()),
        }
    }

    /// The settings in force.
    pub fn config(&self) -> &AlertConfig {
        &self.config
    }

    /// Runs every detector on one request; answers the alerts it raised.
    pub fn observe(&self, seen: &Seen<'_>) -> Vec<Alert> {
        let c = &self.config;
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let mut raised: Vec<(&'static str, String)> = Vec::new();
        let who = seen.principal.to_owned();

        if c.repeated_failures.enabled {
            let (times, armed_off) = s.failures.entry(who.clone()).or_default();
            if seen.failed {
                times.push_back(seen.unix_seconds);
            }
            let from = seen.unix_seconds - c.repeated_failures.window_seconds;
            while times.front().is_some_and(|t| *t <= from) {
                times.pop_front();
            }
            let n = times.len() as u64;
            if n > c.repeated_failures.threshold && !*armed_off {
                *armed_off = true;
                raised.push((
                    "REPEATED_FAILURES",
                    format!(
                        "{who} had {n} failed requests within {} s (threshold {})",
                        c.repeated_failures.window_seconds, c.repeated_failures.threshold
                    ),
                ));
            } else if n <= c.repeated_failures.threshold {
                *armed_off = false;
            }
        }

        let last = s.last_seen.insert(who.clone(), seen.unix_seconds);
        if let (true, true, Some(secret)) = (
            c.new_secret_reader.enabled,
            seen.bundle_read,
            seen.secret_id,
        ) {
            let first_read = s.read.insert((who.clone(), secret.to_owned()));
            let quiet =
                last.is_some_and(|l| seen.unix_seconds - l >= c.new_secret_reader.quiet_seconds);
            if first_read && quiet {
                raised.push((
                    "NEW_SECRET_READER",
                    format!(
                        "{who} read a secret it never read before, after {} s without a request",
                        seen.unix_seconds - last.unwrap_or(seen.unix_seconds)
                    ),
                ));
            }
        }

        if let (true, true, Some(secret)) = (
            c.pending_deletion_read.enabled,
            seen.pending_deletion_read,
            seen.secret_id,
        ) {
            if s.pending_alerted.insert((who.clone(), secret.to_owned())) {
                raised.push((
                    "PENDING_DELETION_READ",
                    format!("{who} read a secret that is pending deletion"),
                ));
            }
        }

        if c.throttle_burst.enabled {
            let entry = s.bursts.entry((who.clone(), seen.operation)).or_insert((
                seen.unix_seconds,
                0,
                false,
            ));
            if entry.0 != seen.unix_seconds {
                // A new second: a burst that ended re-arms the detector.
                let ended = entry.1 <= c.throttle_burst.per_second;
                *entry = (seen.unix_seconds, 0, entry.2 && !ended);
            }
            entry.1 += 1;
            if entry.1 > c.throttle_burst.per_second && !entry.2 {
                entry.2 = true;
                raised.push((
                    "THROTTLE_BURST",
                    format!(
                        "{who} sent more than {} {} requests in one second; OCI would throttle them (429)",
                        c.throttle_burst.per_second, seen.operation
                    ),
                ));
            }
        }

        let mut out = Vec::new();
        for (kind, message) in raised {
            s.next_id += 1;
            let alert = Alert {
                id: s.next_id,
                kind,
                time: seen.time.to_owned(),
                principal: who.clone(),
                operation: seen.operation,
                secret_id: seen.secret_id.map(str::to_owned),
                request_id: seen.request_id.to_owned(),
                message,
            };
            if s.alerts.len() == KEPT {
                s.alerts.pop_front();
            }
            s.alerts.push_back(alert.clone());
            out.push(alert);
        }
        out
    }

    /// The alerts kept, oldest first.
    pub fn list(&self) -> Vec<Alert> {
        let s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        s.alerts.iter().cloned().collect()
    }

    /// Forgets every alert and every detector's memory.
    pub fn reset(&self) {
        *self.state.lock().unwrap_or_else(|p| p.into_inner()) = State::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(failed: bool, t: i64) -> Seen<'static> {
        Seen {
            principal: "dev",
            operation: "GetSecretBundle",
            secret_id: Some("s1"),
            bundle_read: !failed,
            pending_deletion_read: false,
            failed,
            unix_seconds: t,
            time: "t",
            request_id: "r",
        }
    }

    #[test]
    fn eleven_failures_in_a_minute_raise_one_alert_and_twenty_still_one() {
        let a = Alerts::new(AlertConfig::default());
        let raised: usize = (0..20)
            .map(|i| a.observe(&seen(true, 1000 + i)).len())
            .sum();
        assert_eq!(raised, 1);
        assert_eq!(a.list()[0].kind, "REPEATED_FAILURES");
        // After the window, a new burst alerts again.
        let again: usize = (0..11)
            .map(|i| a.observe(&seen(true, 2000 + i)).len())
            .sum();
        assert_eq!(again, 1);
    }

    #[test]
    fn ten_failures_raise_nothing() {
        let a = Alerts::new(AlertConfig::default());
        for i in 0..10 {
            assert!(a.observe(&seen(true, i)).is_empty());
        }
    }

    #[test]
    fn a_new_secret_after_a_quiet_hour_alerts_once() {
        let a = Alerts::new(AlertConfig::default());
        assert!(a.observe(&seen(false, 0)).is_empty());
        let mut other = seen(false, 3600);
        other.secret_id = Some("s2");
        assert_eq!(a.observe(&other)[0].kind, "NEW_SECRET_READER");
        other.unix_seconds = 7200;
        assert!(a.observe(&other).is_empty(), "not new any more");
    }

    #[test]
    fn a_config_file_changes_defaults_and_refuses_unknown_fields() {
        let c = AlertConfig::parse(r#"{"repeatedFailures":{"threshold":2}}"#).unwrap();
        assert_eq!(
            (
                c.repeated_failures.threshold,
                c.repeated_failures.window_seconds
            ),
            (2, 300)
        );
        assert!(AlertConfig::parse(r#"{"nope":1}"#)
            .unwrap_err()
            .contains("nope"));
    }
}
