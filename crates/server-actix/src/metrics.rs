//! Prometheus metrics: `GET /metrics` in the text exposition format, from one
//! [`prometheus::Registry`] per [`AppState`](super::AppState) (never the process-global
//! default registry, so several apps in one test process do not share counters).
//!
//! Cardinality is bounded: requests are labelled by route template (set on each resource, never
//! the raw path; [`UNMATCHED`] for requests no route matched), method (the standard ones,
//! else `other`) and status class. Per-register and per-subscription series are read from the
//! store at scrape time, so their labels are names the database holds, never request input.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::http::{header, Method, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use node_service::lockout::Lockout;
use prometheus::core::{Collector, Desc};
use prometheus::proto::MetricFamily;
use prometheus::{
    Encoder, GaugeVec, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, Opts,
    Registry, TextEncoder,
};
use store_diesel::store::Store;

use super::errors::ApiError;
use super::AppState;

/// The route label of requests that matched no route.
pub const UNMATCHED: &str = "unmatched";

/// Latency buckets (seconds), from a cached record to a large load.
const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// Load duration buckets (seconds).
const LOAD_BUCKETS: &[f64] = &[
    0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0,
];

/// The metrics of one server, and who may read them.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    loads: IntCounter,
    load_failures: IntCounter,
    load_entries: IntCounter,
    load_duration: prometheus::Histogram,
    login_failures: IntCounterVec,
    /// `Some`: `/metrics` requires `Authorization: Bearer <token>`.
    token: Option<String>,
}

fn expect<T>(result: prometheus::Result<T>) -> T {
    // Only fails for invalid names or duplicate registrations, which are fixed here.
    result.expect("a valid, unique metric definition")
}

impl Metrics {
    /// The metrics of a server over `store`: request and load counters, the store's
    /// per-register, per-subscription and pool gauges, and (on Linux) process metrics.
    pub fn new(store: Store, lockout: Arc<Lockout>) -> Metrics {
        let registry = Registry::new();
        let requests = expect(IntCounterVec::new(
            Opts::new(
                "registers_http_requests_total",
                "HTTP requests by route template, method and status class",
            ),
            &["route", "method", "status"],
        ));
        let latency = expect(HistogramVec::new(
            HistogramOpts::new(
                "registers_http_request_duration_seconds",
                "HTTP request latency by route template and method",
            )
            .buckets(LATENCY_BUCKETS.to_vec()),
            &["route", "method"],
        ));
        let loads = expect(IntCounter::new(
            "registers_loads_total",
            "RSF loads over HTTP (load-rsf) by an authorised admin",
        ));
        let load_failures = expect(IntCounter::new(
            "registers_load_failures_total",
            "RSF loads over HTTP that failed (nothing was loaded)",
        ));
        let load_entries = expect(IntCounter::new(
            "registers_load_entries_added_total",
            "User entries added by RSF loads over HTTP",
        ));
        let load_duration = expect(prometheus::Histogram::with_opts(
            HistogramOpts::new(
                "registers_load_duration_seconds",
                "Duration of RSF loads over HTTP, failed or not",
            )
            .buckets(LOAD_BUCKETS.to_vec()),
        ));
        let login_failures = expect(IntCounterVec::new(
            Opts::new(
                "registers_login_failures_total",
                "Failed logins: `login` at /v1/login, `basic` for HTTP Basic on writes, `token` for \
                 writer tokens",
            ),
            &["via"],
        ));
        for metric in [
            Box::new(requests.clone()) as Box<dyn Collector>,
            Box::new(latency.clone()),
            Box::new(loads.clone()),
            Box::new(load_failures.clone()),
            Box::new(load_entries.clone()),
            Box::new(load_duration.clone()),
            Box::new(login_failures.clone()),
            Box::new(StoreCollector::new(store, lockout)),
        ] {
            expect(registry.register(metric));
        }
        #[cfg(target_os = "linux")]
        expect(registry.register(Box::new(
            prometheus::process_collector::ProcessCollector::for_self(),
        )));
        Metrics {
            registry,
            requests,
            latency,
            loads,
            load_failures,
            load_entries,
            load_duration,
            login_failures,
            token: None,
        }
    }

    /// These metrics, readable only with `Authorization: Bearer <token>`.
    pub fn with_token(mut self, token: impl Into<String>) -> Metrics {
        self.token = Some(token.into());
        self
    }

    /// Counts one request to the route template `route` (`None`: no route matched).
    pub(crate) fn observe_request(
        &self,
        route: Option<&str>,
        method: &Method,
        status: StatusCode,
        elapsed: Duration,
    ) {
        let route = route.unwrap_or(UNMATCHED);
        let method = method_label(method);
        let class = match status.as_u16() / 100 {
            1 => "1xx",
            2 => "2xx",
            3 => "3xx",
            4 => "4xx",
            _ => "5xx",
        };
        self.requests
            .with_label_values(&[route, method, class])
            .inc();
        self.latency
            .with_label_values(&[route, method])
            .observe(elapsed.as_secs_f64());
    }

    /// Counts one load over HTTP: `Ok(user entries added)` or a failure.
    pub(crate) fn observe_load(&self, outcome: Result<u64, ()>, elapsed: Duration) {
        self.loads.inc();
        match outcome {
            Ok(added) => self.load_entries.inc_by(added),
            Err(()) => self.load_failures.inc(),
        }
        self.load_duration.observe(elapsed.as_secs_f64());
    }

    /// Counts one failed login, `via` `login`, `basic` or `token`.
    pub(crate) fn login_failed(&self, via: &'static str) {
        self.login_failures.with_label_values(&[via]).inc();
    }

    /// The text exposition of every metric (reads the store: call off the actix workers).
    pub fn exposition(&self) -> Result<String, ApiError> {
        let mut out = Vec::new();
        TextEncoder::new()
            .encode(&self.registry.gather(), &mut out)
            .map_err(|e| ApiError::Internal(format!("encoding metrics: {e}")))?;
        String::from_utf8(out).map_err(|e| ApiError::Internal(format!("encoding metrics: {e}")))
    }

    fn allows(&self, request: &HttpRequest) -> bool {
        let Some(token) = &self.token else {
            return true;
        };
        let sent = request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim);
        sent.is_some_and(|sent| same(sent.as_bytes(), token.as_bytes()))
    }
}

/// Equal bytes, in time that depends on the lengths only.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A route's pattern as documented (`{segment:records(…)?}` → `records`), computed once per
/// resource when the route table is built (see `RouteTemplate`).
pub(crate) fn template(pattern: &str) -> std::borrow::Cow<'_, str> {
    if !pattern.contains(':') {
        return pattern.into();
    }
    let mut out = String::with_capacity(pattern.len());
    let mut rest = pattern;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}').map(|c| open + c) else {
            break;
        };
        out.push_str(&rest[..open]);
        let segment = &rest[open + 1..close];
        match segment.split_once(':') {
            Some(("segment" | "suffix", regex)) => {
                out.extend(regex.chars().take_while(char::is_ascii_alphanumeric));
            }
            Some((name, _)) => {
                out.push('{');
                out.push_str(name);
                out.push('}');
            }
            None => out.push_str(&rest[open..=close]),
        }
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    out.into()
}

fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// `GET /metrics`: the exposition; 401 without the bearer token when one is configured, 404
/// when metrics are off.
pub async fn metrics(
    state: web::Data<AppState>,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let Some(metrics) = state.metrics.clone() else {
        return Err(ApiError::NotFound(
            "metrics are off on this server ([metrics] enabled = false)".into(),
        ));
    };
    if !metrics.allows(&request) {
        return Err(ApiError::Unauthorized(
            "the metrics token is required (Authorization: Bearer …)".into(),
        ));
    }
    let text = web::block(move || metrics.exposition()).await??;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .content_type(TextEncoder::new().format_type())
        .body(text))
}

/// The store's gauges, read at scrape time: per register, per mirror subscription, and the
/// connection pool.
struct StoreCollector {
    store: Store,
    lockout: Arc<Lockout>,
    /// One scrape at a time: each resets and refills the vectors below.
    gauges: Mutex<StoreGauges>,
    descs: Vec<Desc>,
}

struct StoreGauges {
    entries: GaugeVec,
    records: GaugeVec,
    checkpoint_entries: GaugeVec,
    checkpoint_age: GaugeVec,
    mirror_entries: GaugeVec,
    entries_behind: GaugeVec,
    last_success: GaugeVec,
    last_error: GaugeVec,
    connections: IntGauge,
    idle: IntGauge,
    locked_accounts: IntGauge,
}

impl StoreCollector {
    fn new(store: Store, lockout: Arc<Lockout>) -> StoreCollector {
        let register =
            |name: &str, help: &str| expect(GaugeVec::new(Opts::new(name, help), &["register"]));
        let subscription = |name: &str, help: &str| {
            expect(GaugeVec::new(Opts::new(name, help), &["register", "slice"]))
        };
        let gauges = StoreGauges {
            entries: register(
                "registers_register_entries",
                "User entries of each register (total-entries)",
            ),
            records: register(
                "registers_register_records",
                "Records of each register (total-records)",
            ),
            checkpoint_entries: register(
                "registers_register_checkpoint_entries",
                "Size of each register's newest signed checkpoint (below total entries: unsigned)",
            ),
            checkpoint_age: register(
                "registers_register_checkpoint_age_seconds",
                "Seconds since each register's newest checkpoint was signed",
            ),
            entries_behind: subscription(
                "registers_subscription_entries_behind",
                "Entries each mirror lacks of its primary's log as the last sync run saw it",
            ),
            mirror_entries: subscription(
                "registers_subscription_mirror_entries",
                "User entries of each mirror subscription after its last successful sync",
            ),
            last_success: subscription(
                "registers_subscription_last_success_timestamp_seconds",
                "When each mirror subscription last synced successfully (Unix seconds)",
            ),
            last_error: subscription(
                "registers_subscription_last_error_timestamp_seconds",
                "When each mirror subscription's last sync failed (Unix seconds), if it did",
            ),
            connections: expect(IntGauge::new(
                "registers_db_pool_connections",
                "Database connections open in the pool",
            )),
            idle: expect(IntGauge::new(
                "registers_db_pool_idle_connections",
                "Database connections idle in the pool",
            )),
            locked_accounts: expect(IntGauge::new(
                "registers_accounts_locked",
                "Account names locked against logins now (for at least one client address), after repeated failures",
            )),
        };
        let descs = gauges
            .collectors()
            .iter()
            .flat_map(|c| c.desc().into_iter().cloned())
            .collect();
        StoreCollector {
            store,
            lockout,
            gauges: Mutex::new(gauges),
            descs,
        }
    }
}

impl StoreGauges {
    fn collectors(&self) -> [&dyn Collector; 11] {
        [
            &self.entries,
            &self.records,
            &self.checkpoint_entries,
            &self.checkpoint_age,
            &self.mirror_entries,
            &self.entries_behind,
            &self.last_success,
            &self.last_error,
            &self.connections,
            &self.idle,
            &self.locked_accounts,
        ]
    }

    fn refill(&self, store: &Store, lockout: &Lockout) {
        let (connections, idle) = store.pool_state();
        self.connections.set(connections.into());
        self.idle.set(idle.into());
        self.entries.reset();
        self.records.reset();
        match store.registers() {
            Ok(registers) => {
                for register in registers {
                    let labels = [register.name.as_str()];
                    self.entries
                        .with_label_values(&labels)
                        .set(register.total_entries as f64);
                    self.records
                        .with_label_values(&labels)
                        .set(register.total_records as f64);
                }
            }
            Err(e) => tracing::warn!(error = %e, "metrics: cannot read the registers"),
        }
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        self.checkpoint_entries.reset();
        self.checkpoint_age.reset();
        match store.newest_checkpoints() {
            Ok(newest) => {
                for (register, size, signed_at) in newest {
                    let labels = [register.as_str()];
                    self.checkpoint_entries
                        .with_label_values(&labels)
                        .set(size as f64);
                    self.checkpoint_age
                        .with_label_values(&labels)
                        .set(now.saturating_sub(signed_at).max(0) as f64);
                }
            }
            Err(e) => tracing::warn!(error = %e, "metrics: cannot read the checkpoints"),
        }
        self.locked_accounts
            .set(i64::try_from(lockout.locked_names(now)).unwrap_or(i64::MAX));
        self.mirror_entries.reset();
        self.entries_behind.reset();
        self.last_success.reset();
        self.last_error.reset();
        match store.subscriptions() {
            Ok(subscriptions) => {
                for s in subscriptions {
                    let slice = s.slice_uuid.to_string();
                    let labels = [s.register_name.as_str(), slice.as_str()];
                    self.mirror_entries
                        .with_label_values(&labels)
                        .set(s.last_size as f64);
                    self.entries_behind
                        .with_label_values(&labels)
                        .set(s.entries_behind() as f64);
                    if let Some(at) = s.last_success {
                        self.last_success
                            .with_label_values(&labels)
                            .set(at.timestamp() as f64);
                    }
                    if s.last_error.is_some() {
                        self.last_error
                            .with_label_values(&labels)
                            .set(s.updated_at.timestamp() as f64);
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "metrics: cannot read the subscriptions"),
        }
    }
}

impl Collector for StoreCollector {
    fn desc(&self) -> Vec<&Desc> {
        self.descs.iter().collect()
    }

    fn collect(&self) -> Vec<MetricFamily> {
        let gauges = self.gauges.lock().unwrap_or_else(|e| e.into_inner());
        gauges.refill(&self.store, &self.lockout);
        gauges
            .collectors()
            .iter()
            .flat_map(|c| c.collect())
            .collect()
    }
}

impl std::fmt::Debug for StoreCollector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreCollector").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::template;

    #[test]
    fn route_patterns_become_their_documented_templates() {
        for (pattern, expected) in [
            ("/registers{suffix:(\\.json)?}", "/registers"),
            (
                "/registers/{name}/{segment:records(\\.json|\\.csv)?}",
                "/registers/{name}/records",
            ),
            (
                "/registers/{name}/records/{key}/{segment:entries(\\.json|\\.csv)?}",
                "/registers/{name}/records/{key}/entries",
            ),
            (
                "/registers/{name}/tile/{tail:.*}",
                "/registers/{name}/tile/{tail}",
            ),
            (
                "/v1/plans/{uuid}/{action:approve|reject|hold}",
                "/v1/plans/{uuid}/{action}",
            ),
            (
                "/registers/{name}/records/{key}",
                "/registers/{name}/records/{key}",
            ),
        ] {
            assert_eq!(template(pattern), expected, "{pattern}");
        }
    }
}
