//! Usage and cost: per principal × operation × secret counters, and the
//! monthly bill they would run up on OCI (`GET /_emulator/usage`).
//!
//! Fed once per OCI request from the pipeline's record (in memory; reset by
//! `POST /_emulator/reset`). The bill prices three things, with the prices
//! of a data file a user can update ([`Prices`], `--prices FILE`; the
//! default is compiled in from `fixtures/prices/oci-vault.json`): the key
//! versions and secret versions held now, per month, and the requests
//! counted, per 10,000 beyond the free tier. The requests counted are taken
//! as `runsPerMonth` times a month's traffic (default 1), so the bill does
//! not depend on how long the test run took.
//!
//! Uncached reads: a principal that read one secret more than `threshold`
//! times within any 60 seconds (the emulator's clock) gets advice: with a
//! cache of `ttl` seconds it would have fetched the secret only once per
//! `ttl`; the report gives those reads and what they would save.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

/// The default price file, compiled in.
pub const DEFAULT_PRICES: &str = include_str!("../../../fixtures/prices/oci-vault.json");

/// Most distinct seconds kept per (principal, secret) read pattern.
const MAX_SECONDS: usize = 100_000;

/// OCI's published Vault prices, as a user can update them (JSON, camelCase).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Prices {
    /// ISO 4217 code of every amount.
    pub currency: String,
    /// Where the prices were read.
    pub source: String,
    /// When they were read (`YYYY-MM-DD`).
    pub date: String,
    /// Whether someone checked every amount against `source` on `date`.
    pub verified: bool,
    /// Free text: caveats.
    #[serde(default)]
    pub note: String,
    /// Price of one HSM-protected key version per month.
    pub hsm_key_version_per_month: f64,
    /// HSM key versions free per tenancy.
    pub free_hsm_key_versions: u64,
    /// Price of one software-protected key version per month.
    pub software_key_version_per_month: f64,
    /// Price of one secret version per month.
    pub secret_version_per_month: f64,
    /// Secret versions free per tenancy.
    pub free_secret_versions: u64,
    /// Price of 10,000 requests beyond the free tier.
    pub requests_per_10000: f64,
    /// Requests free per month.
    pub free_requests_per_month: u64,
}

impl Prices {
    /// Parses a price file; every field is required, unknown ones refused.
    ///
    /// # Errors
    /// The text is not a price file (the error names the field).
    pub fn parse(text: &str) -> Result<Self, String> {
        let prices: Self = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let amounts = [
            prices.hsm_key_version_per_month,
            prices.software_key_version_per_month,
            prices.secret_version_per_month,
            prices.requests_per_10000,
        ];
        if amounts.iter().any(|a| !a.is_finite() || *a < 0.0) {
            return Err("every price must be a finite amount ≥ 0".into());
        }
        Ok(prices)
    }
}

/// The resources held now (priced per month).
#[derive(Debug, Clone, Copy, Default)]
pub struct Held {
    /// Key versions of HSM-protected keys.
    pub hsm_key_versions: u64,
    /// Key versions of software-protected keys.
    pub software_key_versions: u64,
    /// Secret versions.
    pub secret_versions: u64,
}

#[derive(Debug, Default)]
struct ReadPattern {
    /// Reads per second of the emulator's clock (Unix seconds).
    seconds: BTreeMap<i64, u64>,
    total: u64,
}

#[derive(Debug, Default)]
struct State {
    counters: HashMap<(String, &'static str, Option<String>), u64>,
    reads: HashMap<(String, String), ReadPattern>,
}

/// The counters (one per `AppState`).
#[derive(Debug, Default)]
pub struct Usage {
    state: Mutex<State>,
}

/// One counter of the report.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Counter {
    /// The caller's name (`-` before authentication).
    pub principal: String,
    /// The operation.
    pub operation: &'static str,
    /// The secret named, if any.
    pub secret_id: Option<String>,
    /// Requests.
    pub count: u64,
}

/// Cache advice for one (principal, secret).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CacheAdvice {
    /// The caller's name.
    pub principal: String,
    /// The secret read.
    pub secret_id: String,
    /// Successful bundle reads.
    pub reads: u64,
    /// Most reads within any 60 seconds.
    pub max_reads_per_minute: u64,
    /// The cache TTL the advice assumes, in seconds.
    pub cache_ttl_seconds: u64,
    /// Reads a cache of that TTL would have left.
    pub reads_with_cache: u64,
    /// Requests saved per month (`runsPerMonth` × the reads saved).
    pub requests_saved_per_month: u64,
    /// What those requests cost, in the price file's currency.
    pub monthly_saving: f64,
    /// The advice, in words.
    pub advice: String,
}

/// The monthly bill.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Bill {
    /// Requests in a month (`runsPerMonth` × requests counted).
    pub requests_per_month: u64,
    /// Requests beyond the free tier.
    pub billable_requests: u64,
    /// Their price.
    pub requests: f64,
    /// Key versions held: HSM beyond the free tier, and software ones.
    pub key_versions: f64,
    /// Secret versions held beyond the free tier.
    pub secret_versions: f64,
    /// The sum.
    pub total: f64,
}

/// `GET /_emulator/usage`'s body.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// The prices used, with their source and date.
    pub prices: Prices,
    /// The multiplier of the traffic counted.
    pub runs_per_month: u64,
    /// Requests counted.
    pub total_requests: u64,
    /// Counters, most requests first.
    pub counters: Vec<Counter>,
    /// Key versions held, HSM-protected.
    pub hsm_key_versions: u64,
    /// Key versions held, software-protected.
    pub software_key_versions: u64,
    /// Secret versions held.
    pub secret_versions: u64,
    /// The projected monthly bill.
    pub projected_monthly: Bill,
    /// Uncached read patterns.
    pub cache_advice: Vec<CacheAdvice>,
}

/// The report's parameters.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Multiplier of the traffic counted (≥ 1).
    pub runs_per_month: u64,
    /// Reads within 60 s above which a pattern is uncached.
    pub threshold: u64,
    /// The cache TTL of the advice, seconds (≥ 1).
    pub cache_ttl_seconds: u64,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            runs_per_month: 1,
            threshold: 10,
            cache_ttl_seconds: 60,
        }
    }
}

/// Rounds an amount to a hundredth of a cent, so reports compare exactly.
fn money(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

impl Usage {
    /// Counts one request; `bundle_read` says it returned a secret bundle
    /// (`secret` is then the secret read) at `unix_seconds`.
    pub fn observe(
        &self,
        principal: Option<&str>,
        operation: &'static str,
        secret: Option<&str>,
        bundle_read: bool,
        unix_seconds: i64,
    ) {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let principal = principal.unwrap_or("-").to_owned();
        *s.counters
            .entry((principal.clone(), operation, secret.map(str::to_owned)))
            .or_default() += 1;
        if let (true, Some(secret)) = (bundle_read, secret) {
            let p = s.reads.entry((principal, secret.to_owned())).or_default();
            p.total += 1;
            if p.seconds.len() < MAX_SECONDS || p.seconds.contains_key(&unix_seconds) {
                *p.seconds.entry(unix_seconds).or_default() += 1;
            }
        }
    }

    /// Forgets everything (`POST /_emulator/reset`).
    pub fn reset(&self) {
        *self.state.lock().unwrap_or_else(|p| p.into_inner()) = State::default();
    }

    /// The report (see the module doc).
    pub fn report(&self, prices: &Prices, held: Held, options: Options) -> Report {
        let s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let runs = options.runs_per_month.max(1);
        let ttl = options.cache_ttl_seconds.max(1);
        let per_request = prices.requests_per_10000 / 10_000.0;
        let mut counters: Vec<Counter> = s
            .counters
            .iter()
            .map(|((principal, operation, secret), count)| Counter {
                principal: principal.clone(),
                operation,
                secret_id: secret.clone(),
                count: *count,
            })
            .collect();
        counters.sort_by(|a, b| {
            b.count
                .cmp(&a.count)
                .then_with(|| a.principal.cmp(&b.principal))
                .then_with(|| a.operation.cmp(b.operation))
                .then_with(|| a.secret_id.cmp(&b.secret_id))
        });
        let total: u64 = counters.iter().map(|c| c.count).sum();
        let requests_per_month = total.saturating_mul(runs);
        let billable = requests_per_month.saturating_sub(prices.free_requests_per_month);
        let requests = money(billable as f64 * per_request);
        let key_versions = money(
            held.hsm_key_versions
                .saturating_sub(prices.free_hsm_key_versions) as f64
                * prices.hsm_key_version_per_month
                + held.software_key_versions as f64 * prices.software_key_version_per_month,
        );
        let secret_versions = money(
            held.secret_versions
                .saturating_sub(prices.free_secret_versions) as f64
                * prices.secret_version_per_month,
        );
        let mut advice: Vec<CacheAdvice> = s
            .reads
            .iter()
            .filter_map(|((principal, secret), p)| {
                let max = max_in_window(&p.seconds, 60);
                if max <= options.threshold {
                    return None;
                }
                let with_cache = fetches_with_ttl(&p.seconds, ttl);
                let saved = (p.total - with_cache.min(p.total)).saturating_mul(runs);
                Some(CacheAdvice {
                    principal: principal.clone(),
                    secret_id: secret.clone(),
                    reads: p.total,
                    max_reads_per_minute: max,
                    cache_ttl_seconds: ttl,
                    reads_with_cache: with_cache,
                    requests_saved_per_month: saved,
                    monthly_saving: money(saved as f64 * per_request),
                    advice: format!(
                        "{principal} read this secret up to {max} times a minute; cache it for {ttl} s (reads: {} → {with_cache})",
                        p.total
                    ),
                })
            })
            .collect();
        advice.sort_by(|a, b| {
            b.reads
                .cmp(&a.reads)
                .then_with(|| a.secret_id.cmp(&b.secret_id))
        });
        Report {
            prices: prices.clone(),
            runs_per_month: runs,
            total_requests: total,
            counters,
            hsm_key_versions: held.hsm_key_versions,
            software_key_versions: held.software_key_versions,
            secret_versions: held.secret_versions,
            projected_monthly: Bill {
                requests_per_month,
                billable_requests: billable,
                requests,
                key_versions,
                secret_versions,
                total: money(requests + key_versions + secret_versions),
            },
            cache_advice: advice,
        }
    }
}

/// Most reads within any `window` consecutive seconds.
fn max_in_window(seconds: &BTreeMap<i64, u64>, window: i64) -> u64 {
    let mut best = 0;
    for (&start, _) in seconds.iter() {
        let n: u64 = seconds.range(start..start + window).map(|(_, c)| c).sum();
        best = best.max(n);
    }
    best
}

/// Fetches a cache of `ttl` seconds would make: the first read fetches,
/// and so does each read at least `ttl` seconds after the last fetch.
fn fetches_with_ttl(seconds: &BTreeMap<i64, u64>, ttl: u64) -> u64 {
    let ttl = i64::try_from(ttl).unwrap_or(i64::MAX);
    let mut fetches = 0;
    let mut last: Option<i64> = None;
    for &s in seconds.keys() {
        if last.is_none_or(|l| s.saturating_sub(l) >= ttl) {
            fetches += 1;
            last = Some(s);
        }
    }
    fetches
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prices() -> Prices {
        Prices::parse(DEFAULT_PRICES).unwrap()
    }

    #[test]
    fn the_default_price_file_parses() {
        let p = prices();
        assert_eq!(p.currency, "USD");
        assert!(!p.source.is_empty() && !p.date.is_empty());
    }

    #[test]
    fn a_thousand_reads_in_a_minute_get_cache_advice() {
        let usage = Usage::default();
        for i in 0..1000 {
            usage.observe(
                Some("app"),
                "GetSecretBundle",
                Some("s1"),
                true,
                1_000 + i / 100,
            );
        }
        let r = usage.report(&prices(), Held::default(), Options::default());
        assert_eq!(r.total_requests, 1000);
        assert_eq!(r.counters[0].count, 1000);
        let a = &r.cache_advice[0];
        assert_eq!(
            (a.reads, a.max_reads_per_minute, a.reads_with_cache),
            (1000, 1000, 1)
        );
        assert_eq!(a.requests_saved_per_month, 999);
    }

    #[test]
    fn reads_under_the_threshold_get_no_advice_and_ttl_counts_fetches() {
        let usage = Usage::default();
        for s in [0, 30, 59, 60, 130] {
            usage.observe(Some("app"), "GetSecretBundle", Some("s1"), true, s);
        }
        let r = usage.report(&prices(), Held::default(), Options::default());
        assert!(r.cache_advice.is_empty());
        let seconds: BTreeMap<i64, u64> = [(0, 1), (30, 1), (59, 1), (60, 1), (130, 1)].into();
        assert_eq!(fetches_with_ttl(&seconds, 60), 3);
        assert_eq!(max_in_window(&seconds, 60), 3);
    }

    #[test]
    fn a_price_file_with_a_negative_amount_or_unknown_field_is_refused() {
        let mut v: serde_json::Value = serde_json::from_str(DEFAULT_PRICES).unwrap();
        v["requestsPer10000"] = serde_json::json!(-1.0);
        assert!(Prices::parse(&v.to_string()).is_err());
        let mut v: serde_json::Value = serde_json::from_str(DEFAULT_PRICES).unwrap();
        v["extra"] = serde_json::json!(1);
        assert!(Prices::parse(&v.to_string()).unwrap_err().contains("extra"));
    }
}
