//! Requests on resources: get, list/watch, create, update, patch, delete, deletecollection,
//! and the status subresource.

use std::sync::Arc;

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::Response;
use serde_json::{Value, json};

use super::route::ObjectRoute;
use super::{AppState, Params, json_response, list, object_json, watch, write_options};
use crate::apiserver::cluster::{DeleteOptions, Deleted, PatchKind, Propagation, Target};
use crate::apiserver::error::{ApiError, ApiResult};

/// Dispatches a request on a resource path.
pub(crate) async fn handle(
    state: &Arc<AppState>,
    method: &Method,
    o: &ObjectRoute,
    params: &Params,
    headers: &HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let namespace = match (&o.namespace, o.rt.namespaced) {
        (Some(ns), true) => ns.as_str(),
        (None, _) => "",
        (Some(_), false) => {
            return Err(ApiError::no_route(
                "namespaced path to a cluster-scoped resource",
            ));
        }
    };
    let Some(name) = o.name.as_deref() else {
        return collection(state, method, o, namespace, params, headers, body).await;
    };
    if o.rt.namespaced && o.namespace.is_none() {
        return Err(ApiError::no_route(
            "a namespaced object needs a namespace in its path",
        ));
    }
    let target = Target {
        rt: &o.rt,
        namespace,
        name,
    };
    let status_only = match o.subresource.as_deref() {
        None => false,
        Some("log") if o.rt.is_builtin() && o.rt.kind == "Pod" && *method == Method::GET => {
            return super::logs::logs(state, target, params).await;
        }
        Some("status") if o.rt.status_subresource => true,
        Some(other) => {
            return Err(ApiError::no_route(&format!("{}/{other}", o.rt.plural)));
        }
    };
    let cluster = &state.cluster;
    if *method == Method::PUT {
        require_json(headers)?;
    }
    match *method {
        Method::GET => {
            let stored = cluster.get(target)?;
            Ok(json_response(
                StatusCode::OK,
                object_json(&o.rt, &stored),
                &[],
            ))
        }
        Method::PUT => {
            let obj = parse_json(&body)?;
            let opts = write_options(params, headers)?;
            let written = cluster.update(target, obj, status_only, &opts)?;
            Ok(json_response(
                StatusCode::OK,
                object_json(&o.rt, &written.object),
                &written.warnings,
            ))
        }
        Method::PATCH => {
            let content_type = headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            let kind = PatchKind::from_content_type(content_type)?;
            let opts = write_options(params, headers)?;
            let existed = cluster.get(target).is_ok();
            let written = cluster.patch(target, kind, &body, status_only, &opts)?;
            let code = if existed {
                StatusCode::OK
            } else {
                StatusCode::CREATED
            };
            Ok(json_response(
                code,
                object_json(&o.rt, &written.object),
                &written.warnings,
            ))
        }
        Method::DELETE if !status_only => {
            let opts = delete_options(params, &body)?;
            match cluster.delete(target, &opts)? {
                Deleted::Pending(obj) => {
                    Ok(json_response(StatusCode::OK, object_json(&o.rt, &obj), &[]))
                }
                Deleted::Now(obj) => Ok(json_response(
                    StatusCode::OK,
                    deleted_status(&o.rt.plural, &o.rt.group, &obj.value)
                        .to_string()
                        .into(),
                    &[],
                )),
            }
        }
        _ => Err(ApiError::method_not_allowed(format!(
            "the server does not allow this method on the requested resource ({method})"
        ))),
    }
}

async fn collection(
    state: &Arc<AppState>,
    method: &Method,
    o: &ObjectRoute,
    namespace: &str,
    params: &Params,
    headers: &HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    if o.subresource.is_some() {
        return Err(ApiError::no_route("subresource of a collection"));
    }
    let ns = o.namespace.as_deref();
    match *method {
        Method::GET if is_true(params.get("watch")) => watch::watch(state, o, ns, params, headers),
        Method::GET => list::list(state, o, ns, params, headers),
        Method::POST => {
            require_json(headers)?;
            if o.rt.namespaced && ns.is_none() {
                return Err(ApiError::method_not_allowed(
                    "POST requires a namespace in the path for a namespaced resource",
                ));
            }
            let obj = parse_json(&body)?;
            let opts = write_options(params, headers)?;
            let written = state.cluster.create(&o.rt, namespace, obj, &opts)?;
            let code = if opts.dry_run {
                StatusCode::OK
            } else {
                StatusCode::CREATED
            };
            Ok(json_response(
                code,
                object_json(&o.rt, &written.object),
                &written.warnings,
            ))
        }
        Method::DELETE => {
            let opts = delete_options(params, &body)?;
            let matching = list::select(state, o, ns, params)?;
            for stored in &matching {
                let target = Target {
                    rt: &o.rt,
                    namespace: stored.namespace(),
                    name: stored.name(),
                };
                match state.cluster.delete(target, &opts) {
                    Ok(_) => {}
                    // Gone meanwhile is what was asked for.
                    Err(e) if e.code == 404 => {}
                    Err(e) => return Err(e),
                }
            }
            Ok(json_response(
                StatusCode::OK,
                json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success"})
                    .to_string()
                    .into(),
                &[],
            ))
        }
        _ => Err(ApiError::method_not_allowed(format!(
            "the server does not allow this method on the requested resource ({method})"
        ))),
    }
}

/// Refuses request bodies that are not JSON (the server speaks no protobuf or CBOR); the
/// 415 makes client-go fall back to JSON, as it does with a real server that lacks a format.
fn require_json(headers: &HeaderMap) -> ApiResult<()> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/json");
    let media = content_type.split(';').next().unwrap_or("").trim();
    if media == "application/json" || media.is_empty() {
        Ok(())
    } else {
        Err(ApiError::unsupported_media_type(format!(
            "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml (got {media})"
        )))
    }
}

/// `true` as the API server reads boolean query parameters.
pub(crate) fn is_true(v: Option<&String>) -> bool {
    v.is_some_and(|v| v == "true" || v == "1")
}

fn parse_json(body: &[u8]) -> ApiResult<Value> {
    if body.is_empty() {
        return Err(ApiError::bad_request("the request body is empty"));
    }
    // kubectl may send YAML only for apply patches; everything else is JSON.
    serde_json::from_slice(body).map_err(|e| {
        ApiError::bad_request(format!(
            "the object provided is unrecognized (not valid JSON: {e})"
        ))
    })
}

fn delete_options(params: &Params, body: &[u8]) -> ApiResult<DeleteOptions> {
    let mut opts = DeleteOptions::default();
    if let Some(p) = params.get("propagationPolicy") {
        opts.propagation = Propagation::parse(p)?;
    } else if is_true(params.get("orphanDependents")) {
        opts.propagation = Propagation::Orphan;
    }
    if let Some(g) = params.get("gracePeriodSeconds") {
        opts.grace_period = Some(
            g.parse()
                .map_err(|_| ApiError::bad_request(format!("invalid gracePeriodSeconds: {g}")))?,
        );
    }
    opts.dry_run = params.get("dryRun").is_some_and(|d| d == "All");
    if !body.is_empty() {
        let value: Value = serde_json::from_slice(body)
            .map_err(|e| ApiError::bad_request(format!("invalid DeleteOptions: {e}")))?;
        opts.merge_body(&value)?;
    }
    Ok(opts)
}

/// The `Status` a completed deletion answers with.
fn deleted_status(plural: &str, group: &str, obj: &Value) -> Value {
    json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "details": {
            "name": obj["metadata"]["name"],
            "group": group,
            "kind": plural,
            "uid": obj["metadata"]["uid"],
        },
    })
}
