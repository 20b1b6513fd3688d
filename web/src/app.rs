//! The router and what its handlers share.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use img_crd::ImageJob;
use kube::runtime::reflector::Store;
use tower_http::timeout::TimeoutLayer;

use crate::metrics::Metrics;
use crate::settings::Settings;
use crate::{api, files, logs, metrics, pages};

/// How long a request may take (log streams are exempt: they end with the job).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The images volume.
    pub images: PathBuf,
    /// Every ImageJob, kept current by a watch (pages and lists never wait for the API).
    pub jobs: Store<ImageJob>,
    /// The Kubernetes API, for creating and changing jobs.
    pub client: kube::Client,
    /// The deployment's settings.
    pub settings: Arc<Settings>,
    /// The job list in queue order, cached between changes.
    pub sorted: Arc<crate::store::SortedJobs>,
    /// The metrics.
    pub metrics: Metrics,
    /// Set to true when the server is stopping: log streams end, so the graceful shutdown does
    /// not wait for builds to finish.
    pub stopping: Arc<tokio::sync::watch::Sender<bool>>,
}

impl AppState {
    /// A state over `jobs` with `settings`.
    pub fn new(
        images: PathBuf,
        jobs: Store<ImageJob>,
        client: kube::Client,
        settings: Settings,
    ) -> AppState {
        AppState {
            images,
            jobs,
            client,
            settings: Arc::new(settings),
            sorted: Arc::default(),
            metrics: Metrics::new(),
            stopping: Arc::new(tokio::sync::watch::Sender::new(false)),
        }
    }
}

/// The HTTP routes.
pub fn router(state: AppState) -> Router {
    let limit = state.settings.max_upload;
    let timed = Router::new()
        .route("/", get(pages::index))
        .route(
            "/submit/",
            get(pages::submit::show).post(pages::submit::post),
        )
        .route("/queue/", get(pages::queue::show))
        .route("/job/{ns}/{name}", get(pages::job::show))
        .route("/job/{ns}/{name}/cancel", post(pages::job::cancel))
        .route("/job/{ns}/{name}/retry", post(pages::job::retry))
        .route("/job/{ns}/{name}/delete", post(pages::job::delete))
        .route("/clear/", get(pages::clear::show).post(pages::clear::run))
        .route("/images/{ns}/{name}/{file}", get(files::download))
        .route("/static/img.css", get(pages::css))
        .route("/static/job.js", get(pages::job_js))
        .route("/static/queue.js", get(pages::queue_js))
        .route("/api/openapi.json", get(api::openapi))
        .route("/api/v1/jobs", get(api::list_jobs).post(api::submit))
        .route("/api/v1/preview", post(api::preview))
        .route("/api/v1/choices", get(api::get_choices))
        .route("/api/v1/clear", post(api::clear))
        .route(
            "/api/v1/jobs/{ns}/{name}",
            get(api::get_job).delete(api::delete),
        )
        .route("/api/v1/jobs/{ns}/{name}/cancel", post(api::cancel))
        .route("/api/v1/jobs/{ns}/{name}/retry", post(api::retry))
        .route("/api/v1/jobs/{ns}/{name}/log", get(logs::get_log))
        .route("/metrics", get(metrics::serve))
        .route("/healthz", get(|| async { "ok" }))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ));
    // Log streams last as long as the job. (Downloads stay timed: the layer times the
    // response head, not the body, so a big image still streams for as long as it takes.)
    let untimed = Router::new().route("/api/v1/jobs/{ns}/{name}/log/stream", get(logs::stream_log));
    timed
        .merge(untimed)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .layer(DefaultBodyLimit::max(limit))
        .with_state(state)
}
