//! What the emulator observed of its OCI calls: Prometheus metrics and the
//! recent requests the console shows. Both are fed from one place, the
//! access log line in `http/`, with one [`RequestSummary`] built from the
//! pipeline's `Record` per request; nothing else in the pipeline counts.
//!
//! The metrics registry is a value owned by `AppState` (prometheus-client),
//! not a process-global recorder, so two emulators in one process (the
//! in-process tests) never share a counter. Counters are never reset (a
//! `POST /_emulator/reset` leaves them growing, as Prometheus expects).
//!
//! A summary holds metadata only: names, OCIDs, the status and code. Never
//! secret content, key material, a signature or a query string.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use serde::Serialize;

/// How many recent requests are kept for `GET /_emulator/requests`.
pub const RECENT_CAPACITY: usize = 200;

/// The `Content-Type` of [`Telemetry::encode`]'s text (OpenMetrics 1.0,
/// which Prometheus scrapes natively).
pub const METRICS_CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Upper bounds of the latency histogram's buckets, in seconds (1 ms to
/// 10 s: an emulated call takes microseconds unless a fault adds latency).
const LATENCY_BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

/// One OCI call as the console and the metrics see it (JSON: camelCase).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestSummary {
    /// The `opc-request-id`; `/_emulator/decisions/{it}` explains the decision.
    pub request_id: String,
    /// When it was answered, RFC 3339 on the emulator's (virtual) clock.
    pub time: String,
    /// The HTTP method.
    pub method: String,
    /// The path as sent, without the query.
    pub path: String,
    /// The operation's name, `None` when the path routes to no operation.
    pub operation: Option<&'static str>,
    /// The caller's user name, once authenticated.
    pub principal: Option<String>,
    /// The OCIDs of the resolved target.
    pub target: TargetIds,
    /// `"ALLOWED"` or `"DENIED"` once IAM decided; `None` before that.
    pub decision: Option<&'static str>,
    /// Ids of the fault rules that fired, in order (rate limits excluded).
    pub faults: Vec<String>,
    /// Ids of the rate limits that rejected the call.
    pub rate_limited: Vec<String>,
    /// The HTTP status answered.
    pub status: u16,
    /// The OCI error code of the body (`None` for a success).
    pub code: Option<String>,
    /// Time from the pipeline's start to its answer, in microseconds.
    pub elapsed_micros: u64,
}

/// The OCIDs a request's target resolved to (each `None` when not named or
/// not found).
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TargetIds {
    /// The compartment acted in.
    pub compartment_id: Option<String>,
    /// The vault.
    pub vault_id: Option<String>,
    /// The key.
    pub key_id: Option<String>,
    /// The secret.
    pub secret_id: Option<String>,
}

/// Stored resources, for the store-size gauges (read when scraped).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StoreCounts {
    /// Vaults, every lifecycle state.
    pub vaults: i64,
    /// Keys.
    pub keys: i64,
    /// Secrets.
    pub secrets: i64,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    operation: &'static str,
    status: u16,
    code: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OperationLabels {
    operation: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RuleLabels {
    rule: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LimitLabels {
    limit: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    kind: &'static str,
}

type HistogramFamily = Family<OperationLabels, Histogram, fn() -> Histogram>;

/// The metric families (cheap handles into the registry's metrics).
struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: HistogramFamily,
    denials: Family<OperationLabels, Counter>,
    faults: Family<RuleLabels, Counter>,
    rate_limited: Family<LimitLabels, Counter>,
    store: Family<KindLabels, Gauge>,
    alerts: Family<KindLabels, Counter>,
}

/// Metrics and the ring of recent requests of one emulator.
pub struct Telemetry {
    metrics: Metrics,
    recent: Mutex<VecDeque<RequestSummary>>,
}

impl std::fmt::Debug for Telemetry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Telemetry").finish_non_exhaustive()
    }
}

impl Default for Telemetry {
    fn default() -> Self {
        Self::new()
    }
}

impl Telemetry {
    /// A fresh registry (every family `oci_emulator_…`) and an empty ring.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("oci_emulator");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "requests",
            "OCI calls answered, by operation (\"-\" when unrouted), HTTP status and OCI error code (\"\" for a success)",
            requests.clone(),
        );
        let latency: HistogramFamily =
            Family::new_with_constructor(|| Histogram::new(LATENCY_BUCKETS));
        registry.register(
            "request_duration_seconds",
            "Time from the pipeline's start to its answer, by operation, in seconds",
            latency.clone(),
        );
        let denials = Family::<OperationLabels, Counter>::default();
        registry.register(
            "denials",
            "OCI calls IAM denied, by operation",
            denials.clone(),
        );
        let faults = Family::<RuleLabels, Counter>::default();
        registry.register(
            "faults_fired",
            "Fault rules fired, by rule id",
            faults.clone(),
        );
        let rate_limited = Family::<LimitLabels, Counter>::default();
        registry.register(
            "rate_limit_rejections",
            "OCI calls a rate limit rejected, by limit id",
            rate_limited.clone(),
        );
        let store = Family::<KindLabels, Gauge>::default();
        registry.register(
            "store_resources",
            "Stored vaults, keys and secrets (every lifecycle state), read when scraped",
            store.clone(),
        );
        let alerts = Family::<KindLabels, Counter>::default();
        registry.register(
            "alerts",
            "Alerts raised by the built-in detectors (/_emulator/alerts), by kind",
            alerts.clone(),
        );
        Self {
            metrics: Metrics {
                registry,
                requests,
                latency,
                denials,
                faults,
                rate_limited,
                store,
                alerts,
            },
            recent: Mutex::new(VecDeque::with_capacity(RECENT_CAPACITY)),
        }
    }

    /// Counts one alert of `kind` (`REPEATED_FAILURES`, …).
    pub fn alert(&self, kind: &'static str) {
        self.metrics
            .alerts
            .get_or_create(&KindLabels { kind })
            .inc();
    }

    /// Counts one answered OCI call and keeps its summary (the oldest of
    /// [`RECENT_CAPACITY`] is dropped).
    pub fn observe(&self, summary: RequestSummary) {
        let m = &self.metrics;
        let operation = summary.operation.unwrap_or("-");
        m.requests
            .get_or_create(&RequestLabels {
                operation,
                status: summary.status,
                code: summary.code.clone().unwrap_or_default(),
            })
            .inc();
        m.latency
            .get_or_create(&OperationLabels { operation })
            .observe(Duration::from_micros(summary.elapsed_micros).as_secs_f64());
        if summary.decision == Some("DENIED") {
            m.denials
                .get_or_create(&OperationLabels { operation })
                .inc();
        }
        for rule in &summary.faults {
            m.faults
                .get_or_create(&RuleLabels { rule: rule.clone() })
                .inc();
        }
        for limit in &summary.rate_limited {
            m.rate_limited
                .get_or_create(&LimitLabels {
                    limit: limit.clone(),
                })
                .inc();
        }
        let mut recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
        if recent.len() == RECENT_CAPACITY {
            recent.pop_front();
        }
        recent.push_back(summary);
    }

    /// The kept summaries, newest first, at most `limit`.
    pub fn recent(&self, limit: usize) -> Vec<RequestSummary> {
        let recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
        recent.iter().rev().take(limit).cloned().collect()
    }

    /// The metrics in OpenMetrics text ([`METRICS_CONTENT_TYPE`]), with the
    /// store gauges set to `counts` first.
    pub fn encode(&self, counts: StoreCounts) -> String {
        let m = &self.metrics;
        for (kind, n) in [
            ("vault", counts.vaults),
            ("key", counts.keys),
            ("secret", counts.secrets),
        ] {
            m.store.get_or_create(&KindLabels { kind }).set(n);
        }
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &m.registry);
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(n: usize) -> RequestSummary {
        RequestSummary {
            request_id: format!("r{n}"),
            time: String::new(),
            method: "GET".into(),
            path: "/".into(),
            operation: None,
            principal: None,
            target: TargetIds::default(),
            decision: None,
            faults: Vec::new(),
            rate_limited: Vec::new(),
            status: 404,
            code: Some("NotAuthorizedOrNotFound".into()),
            elapsed_micros: 10,
        }
    }

    #[test]
    fn the_ring_keeps_the_newest_requests_first() {
        let t = Telemetry::new();
        for n in 0..RECENT_CAPACITY + 5 {
            t.observe(summary(n));
        }
        let recent = t.recent(usize::MAX);
        assert_eq!(recent.len(), RECENT_CAPACITY);
        assert_eq!(recent[0].request_id, format!("r{}", RECENT_CAPACITY + 4));
        assert_eq!(recent[RECENT_CAPACITY - 1].request_id, "r5");
        assert_eq!(t.recent(2).len(), 2);
    }

    #[test]
    fn unrouted_calls_count_under_a_dash() {
        let t = Telemetry::new();
        t.observe(summary(0));
        let text = t.encode(StoreCounts::default());
        assert!(text.contains(
            "oci_emulator_requests_total{operation=\"-\",status=\"404\",code=\"NotAuthorizedOrNotFound\"} 1\n"
        ));
        assert!(text.contains("oci_emulator_store_resources{kind=\"secret\"} 0\n"));
        assert!(text.ends_with("# EOF\n"));
    }
}
