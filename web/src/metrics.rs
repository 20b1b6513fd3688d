//! Prometheus metrics on `/metrics`: requests by route and status with their latency, jobs
//! submitted, and the jobs the store holds by phase (counted at scrape time).

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::{Family, MetricConstructor};
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::app::AppState;

/// Labels of a request.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    /// The route pattern (`/job/{ns}/{name}`), never the raw path.
    pub route: String,
    /// GET, POST, ...
    pub method: String,
    /// The response status code.
    pub status: u16,
}

/// Labels naming a phase.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PhaseLabels {
    /// The job phase.
    pub phase: String,
}

/// Request latency buckets: 0.5 ms to about 8 s.
#[derive(Clone)]
pub struct LatencyBuckets;

impl MetricConstructor<Histogram> for LatencyBuckets {
    fn new_metric(&self) -> Histogram {
        Histogram::new(exponential_buckets(0.0005, 2.0, 15))
    }
}

/// The frontend's metrics (every field is a shared handle).
#[derive(Clone)]
pub struct Metrics {
    /// Requests by route, method and status.
    pub requests: Family<RouteLabels, Counter>,
    /// Seconds per request, by route, method and status.
    pub latency: Family<RouteLabels, Histogram, LatencyBuckets>,
    /// Jobs created through the form or the API.
    pub submitted: Counter,
    /// Jobs in the store by phase (set at scrape time).
    pub jobs: Family<PhaseLabels, Gauge>,
    registry: Arc<Registry>,
}

impl Metrics {
    /// Creates the metrics with their registry (`img_web_` prefix).
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("img_web");
        let requests = Family::<RouteLabels, Counter>::default();
        let latency = Family::new_with_constructor(LatencyBuckets);
        let submitted = Counter::default();
        let jobs = Family::<PhaseLabels, Gauge>::default();
        registry.register("http_requests", "HTTP requests served", requests.clone());
        registry.register(
            "http_request_duration_seconds",
            "Time to answer an HTTP request",
            latency.clone(),
        );
        registry.register("jobs_submitted", "Jobs created", submitted.clone());
        registry.register("jobs", "ImageJobs known, by phase", jobs.clone());
        Metrics {
            requests,
            latency,
            submitted,
            jobs,
            registry: Arc::new(registry),
        }
    }
}

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics::new()
    }
}

/// Middleware: counts and times every request under its route pattern.
pub async fn track(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str)
        .to_owned();
    let method = request.method().to_string();
    let started = Instant::now();
    let response = next.run(request).await;
    let labels = RouteLabels {
        route,
        method,
        status: response.status().as_u16(),
    };
    state.metrics.requests.get_or_create(&labels).inc();
    state
        .metrics
        .latency
        .get_or_create(&labels)
        .observe(started.elapsed().as_secs_f64());
    response
}

/// `GET /metrics`.
pub async fn serve(State(state): State<AppState>) -> Response {
    let m = &state.metrics;
    m.jobs.clear();
    for job in state.jobs.state() {
        let phase = job
            .status
            .as_ref()
            .and_then(|s| s.phase)
            .map_or("Pending", |p| p.as_str());
        m.jobs
            .get_or_create(&PhaseLabels {
                phase: phase.to_owned(),
            })
            .inc();
    }
    let mut text = String::new();
    if let Err(e) = prometheus_client::encoding::text::encode(&mut text, &m.registry) {
        return (axum::http::StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response();
    }
    let mut response = text.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
    );
    response
}
