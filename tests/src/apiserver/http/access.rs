//! Who asked for what. A request that presents a bearer token is recorded with the attributes
//! Kubernetes' authorizers see (RBAC's verb, API group, resource, subresource, namespace,
//! name), so a test can compare what a program did with what its Role allows
//! (`tests/tests/rbac.rs`). The server authenticates nothing: the token *is* the user name
//! (give a client `system:serviceaccount:<ns>:<name>`, as a real token would be resolved).
//! Requests without a token (the tests' own clients, kubectl) are not recorded.
//!
//! The attributes are parsed from the URL alone, as kube-apiserver's `RequestInfoFactory`
//! does before it authorizes (`k8s.io/apiserver/pkg/endpoints/request/requestinfo.go`), so a
//! request for a resource this server does not serve is recorded too: on a real server RBAC
//! would have judged it before the 404.

use std::sync::{Mutex, PoisonError};

use axum::http::{HeaderMap, Method, header};

use super::Params;

/// One recorded request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Access {
    /// The bearer token, taken as the user name.
    pub user: String,
    /// What RBAC would be asked about it.
    pub request: RequestInfo,
    /// The HTTP status the server answered with.
    pub status: u16,
}

/// A request as an authorizer sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestInfo {
    /// A request on an API resource.
    Resource {
        /// `get`, `list`, `watch`, `create`, `update`, `patch`, `delete` or `deletecollection`.
        verb: String,
        /// The API group (`""` for the core group).
        api_group: String,
        /// The resource (`pods`).
        resource: String,
        /// The subresource (`status`, `log`), if any.
        subresource: Option<String>,
        /// The namespace (`None`: cluster-scoped, or across all namespaces).
        namespace: Option<String>,
        /// The object's name: from the path, or a list or watch's
        /// `fieldSelector=metadata.name=<name>`.
        name: Option<String>,
    },
    /// Anything else (discovery, `/version`, OpenAPI): `verb` is the HTTP method, lower-case.
    NonResource {
        /// `get`, `post`, ...
        verb: String,
        /// The URL path.
        path: String,
    },
}

/// The verb kube-apiserver derives from an HTTP method, before lists and watches are told
/// from gets.
fn method_verb(method: &Method) -> String {
    match *method {
        Method::POST => "create".to_owned(),
        Method::GET | Method::HEAD => "get".to_owned(),
        Method::PUT => "update".to_owned(),
        Method::PATCH => "patch".to_owned(),
        Method::DELETE => "delete".to_owned(),
        ref other => other.as_str().to_lowercase(),
    }
}

/// The authorization attributes of `method path?params`.
pub fn request_info(method: &Method, path: &str, params: &Params) -> RequestInfo {
    let non_resource = || RequestInfo::NonResource {
        verb: method.as_str().to_lowercase(),
        path: path.to_owned(),
    };
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    // /api/<version>/... (core) or /apis/<group>/<version>/...; anything shorter is discovery.
    let (api_group, mut rest) = match parts.as_slice() {
        ["api", _version, rest @ ..] if !rest.is_empty() => ("", rest),
        ["apis", group, _version, rest @ ..] if !rest.is_empty() => (*group, rest),
        _ => return non_resource(),
    };
    let mut verb = method_verb(method);
    // The legacy `/watch/` prefix.
    if rest.first() == Some(&"watch") {
        verb = "watch".to_owned();
        rest = &rest[1..];
    }
    let mut namespace = None;
    if rest.first() == Some(&"namespaces")
        && let Some(ns) = rest.get(1)
    {
        namespace = Some((*ns).to_owned());
        // `namespaces/<ns>/status` and `/finalize` are the Namespace's own subresources.
        if rest.len() > 2 && !matches!(rest[2], "status" | "finalize") {
            rest = &rest[2..];
        }
    }
    let resource = rest.first().map(|r| (*r).to_owned()).unwrap_or_default();
    let mut name = rest.get(1).map(|n| (*n).to_owned());
    let subresource = rest.get(2).map(|s| (*s).to_owned());
    if name.is_none() && verb == "get" {
        let watching = params.get("watch").is_some_and(|w| w == "true" || w == "1");
        verb = if watching { "watch" } else { "list" }.to_owned();
    }
    if name.is_none() && matches!(verb.as_str(), "list" | "watch") {
        // A selection of exactly one name is authorized as that name (`kubectl wait`,
        // informers on one object).
        name = params
            .get("fieldSelector")
            .and_then(|s| s.strip_prefix("metadata.name="))
            .filter(|n| !n.contains(','))
            .map(str::to_owned);
    }
    if name.is_none() && verb == "delete" {
        verb = "deletecollection".to_owned();
    }
    RequestInfo::Resource {
        verb,
        api_group: api_group.to_owned(),
        resource,
        subresource,
        namespace,
        name,
    }
}

/// The user a request claims to be: its bearer token.
pub fn user(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::to_owned)
}

/// The recorded requests, in the order they were answered.
#[derive(Debug, Default)]
pub struct AccessLog {
    entries: Mutex<Vec<Access>>,
}

impl AccessLog {
    /// Records a request (nothing when it has no user).
    pub fn record(&self, user: Option<String>, request: RequestInfo, status: u16) {
        if let Some(user) = user {
            self.entries
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(Access {
                    user,
                    request,
                    status,
                });
        }
    }

    /// Everything recorded so far.
    pub fn entries(&self) -> Vec<Access> {
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(method: Method, path: &str, query: &[(&str, &str)]) -> RequestInfo {
        let params = query
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        request_info(&method, path, &params)
    }

    fn resource(
        verb: &str,
        group: &str,
        resource: &str,
        sub: Option<&str>,
        ns: Option<&str>,
        name: Option<&str>,
    ) -> RequestInfo {
        RequestInfo::Resource {
            verb: verb.into(),
            api_group: group.into(),
            resource: resource.into(),
            subresource: sub.map(Into::into),
            namespace: ns.map(Into::into),
            name: name.map(Into::into),
        }
    }

    #[test]
    fn verbs_follow_kube_apiserver() {
        let pods = "/api/v1/namespaces/a/pods";
        assert_eq!(
            info(Method::GET, pods, &[]),
            resource("list", "", "pods", None, Some("a"), None)
        );
        assert_eq!(
            info(Method::GET, pods, &[("watch", "true")]),
            resource("watch", "", "pods", None, Some("a"), None)
        );
        assert_eq!(
            info(Method::GET, "/api/v1/pods", &[("watch", "1")]),
            resource("watch", "", "pods", None, None, None)
        );
        assert_eq!(
            info(Method::POST, pods, &[]),
            resource("create", "", "pods", None, Some("a"), None)
        );
        assert_eq!(
            info(Method::DELETE, pods, &[]),
            resource("deletecollection", "", "pods", None, Some("a"), None)
        );
        assert_eq!(
            info(Method::DELETE, &format!("{pods}/p"), &[]),
            resource("delete", "", "pods", None, Some("a"), Some("p"))
        );
        assert_eq!(
            info(Method::GET, &format!("{pods}/p/log"), &[]),
            resource("get", "", "pods", Some("log"), Some("a"), Some("p"))
        );
        assert_eq!(
            info(
                Method::PATCH,
                "/apis/img.meego.com/v1alpha1/namespaces/a/imagejobs/j/status",
                &[]
            ),
            resource(
                "patch",
                "img.meego.com",
                "imagejobs",
                Some("status"),
                Some("a"),
                Some("j")
            )
        );
        assert_eq!(
            info(
                Method::PUT,
                "/apis/coordination.k8s.io/v1/namespaces/a/leases/l",
                &[]
            ),
            resource(
                "update",
                "coordination.k8s.io",
                "leases",
                None,
                Some("a"),
                Some("l")
            )
        );
    }

    #[test]
    fn names_come_from_field_selectors_and_namespaces_name_themselves() {
        assert_eq!(
            info(
                Method::GET,
                "/api/v1/namespaces/a/configmaps",
                &[("fieldSelector", "metadata.name=c"), ("watch", "true")]
            ),
            resource("watch", "", "configmaps", None, Some("a"), Some("c"))
        );
        assert_eq!(
            info(Method::GET, "/api/v1/watch/namespaces/a/pods/p", &[]),
            resource("watch", "", "pods", None, Some("a"), Some("p"))
        );
        assert_eq!(
            info(Method::GET, "/api/v1/namespaces/a", &[]),
            resource("get", "", "namespaces", None, Some("a"), Some("a"))
        );
        assert_eq!(
            info(Method::PUT, "/api/v1/namespaces/a/finalize", &[]),
            resource(
                "update",
                "",
                "namespaces",
                Some("finalize"),
                Some("a"),
                Some("a")
            )
        );
        assert_eq!(
            info(
                Method::GET,
                "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/x",
                &[]
            ),
            resource(
                "get",
                "apiextensions.k8s.io",
                "customresourcedefinitions",
                None,
                None,
                Some("x")
            )
        );
    }

    #[test]
    fn discovery_is_not_a_resource_request() {
        for path in [
            "/api",
            "/api/v1",
            "/apis",
            "/apis/apps/v1",
            "/version",
            "/openapi/v3",
        ] {
            assert_eq!(
                info(Method::GET, path, &[]),
                RequestInfo::NonResource {
                    verb: "get".into(),
                    path: path.into()
                },
                "{path}"
            );
        }
    }

    #[test]
    fn only_requests_with_a_user_are_recorded() {
        let log = AccessLog::default();
        let req = info(Method::GET, "/api/v1/pods", &[]);
        log.record(None, req.clone(), 200);
        log.record(Some("u".into()), req.clone(), 403);
        assert_eq!(
            log.entries(),
            [Access {
                user: "u".into(),
                request: req,
                status: 403
            }]
        );
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, "Bearer system:x".parse().unwrap());
        assert_eq!(user(&headers).as_deref(), Some("system:x"));
    }
}
