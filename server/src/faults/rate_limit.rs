//! Rate limits: token buckets keyed by tenancy, principal or
//! principal+operation. Over the limit → 429 `TooManyRequests` with OCI's
//! body (OCI "API Errors": 429 is throttling, retried with backoff by the
//! SDKs). Off unless a document configures them.
//!
//! A bucket holds at most `burst` tokens and refills at `perSecond` tokens a
//! second of real (monotonic) time — not the emulator clock, so moving
//! `/_emulator/time` does not refill buckets. A call takes one token. Buckets
//! are plain numbers updated under the faults lock for nanoseconds; nothing
//! ever waits for a token.

use std::collections::HashMap;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use super::rules::InjectedError;
use super::rules::{validate_id, FaultError, MatchSpec, Matcher};
use super::Target;

/// What one bucket is kept per.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum BucketKey {
    /// One bucket for the whole tenancy.
    #[serde(rename = "tenancy")]
    Tenancy,
    /// One bucket per calling user.
    #[serde(rename = "principal")]
    Principal,
    /// One bucket per calling user and operation.
    #[serde(rename = "principal+operation")]
    PrincipalOperation,
}

/// One element of `rateLimits`, as written (and as `GET` shows it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RateLimitSpec {
    /// Unique among rules and rate limits; minted (`rate-limit-N`) when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Which calls count against it (as for rules).
    #[serde(default, rename = "match")]
    pub match_: MatchSpec,
    /// Sustained rate, tokens per second (> 0).
    pub per_second: f64,
    /// Bucket size: calls allowed at once after a quiet spell (≥ 1).
    pub burst: u64,
    /// What a bucket is kept per; default `principal`.
    #[serde(default = "default_key")]
    pub key: BucketKey,
}

fn default_key() -> BucketKey {
    BucketKey::Principal
}

/// A token bucket. Starts full.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TokenBucket {
    tokens: f64,
    last: Instant,
}

impl TokenBucket {
    /// A full bucket of `burst` tokens at `now`.
    pub fn full(burst: u64, now: Instant) -> Self {
        Self {
            tokens: burst as f64,
            last: now,
        }
    }

    /// Refills for the time since the last call (capped at `burst`); then
    /// whether a token is there to take.
    pub fn refill(&mut self, now: Instant, per_second: f64, burst: u64) -> bool {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.tokens = (self.tokens + elapsed * per_second).min(burst as f64);
        self.last = now.max(self.last);
        self.tokens >= 1.0
    }

    /// Takes a token (call [`TokenBucket::refill`] first).
    pub fn take(&mut self) {
        self.tokens -= 1.0;
    }
}

/// A compiled rate limit with its buckets and counter.
#[derive(Debug)]
pub struct RateLimit {
    /// The limit as written, with its id filled in.
    pub spec: RateLimitSpec,
    /// Its id.
    pub id: String,
    matcher: Matcher,
    buckets: HashMap<String, TokenBucket>,
    /// Calls refused so far.
    pub fired: u64,
}

impl RateLimit {
    /// Validates `spec` (id already filled in); `path` names it in errors.
    pub fn compile(spec: RateLimitSpec, path: &str) -> Result<Self, FaultError> {
        let id = spec.id.clone().unwrap_or_default();
        validate_id(&id, &format!("{path}.id"))?;
        let matcher = Matcher::compile(&spec.match_, &format!("{path}.match"))?;
        if !(spec.per_second.is_finite() && spec.per_second > 0.0) {
            return Err(FaultError::new(
                format!("{path}.perSecond"),
                "must be a number above 0",
            ));
        }
        if spec.burst == 0 {
            return Err(FaultError::new(
                format!("{path}.burst"),
                "must be at least 1",
            ));
        }
        Ok(Self {
            id,
            matcher,
            buckets: HashMap::new(),
            fired: 0,
            spec,
        })
    }

    /// The bucket key of a call, or `None` when the limit does not apply.
    pub fn key_of(&self, target: &Target<'_>) -> Option<String> {
        if !self.matcher.matches(target) {
            return None;
        }
        let p = target.principal?;
        Some(match self.spec.key {
            BucketKey::Tenancy => p.tenancy_id.to_owned(),
            BucketKey::Principal => p.user_id.to_owned(),
            BucketKey::PrincipalOperation => format!("{}/{}", p.user_id, target.operation.name()),
        })
    }

    /// Refills the bucket of `key` and says whether it has a token.
    pub fn has_token(&mut self, key: &str, now: Instant) -> bool {
        let (per_second, burst) = (self.spec.per_second, self.spec.burst);
        self.buckets
            .entry(key.to_owned())
            .or_insert_with(|| TokenBucket::full(burst, now))
            .refill(now, per_second, burst)
    }

    /// Takes a token from the bucket of `key` (after [`RateLimit::has_token`]).
    pub fn take(&mut self, key: &str) {
        if let Some(b) = self.buckets.get_mut(key) {
            b.take();
        }
    }

    /// The 429 a throttled call gets.
    pub fn error(&self) -> InjectedError {
        InjectedError {
            status: 429,
            code: "TooManyRequests".to_owned(),
            message: "Too many requests for the tenant.".to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::faults::Caller;
    use crate::operation::Operation;
    use proptest::prelude::*;
    use std::time::Duration;

    /// How many of `calls` calls, `gap` apart, a bucket lets through.
    fn admitted(per_second: f64, burst: u64, calls: u32, gap: Duration) -> u32 {
        let start = Instant::now();
        let mut b = TokenBucket::full(burst, start);
        (0..calls)
            .filter(|i| {
                let ok = b.refill(start + gap * *i, per_second, burst);
                if ok {
                    b.take();
                }
                ok
            })
            .count() as u32
    }

    #[test]
    fn a_burst_passes_then_the_bucket_is_empty() {
        assert_eq!(admitted(1.0, 5, 20, Duration::ZERO), 5);
    }

    #[test]
    fn the_bucket_refills_at_the_rate() {
        // 10/s, one call every 50 ms for 2 s: burst 1 lets through one call per 100 ms.
        assert_eq!(admitted(10.0, 1, 40, Duration::from_millis(50)), 20);
    }

    #[test]
    fn a_bucket_never_holds_more_than_burst() {
        let start = Instant::now();
        let mut b = TokenBucket::full(3, start);
        assert!(b.refill(start + Duration::from_secs(3600), 100.0, 3));
        assert_eq!(b.tokens, 3.0);
    }

    proptest! {
        #[test]
        fn admissions_never_exceed_burst_plus_refill(
            per_second in 0.1f64..100.0, burst in 1u64..20, calls in 0u32..300, gap_ms in 0u64..100
        ) {
            let gap = Duration::from_millis(gap_ms);
            let got = admitted(per_second, burst, calls, gap);
            let span = (gap * calls.saturating_sub(1)).as_secs_f64();
            prop_assert!(f64::from(got) <= burst as f64 + span * per_second + 1e-9);
            prop_assert!(got <= calls);
            prop_assert!(u64::from(got) >= burst.min(u64::from(calls)));
        }
    }

    #[test]
    fn keys_separate_principals_and_operations() {
        let a = Caller {
            user_id: "ocid1.user.oc1..a",
            user_name: "a",
            tenancy_id: "ocid1.tenancy.oc1..t",
        };
        let spec = |key: &str| -> RateLimitSpec {
            serde_json::from_value(serde_json::json!({
                "id": "l", "match": {"services": ["secrets"]}, "perSecond": 1, "burst": 1, "key": key}))
            .unwrap()
        };
        let t = Target {
            principal: Some(a),
            ..Target::bare(Operation::GetSecretBundle)
        };
        let key = |k: &str| {
            RateLimit::compile(spec(k), "rateLimits[0]")
                .unwrap()
                .key_of(&t)
        };
        assert_eq!(key("tenancy").as_deref(), Some("ocid1.tenancy.oc1..t"));
        assert_eq!(key("principal").as_deref(), Some("ocid1.user.oc1..a"));
        assert_eq!(
            key("principal+operation").as_deref(),
            Some("ocid1.user.oc1..a/GetSecretBundle")
        );
        let other = Target {
            principal: Some(a),
            ..Target::bare(Operation::GetSecret)
        };
        let limit = RateLimit::compile(spec("principal"), "rateLimits[0]").unwrap();
        assert_eq!(limit.key_of(&other), None, "another service does not count");
    }

    #[test]
    fn bad_limits_name_the_field() {
        for (json, field) in [
            (
                serde_json::json!({"id": "l", "perSecond": 0, "burst": 1}),
                "rateLimits[0].perSecond",
            ),
            (
                serde_json::json!({"id": "l", "perSecond": 1, "burst": 0}),
                "rateLimits[0].burst",
            ),
            (
                serde_json::json!({"id": "", "perSecond": 1, "burst": 1}),
                "rateLimits[0].id",
            ),
        ] {
            let spec: RateLimitSpec = serde_json::from_value(json).unwrap();
            assert_eq!(
                RateLimit::compile(spec, "rateLimits[0]").unwrap_err().field,
                field
            );
        }
    }
}
