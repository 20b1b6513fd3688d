//! `/version`, `/api`, OpenAPI documents and Tables.

use std::sync::Arc;

use serde_json::{Value, json};

use super::route::Route;
use crate::apiserver::error::{ApiError, ApiResult};
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

/// A `meta.k8s.io/v1` Table of `objects`.
pub(crate) fn table(rt: &ResourceType, objects: &[Arc<Stored>], rv: u64) -> Value {
    let rows: Vec<Value> = objects
        .iter()
        .map(|o| {
            json!({
                "cells": [o.value["metadata"]["name"], o.value["metadata"]["creationTimestamp"]],
                "object": {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                           "metadata": o.value["metadata"]},
            })
        })
        .collect();
    let _ = rt;
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": rv.to_string()},
        "columnDefinitions": [
            {"name": "Name", "type": "string", "format": "name", "description": "", "priority": 0},
            {"name": "Created At", "type": "date", "format": "", "description": "", "priority": 0},
        ],
        "rows": rows,
    })
}
