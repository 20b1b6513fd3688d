//! `/version`, `/api`, OpenAPI documents and Tables.

use std::sync::Arc;

use serde_json::{Value, json};

use super::route::Route;
use crate::apiserver::cluster::Cluster;
use crate::apiserver::error::{ApiError, ApiResult};
use crate::apiserver::query;
use crate::apiserver::registry::Registry;
use crate::apiserver::resource::ResourceType;
use crate::apiserver::store::Stored;

/// `/version`: a Kubernetes version the clients accept, marked as this stand-in.
pub(crate) fn version() -> Value {
    json!({
        "major": "1",
        "minor": "37",
        "gitVersion": "v1.37.0-img-loopback",
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2026-01-01T00:00:00Z",
        "goVersion": "none (img loopback apiserver, Rust)",
        "compiler": "rustc",
        "platform": "linux/amd64",
    })
}

/// `/api`.
pub(crate) fn core_versions(address: &str) -> Value {
    json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": address}],
    })
}

/// OpenAPI documents: v3 (generated from the registry); v2 is not served, as kubectl only
/// falls back to it when v3 is missing.
pub(crate) fn openapi(route: &Route, registry: &Registry, path: &str) -> ApiResult<Value> {
    match route {
        Route::OpenApiV3Root => Ok(super::openapi::root(registry)),
        Route::OpenApiV3(group, version)
            if registry.api_resource_list(group, version).is_some() =>
        {
            Ok(super::openapi::document(registry, group, version))
        }
        _ => Err(ApiError::no_route(path)),
    }
}

/// The columns of a type's Table: a CRD version's printer columns, a built-in kind's
/// printer, or (for kinds without one) the default `Name` and `Created At`.
fn columns(cluster: &Cluster, rt: &ResourceType) -> Vec<query::Column> {
    if let Some(crd_name) = &rt.crd {
        let key = (
            "apiextensions.k8s.io".to_owned(),
            "customresourcedefinitions".to_owned(),
        );
        if let Some(crd) = cluster.store.get(&key, "", crd_name) {
            return query::crd_columns(&crd.value, &rt.version);
        }
    }
    query::builtin_columns(&rt.kind).unwrap_or_else(|| {
        let mut cols = vec![query::name_column()];
        cols.extend(
            query::crd_column(&json!({"name": "Created At", "type": "date",
                "jsonPath": ".metadata.creationTimestamp",
                "description": "CreationTimestamp is a timestamp representing the server time when this object was created."}))
                .ok(),
        );
        cols
    })
}

/// A `meta.k8s.io/v1` Table of `objects`, as `kubectl get` asks for.
pub(crate) fn table(
    cluster: &Cluster,
    rt: &ResourceType,
    objects: &[Arc<Stored>],
    meta: &query::TableMeta,
    params: &super::Params,
) -> ApiResult<Value> {
    let include = query::IncludeObject::from_query(params.get("includeObject").map(String::as_str))
        .map_err(ApiError::bad_request)?;
    let served: Vec<Value> = objects.iter().map(|o| Cluster::in_version(rt, o)).collect();
    let refs: Vec<&Value> = served.iter().collect();
    Ok(query::table(
        &columns(cluster, rt),
        &refs,
        meta,
        include,
        jiff::Timestamp::now(),
    ))
}
