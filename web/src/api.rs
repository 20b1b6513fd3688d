//! The JSON API under `/api/v1` (documented in `openapi.json`, served at
//! `/api/openapi.json`): what the pages do, for `imgctl` and scripts.

use axum::Json;
use axum::extract::{Path as UrlPath, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use img_crd::{ImageJob, ImageJobSpec, ImageJobStatus, ImageType};
use kube::ResourceExt as _;
use serde::Serialize;

use crate::app::AppState;
use crate::auth::User;
use crate::error::ApiError;
use crate::jobs;
use crate::list::{ListQuery, Page, page};
use crate::submit::{NewJob, Prepared, create, prepare};
use crate::view::JobSummary;

/// The OpenAPI document of this API.
pub const OPENAPI: &str = include_str!("openapi.json");

/// A job with everything the job page shows.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JobDetail {
    /// The summary the list shows.
    pub summary: JobSummary,
    /// The spec as submitted.
    pub spec: ImageJobSpec,
    /// What the operator reports.
    pub status: Option<ImageJobStatus>,
    /// Where its page, log and files are.
    pub links: Links,
}

/// Where a job's page, log and files are (absolute when the public URL is configured).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Links {
    /// The job page.
    pub page: String,
    /// The log, as text from an offset.
    pub log: String,
    /// The log as server-sent events.
    pub log_stream: String,
    /// Downloads of the files the build produced.
    pub artifacts: Vec<ArtifactLink>,
}

/// One file to download.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ArtifactLink {
    /// File name.
    pub name: String,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256, hex.
    pub sha256: String,
    /// Download URL.
    pub url: String,
}

impl JobDetail {
    /// The detail of `job`, links under `base` (empty: relative).
    pub fn of(job: &ImageJob, base: &str) -> JobDetail {
        let ns = job.namespace().unwrap_or_default();
        let name = job.name_any();
        let id = format!("{ns}/{name}");
        let base = base.trim_end_matches('/');
        JobDetail {
            summary: JobSummary::of(job),
            spec: job.spec.clone(),
            status: job.status.clone(),
            links: Links {
                page: format!("{base}/job/{id}"),
                log: format!("{base}/api/v1/jobs/{id}/log"),
                log_stream: format!("{base}/api/v1/jobs/{id}/log/stream"),
                artifacts: job
                    .status
                    .iter()
                    .flat_map(|s| &s.artifacts)
                    .map(|a| ArtifactLink {
                        name: a.name.clone(),
                        size: a.size,
                        sha256: a.sha256.clone(),
                        url: format!("{base}/images/{id}/{}", a.name),
                    })
                    .collect(),
            },
        }
    }
}

/// What the submit form offers.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Choices {
    /// Where the template comes from.
    pub template: String,
    /// Its platforms, in file order.
    pub platforms: Vec<String>,
    /// The image types.
    pub image_types: Vec<&'static str>,
}

/// A JSON API must be asked in JSON: a cross-site HTML form cannot send this content type,
/// which is what keeps cookie-less writes safe from CSRF.
fn json_only(headers: &HeaderMap) -> Result<(), ApiError> {
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if json {
        Ok(())
    } else {
        Err(ApiError::BadRequest(
            "send the request body as application/json".into(),
        ))
    }
}

/// The list of `q`, for `user` when `mine`.
pub fn list_for(state: &AppState, user: &User, q: &ListQuery) -> Page {
    let mut q = q.clone();
    if q.mine == Some(true) {
        q.submitter = Some(user.name.clone());
    }
    page(&state.sorted.get(&state.jobs), &q)
}

/// `GET /api/v1/jobs`.
pub async fn list_jobs(
    State(state): State<AppState>,
    user: User,
    Query(q): Query<ListQuery>,
) -> Json<Page> {
    Json(list_for(&state, &user, &q))
}

fn base(state: &AppState) -> &str {
    state.settings.public_url.as_deref().unwrap_or_default()
}

/// `GET /api/v1/jobs/{ns}/{name}`.
pub async fn get_job(
    State(state): State<AppState>,
    UrlPath((ns, name)): UrlPath<(String, String)>,
) -> Result<Json<JobDetail>, ApiError> {
    let job = jobs::find(&state, &ns, &name)?;
    Ok(Json(JobDetail::of(&job, base(&state))))
}

/// `POST /api/v1/jobs`.
pub async fn submit(
    State(state): State<AppState>,
    user: User,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let new = parse_new(&headers, &body)?;
    let prepared = prepare(&state, &new).await?;
    let created = create(&state, &user, prepared).await?;
    Ok((
        StatusCode::CREATED,
        Json(JobDetail::of(&created, base(&state))),
    )
        .into_response())
}

fn parse_new(headers: &HeaderMap, body: &[u8]) -> Result<NewJob, ApiError> {
    json_only(headers)?;
    serde_json::from_slice(body).map_err(|e| {
        ApiError::BadRequest(format!(
            "the body is not a job: {e} (line {}, column {})",
            e.line(),
            e.column()
        ))
    })
}

/// `POST /api/v1/preview`: the checks and the kickstart a submission would build, without
/// creating it.
pub async fn preview(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Json<Prepared>, ApiError> {
    let new = parse_new(&headers, &body)?;
    Ok(Json(prepare(&state, &new).await?))
}

/// `POST /api/v1/jobs/{ns}/{name}/cancel`.
pub async fn cancel(
    State(state): State<AppState>,
    user: User,
    UrlPath((ns, name)): UrlPath<(String, String)>,
) -> Result<StatusCode, ApiError> {
    jobs::cancel(&state, &user, &ns, &name).await?;
    Ok(StatusCode::ACCEPTED)
}

/// `POST /api/v1/jobs/{ns}/{name}/retry`.
pub async fn retry(
    State(state): State<AppState>,
    user: User,
    UrlPath((ns, name)): UrlPath<(String, String)>,
) -> Result<Response, ApiError> {
    let created = jobs::retry(&state, &user, &ns, &name).await?;
    Ok((
        StatusCode::CREATED,
        Json(JobDetail::of(&created, base(&state))),
    )
        .into_response())
}

/// `DELETE /api/v1/jobs/{ns}/{name}`.
pub async fn delete(
    State(state): State<AppState>,
    user: User,
    UrlPath((ns, name)): UrlPath<(String, String)>,
) -> Result<StatusCode, ApiError> {
    jobs::delete(&state, &user, &ns, &name).await?;
    Ok(StatusCode::ACCEPTED)
}

/// `POST /api/v1/clear`: `{"removed": ["ns/name", ...]}`.
pub async fn clear(
    State(state): State<AppState>,
    user: User,
) -> Result<Json<serde_json::Value>, ApiError> {
    let removed = jobs::clear(&state, &user).await?;
    Ok(Json(serde_json::json!({ "removed": removed })))
}

/// The platforms of template `name` (default: the configured one) and the image types, for
/// jobs in the default namespace.
pub async fn choices(state: &AppState, name: Option<&str>) -> Result<Choices, ApiError> {
    if let Some(n) = name
        && !crate::files::is_label(n)
    {
        return Err(ApiError::BadRequest(format!(
            "{n:?} is not a template ConfigMap name"
        )));
    }
    let namespace = state.settings.namespace.clone();
    let name = crate::submit::template_name(state, name);
    let source = crate::submit::template(state, &namespace, name).await?;
    let img_crd::admission::SourceText::Template {
        configurations,
        origin,
        ..
    } = source
    else {
        return Err(ApiError::Upstream("the template is not a template".into()));
    };
    let platforms = kickstarter::Template::parse(configurations.as_bytes(), "configurations.yaml")
        .map_err(|e| ApiError::Upstream(format!("{origin}: {e}")))?
        .platforms();
    Ok(Choices {
        template: origin,
        platforms,
        image_types: ImageType::ALL.iter().map(|t| t.as_str()).collect(),
    })
}

/// Which template to list.
#[derive(Debug, Default, serde::Deserialize)]
pub struct ChoicesQuery {
    /// A template ConfigMap (default: the configured one).
    pub template: Option<String>,
}

/// `GET /api/v1/choices`.
pub async fn get_choices(
    State(state): State<AppState>,
    Query(q): Query<ChoicesQuery>,
) -> Result<Json<Choices>, ApiError> {
    Ok(Json(choices(&state, q.template.as_deref()).await?))
}

/// `GET /api/openapi.json`.
pub async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}
