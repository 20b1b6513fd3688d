//! Kubernetes URL shapes, parsed: discovery documents, and resource paths
//! `/api/v1[/namespaces/<ns>]/<plural>[/<name>[/<subresource>]]` (and `/apis/<g>/<v>/...`).

use std::sync::Arc;

use crate::apiserver::error::{ApiError, ApiResult};
use crate::apiserver::registry::Registry;
use crate::apiserver::resource::ResourceType;

/// What a request path names.
#[derive(Debug, Clone)]
pub enum Route {
    /// `/version`.
    Version,
    /// `/healthz`, `/livez`, `/readyz`.
    Health,
    /// `/api`.
    CoreVersions,
    /// `/apis`.
    Groups,
    /// `/apis/<group>`.
    Group(String),
    /// `/api/v1` or `/apis/<group>/<version>`.
    Resources(String, String),
    /// `/openapi/v2`.
    OpenApiV2,
    /// `/openapi/v3`.
    OpenApiV3Root,
    /// `/openapi/v3/api/v1` or `/openapi/v3/apis/<group>/<version>`.
    OpenApiV3(String, String),
    /// A resource path.
    Object(ObjectRoute),
}

/// A resource path.
#[derive(Debug, Clone)]
pub struct ObjectRoute {
    /// The type, in the version the URL names.
    pub rt: Arc<ResourceType>,
    /// The namespace in the URL (`None`: cluster-scoped, or all namespaces).
    pub namespace: Option<String>,
    /// The object name (`None`: the collection).
    pub name: Option<String>,
    /// `status`, `log`, ...
    pub subresource: Option<String>,
}

fn parts(path: &str) -> Vec<&str> {
    path.split('/').filter(|p| !p.is_empty()).collect()
}

/// Parses `path` against the types the registry serves.
pub fn parse(path: &str, registry: &Registry) -> ApiResult<Route> {
    let p = parts(path);
    let route = match p.as_slice() {
        ["version"] => Route::Version,
        ["healthz" | "livez" | "readyz", ..] => Route::Health,
        ["api"] => Route::CoreVersions,
        ["apis"] => Route::Groups,
        ["apis", group] => Route::Group((*group).to_owned()),
        ["api", version] => Route::Resources(String::new(), (*version).to_owned()),
        ["apis", group, version] => Route::Resources((*group).to_owned(), (*version).to_owned()),
        ["openapi", "v2"] => Route::OpenApiV2,
        ["openapi", "v3"] => Route::OpenApiV3Root,
        ["openapi", "v3", "api", version] => Route::OpenApiV3(String::new(), (*version).to_owned()),
        ["openapi", "v3", "apis", group, version] => {
            Route::OpenApiV3((*group).to_owned(), (*version).to_owned())
        }
        ["api", version, rest @ ..] => object(registry, "", version, rest, path)?,
        ["apis", group, version, rest @ ..] => object(registry, group, version, rest, path)?,
        _ => return Err(ApiError::no_route(path)),
    };
    Ok(route)
}

fn object(
    registry: &Registry,
    group: &str,
    version: &str,
    rest: &[&str],
    path: &str,
) -> ApiResult<Route> {
    let find = |plural: &str| {
        registry
            .find(group, version, plural)
            .ok_or_else(|| ApiError::no_route(path))
    };
    let owned = |s: &&str| Some((*s).to_owned());
    let (rt, namespace, name, subresource) = match rest {
        // Namespaced objects; `namespaces/<ns>[/status|finalize]` is the namespace itself.
        ["namespaces", ns, plural, tail @ ..] if !matches!(*plural, "status" | "finalize") => {
            let rt = find(plural)?;
            if !rt.namespaced {
                return Err(ApiError::no_route(path));
            }
            match tail {
                [] => (rt, owned(ns), None, None),
                [name] => (rt, owned(ns), owned(name), None),
                [name, sub] => (rt, owned(ns), owned(name), owned(sub)),
                _ => return Err(ApiError::no_route(path)),
            }
        }
        [plural] => (find(plural)?, None, None, None),
        [plural, name] => {
            let rt = find(plural)?;
            if rt.namespaced {
                return Err(ApiError::no_route(path));
            }
            (rt, None, owned(name), None)
        }
        [plural, name, sub] => {
            let rt = find(plural)?;
            if rt.namespaced {
                return Err(ApiError::no_route(path));
            }
            (rt, None, owned(name), owned(sub))
        }
        _ => return Err(ApiError::no_route(path)),
    };
    Ok(Route::Object(ObjectRoute {
        rt,
        namespace,
        name,
        subresource,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object_route(path: &str) -> ObjectRoute {
        match parse(path, &Registry::new()).unwrap() {
            Route::Object(o) => o,
            other => panic!("{path}: {other:?}"),
        }
    }

    #[test]
    fn resource_paths_parse() {
        let o = object_route("/api/v1/namespaces/default/pods/p/status");
        assert_eq!(o.rt.kind, "Pod");
        assert_eq!(o.namespace.as_deref(), Some("default"));
        assert_eq!(o.name.as_deref(), Some("p"));
        assert_eq!(o.subresource.as_deref(), Some("status"));
        let o = object_route("/api/v1/pods");
        assert!(o.namespace.is_none() && o.name.is_none());
        let o = object_route("/api/v1/namespaces/kube-system");
        assert_eq!(o.rt.kind, "Namespace");
        assert_eq!(o.name.as_deref(), Some("kube-system"));
        let o = object_route("/api/v1/namespaces/x/status");
        assert_eq!(o.subresource.as_deref(), Some("status"));
        let o = object_route("/apis/coordination.k8s.io/v1/namespaces/a/leases/l");
        assert_eq!(o.rt.kind, "Lease");
        assert!(parse("/api/v1/nothings", &Registry::new()).is_err());
        assert!(parse("/api/v1/configmaps/x", &Registry::new()).is_err());
    }
}
