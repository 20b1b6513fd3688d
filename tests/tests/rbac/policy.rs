//! The RBAC rules a ServiceAccount gets from the rendered chart, evaluated as Kubernetes' RBAC
//! authorizer evaluates them, and compared with the requests a program made (recorded by the
//! loopback API server, `img_tests::apiserver::Access`) in both directions: every request
//! allowed, every rule used.

use std::collections::BTreeSet;

use img_tests::apiserver::{Access, RequestInfo};
use serde_json::Value;

use crate::helm::Rendered;

/// Paths every authenticated user may GET (the `system:discovery`, `system:basic-user` and
/// `system:public-info-viewer` ClusterRoles every cluster has), so no chart rule is needed.
const PUBLIC_PATHS: [&str; 5] = ["/api", "/apis", "/version", "/openapi", "/healthz"];

/// Where a rule applies.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Scope {
    /// Everywhere (a ClusterRole bound by a ClusterRoleBinding).
    Cluster,
    /// In one namespace (a Role, or a ClusterRole bound by a RoleBinding there).
    Namespace(String),
}

/// One rule of a role, as bound to the user.
#[derive(Debug, Clone)]
struct Rule {
    /// `ClusterRole img-operator`, for reports.
    origin: String,
    scope: Scope,
    api_groups: Vec<String>,
    resources: Vec<String>,
    verbs: Vec<String>,
    resource_names: Vec<String>,
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn has(list: &[String], wanted: &str) -> bool {
    list.iter().any(|x| x == "*" || x == wanted)
}

/// One permission a rule grants: (scope, API group, resource[/subresource], verb).
type Grant = (Scope, String, String, String);

impl Rule {
    /// Whether this rule allows `request` (RBAC's `RuleAllows`, with the binding's scope).
    fn allows(&self, request: &RequestInfo) -> bool {
        let RequestInfo::Resource {
            verb,
            api_group,
            resource,
            subresource,
            namespace,
            name,
        } = request
        else {
            return false;
        };
        if let Scope::Namespace(ns) = &self.scope
            && namespace.as_deref() != Some(ns.as_str())
        {
            return false;
        }
        let full = match subresource {
            Some(sub) => format!("{resource}/{sub}"),
            None => resource.clone(),
        };
        has(&self.api_groups, api_group)
            && has(&self.resources, &full)
            && has(&self.verbs, verb)
            && (self.resource_names.is_empty()
                || name
                    .as_ref()
                    .is_some_and(|n| self.resource_names.contains(n)))
    }

    /// Every permission this rule grants.
    fn grants(&self) -> Vec<Grant> {
        let mut out = Vec::new();
        for g in &self.api_groups {
            for r in &self.resources {
                for v in &self.verbs {
                    out.push((self.scope.clone(), g.clone(), r.clone(), v.clone()));
                }
            }
        }
        out
    }

    /// Whether `request` uses `grant` of this rule.
    fn uses(&self, grant: &Grant, request: &RequestInfo) -> bool {
        let (_, group, resource, verb) = grant;
        let narrowed = Rule {
            api_groups: vec![group.clone()],
            resources: vec![resource.clone()],
            verbs: vec![verb.clone()],
            ..self.clone()
        };
        narrowed.allows(request)
    }
}

/// What a user may do.
#[derive(Debug, Clone)]
pub(crate) struct Policy {
    user: String,
    rules: Vec<Rule>,
}

/// The user name Kubernetes gives a ServiceAccount's token.
pub(crate) fn service_account_user(namespace: &str, name: &str) -> String {
    format!("system:serviceaccount:{namespace}:{name}")
}

fn meta<'a>(o: &'a Value, field: &str) -> &'a str {
    o["metadata"][field].as_str().unwrap_or_default()
}

impl Policy {
    /// The rules the rendered chart binds to ServiceAccount `namespace/name`.
    pub(crate) fn for_service_account(rendered: &Rendered, namespace: &str, name: &str) -> Policy {
        let mut rules = Vec::new();
        for kind in ["ClusterRoleBinding", "RoleBinding"] {
            for binding in rendered.of_kind(kind) {
                let bound = binding["subjects"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|s| {
                        s["kind"] == "ServiceAccount"
                            && s["name"] == name
                            && s["namespace"] == namespace
                    });
                if !bound {
                    continue;
                }
                let role_kind = binding["roleRef"]["kind"].as_str().unwrap_or_default();
                let role_name = binding["roleRef"]["name"].as_str().unwrap_or_default();
                let scope = match kind {
                    "ClusterRoleBinding" => Scope::Cluster,
                    _ => Scope::Namespace(meta(binding, "namespace").to_owned()),
                };
                let role = rendered
                    .of_kind(role_kind)
                    .into_iter()
                    .find(|r| {
                        meta(r, "name") == role_name
                            && (role_kind == "ClusterRole"
                                || meta(r, "namespace") == meta(binding, "namespace"))
                    })
                    .unwrap_or_else(|| {
                        panic!(
                            "{kind} {} binds a missing {role_kind} {role_name}",
                            meta(binding, "name")
                        )
                    });
                for rule in role["rules"].as_array().into_iter().flatten() {
                    rules.push(Rule {
                        origin: format!("{role_kind} {role_name}"),
                        scope: scope.clone(),
                        api_groups: strings(&rule["apiGroups"]),
                        resources: strings(&rule["resources"]),
                        verbs: strings(&rule["verbs"]),
                        resource_names: strings(&rule["resourceNames"]),
                    });
                }
            }
        }
        Policy {
            user: service_account_user(namespace, name),
            rules,
        }
    }

    /// The user the policy is for (the token its program presents).
    pub(crate) fn user(&self) -> &str {
        &self.user
    }

    /// Compares the policy with what the user did (the entries of `log` made by it).
    pub(crate) fn compare(&self, log: &[Access]) -> Comparison {
        let mine: Vec<&RequestInfo> = log
            .iter()
            .filter(|a| a.user == self.user)
            .map(|a| &a.request)
            .collect();
        let mut comparison = Comparison {
            requests: mine.len(),
            ..Comparison::default()
        };
        for request in &mine {
            match request {
                RequestInfo::NonResource { verb, path } => {
                    if !(verb == "get" && PUBLIC_PATHS.iter().any(|p| path.starts_with(p))) {
                        comparison.denied.insert(format!("{verb} {path}"));
                    }
                }
                RequestInfo::Resource { .. } => {
                    comparison.used.insert(describe(request));
                    if !self.rules.iter().any(|r| r.allows(request)) {
                        comparison.denied.insert(describe(request));
                    }
                }
            }
        }
        for rule in &self.rules {
            for grant in rule.grants() {
                if !mine.iter().any(|req| rule.uses(&grant, req)) {
                    let (scope, group, resource, verb) = &grant;
                    let names = if rule.resource_names.is_empty() {
                        String::new()
                    } else {
                        format!(" {:?}", rule.resource_names)
                    };
                    comparison.unused.insert(format!(
                        "{}: {verb} {}{resource}{names} ({})",
                        rule.origin,
                        if group.is_empty() {
                            String::new()
                        } else {
                            format!("{group}/")
                        },
                        match scope {
                            Scope::Cluster => "all namespaces".to_owned(),
                            Scope::Namespace(ns) => format!("namespace {ns}"),
                        }
                    ));
                }
            }
        }
        comparison
    }
}

/// `verb group/resource[/sub] [name] (namespace)` of a request.
fn describe(request: &RequestInfo) -> String {
    match request {
        RequestInfo::Resource {
            verb,
            api_group,
            resource,
            subresource,
            namespace,
            name,
        } => {
            let group = if api_group.is_empty() {
                String::new()
            } else {
                format!("{api_group}/")
            };
            let sub = subresource
                .as_ref()
                .map(|s| format!("/{s}"))
                .unwrap_or_default();
            let name = name.as_ref().map(|n| format!(" {n}")).unwrap_or_default();
            let ns = namespace.as_deref().unwrap_or("all namespaces");
            format!("{verb} {group}{resource}{sub}{name} ({ns})")
        }
        RequestInfo::NonResource { verb, path } => format!("{verb} {path}"),
    }
}

/// How a policy and a program's requests compare.
#[derive(Debug, Default)]
pub(crate) struct Comparison {
    /// How many requests the program made.
    pub(crate) requests: usize,
    /// Each kind of request it made (verb, resource, name, namespace).
    pub(crate) used: BTreeSet<String>,
    /// Requests no rule allows.
    pub(crate) denied: BTreeSet<String>,
    /// Permissions no request used.
    pub(crate) unused: BTreeSet<String>,
}

impl Comparison {
    /// Panics with both lists unless each is empty.
    pub(crate) fn assert_exact(&self, who: &str) {
        assert!(self.requests > 0, "{who} made no request at all");
        assert!(
            self.denied.is_empty() && self.unused.is_empty(),
            "{who}: the chart's RBAC does not match what the program does.\n\
             Requests it made that no rule allows ({}):\n  {}\n\
             Permissions no request used ({}):\n  {}\n\
             (everything it did: {:#?})",
            self.denied.len(),
            self.denied.iter().cloned().collect::<Vec<_>>().join("\n  "),
            self.unused.len(),
            self.unused.iter().cloned().collect::<Vec<_>>().join("\n  "),
            self.used
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn request(verb: &str, resource: &str, ns: Option<&str>, name: Option<&str>) -> RequestInfo {
        RequestInfo::Resource {
            verb: verb.into(),
            api_group: "coordination.k8s.io".into(),
            resource: resource.into(),
            subresource: None,
            namespace: ns.map(Into::into),
            name: name.map(Into::into),
        }
    }

    #[test]
    fn rules_are_scoped_named_and_compared_both_ways() {
        let rendered = Rendered {
            notes: String::new(),
            objects: [
                json!({"kind": "Role", "metadata": {"name": "r", "namespace": "a"}, "rules": [
                    {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["create"]},
                    {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["get", "update"], "resourceNames": ["l"]}]}),
                json!({"kind": "RoleBinding", "metadata": {"name": "r", "namespace": "a"},
                    "roleRef": {"kind": "Role", "name": "r"},
                    "subjects": [{"kind": "ServiceAccount", "name": "sa", "namespace": "a"}]}),
            ]
            .into_iter()
            .map(|object| crate::helm::Object { template: String::new(), object })
            .collect(),
        };
        let policy = Policy::for_service_account(&rendered, "a", "sa");
        let entry = |request| Access {
            user: policy.user().to_owned(),
            request,
            status: 200,
        };
        let log = [
            entry(request("create", "leases", Some("a"), None)),
            entry(request("get", "leases", Some("a"), Some("l"))),
            // Another name, another namespace: not allowed.
            entry(request("get", "leases", Some("a"), Some("other"))),
            entry(request("create", "leases", Some("b"), None)),
        ];
        let c = policy.compare(&log);
        assert_eq!(c.requests, 4);
        assert_eq!(
            c.denied.into_iter().collect::<Vec<_>>(),
            [
                "create coordination.k8s.io/leases (b)",
                "get coordination.k8s.io/leases other (a)"
            ]
        );
        assert_eq!(
            c.unused.into_iter().collect::<Vec<_>>(),
            ["Role r: update coordination.k8s.io/leases [\"l\"] (namespace a)"]
        );
    }
}
