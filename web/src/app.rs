//! The router and what its handlers share.

use std::path::PathBuf;
use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::extract::{Path as UrlPath, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use img_crd::ImageJob;
use kube::runtime::reflector::{ObjectRef, Store};

use crate::list::{ListQuery, list};
use crate::view::JobSummary;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The images volume.
    pub images: PathBuf,
    /// Every ImageJob, kept current by a watch (pages and lists never wait for the API).
    pub jobs: Store<ImageJob>,
    /// Public base URL of this frontend (for links in JSON), if configured.
    pub public_url: Option<Arc<str>>,
    /// The Kubernetes API, for creating and changing jobs.
    pub client: kube::Client,
    /// Where new jobs go unless they name a namespace.
    pub namespace: Arc<str>,
}

/// The HTTP routes.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/api/v1/jobs", get(api_list).post(crate::submit::create))
        .route("/api/v1/jobs/{ns}/{name}", get(api_job))
        .route("/images/{ns}/{name}/{file}", get(crate::files::download))
        .with_state(state)
}

async fn api_list(State(state): State<AppState>, Query(q): Query<ListQuery>) -> Response {
    let jobs = state
        .jobs
        .state()
        .iter()
        .map(|j| JobSummary::of(j))
        .collect();
    Json(list(jobs, &q)).into_response()
}

async fn api_job(
    State(state): State<AppState>,
    UrlPath((ns, name)): UrlPath<(String, String)>,
) -> Response {
    match state
        .jobs
        .get(&ObjectRef::<ImageJob>::new(&name).within(&ns))
    {
        Some(job) => Json(serde_json::json!({
            "summary": JobSummary::of(&job),
            "spec": job.spec,
            "status": job.status,
        }))
        .into_response(),
        None => (StatusCode::NOT_FOUND, format!("no job {ns}/{name}")).into_response(),
    }
}
