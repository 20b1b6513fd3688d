//! The HTTP face of the server: one fallback handler that parses the Kubernetes URL and
//! dispatches on method and route, and records who asked for what ([`access`]).

pub mod access;
mod discovery;
mod list;
mod logs;
mod objects;
mod openapi;
pub mod route;
mod watch;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use tokio::sync::watch as tokio_watch;

use super::cluster::{Cluster, FieldValidation, WriteOptions};
use super::error::{ApiError, ApiResult};
use super::resource::ResourceType;
use super::store::Stored;
use route::Route;

/// What every handler sees.
pub struct AppState {
    /// The cluster.
    pub cluster: Arc<Cluster>,
    /// `host:port` the server listens on (for `/api`'s serverAddressByClientCIDRs).
    pub address: String,
    /// How often watches that asked for bookmarks get one.
    pub bookmark_interval: Duration,
    /// Flips to `true` when the server shuts down; open watches end.
    pub shutdown: tokio_watch::Receiver<bool>,
    /// Bumped to cut every open watch connection (a test hook: what a restart or a load
    /// balancer does to clients).
    pub cut_watches: tokio_watch::Receiver<u64>,
    /// Where the kubelet mode keeps Pod logs (`None`: no kubelet, no logs).
    pub kubelet_root: Option<std::path::PathBuf>,
    /// Requests made with a bearer token, with their authorization attributes.
    pub access: Arc<access::AccessLog>,
}

/// The query parameters of a request.
pub(crate) type Params = HashMap<String, String>;

/// The router.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new().fallback(dispatch).with_state(state)
}

async fn dispatch(
    State(state): State<Arc<AppState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_owned();
    let params: Params = Query::<Params>::try_from_uri(&uri)
        .map(|q| q.0)
        .unwrap_or_default();
    let result = handle(&state, &method, &path, &params, &headers, body).await;
    let response = match result {
        Ok(r) => r,
        Err(e) => e.into_response(),
    };
    state.access.record(
        access::user(&headers),
        access::request_info(&method, &path, &params),
        response.status().as_u16(),
    );
    tracing::debug!(%method, %path, status = response.status().as_u16(), "request");
    response
}

async fn handle(
    state: &Arc<AppState>,
    method: &Method,
    path: &str,
    params: &Params,
    headers: &HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let route = route::parse(path, &state.cluster.registry)?;
    let get_only = |r: ApiResult<serde_json::Value>| {
        if method != Method::GET {
            return Err(ApiError::method_not_allowed(format!(
                "the server does not allow this method on the requested resource ({method} {path})"
            )));
        }
        r.map(|v| json_response(StatusCode::OK, v.to_string().into(), &[]))
    };
    match route {
        Route::Version => get_only(Ok(discovery::version())),
        Route::Health => Ok((StatusCode::OK, "ok").into_response()),
        Route::CoreVersions => get_only(Ok(discovery::core_versions(&state.address))),
        Route::Groups => get_only(Ok(state.cluster.registry.api_group_list())),
        Route::Group(g) => get_only(
            state
                .cluster
                .registry
                .api_group(&g)
                .ok_or_else(|| ApiError::no_route(path)),
        ),
        Route::Resources(g, v) => get_only(
            state
                .cluster
                .registry
                .api_resource_list(&g, &v)
                .ok_or_else(|| ApiError::no_route(path)),
        ),
        Route::OpenApiV2 | Route::OpenApiV3Root | Route::OpenApiV3(..) => {
            get_only(discovery::openapi(&route, &state.cluster.registry, path))
        }
        Route::Object(o) => objects::handle(state, method, &o, params, headers, body).await,
    }
}

/// A JSON response with `Warning` headers.
pub(crate) fn json_response(code: StatusCode, body: Bytes, warnings: &[String]) -> Response {
    let mut response = Response::builder()
        .status(code)
        .header(header::CONTENT_TYPE, "application/json");
    for w in warnings {
        let text = format!("299 - \"{}\"", w.replace('"', "\\\""));
        response = response.header(header::WARNING, text);
    }
    response
        .body(Body::from(body))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

/// An object's JSON in the version `rt` serves.
pub(crate) fn object_json(rt: &ResourceType, stored: &Arc<Stored>) -> Bytes {
    if stored.value["apiVersion"].as_str() == Some(rt.api_version().as_str()) {
        stored.json.clone()
    } else {
        Bytes::from(serde_json::to_vec(&Cluster::in_version(rt, stored)).unwrap_or_default())
    }
}

/// The write options in the query (and the default field manager, from the User-Agent, as
/// the real server derives it).
pub(crate) fn write_options(params: &Params, headers: &HeaderMap) -> ApiResult<WriteOptions> {
    let field_manager = params.get("fieldManager").cloned();
    let default_manager = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|ua| ua.split('/').next().unwrap_or(ua).to_owned())
        .filter(|m| !m.is_empty());
    if field_manager.as_ref().is_some_and(|m| m.len() > 128) {
        return Err(ApiError::bad_request(
            "fieldManager: Too long: may not be more than 128 bytes",
        ));
    }
    Ok(WriteOptions {
        field_manager,
        default_manager,
        applied: false,
        dry_run: params.get("dryRun").is_some_and(|d| d == "All"),
        field_validation: FieldValidation::parse(
            params.get("fieldValidation").map_or("", String::as_str),
        )?,
        force: params.get("force").is_some_and(|f| f == "true"),
    })
}
