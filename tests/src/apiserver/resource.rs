//! Resource types the server serves: the built-in kinds the project uses, and those that
//! CustomResourceDefinitions add at run time.

use serde_json::{Value, json};

/// One served resource (a group/version/plural), with what discovery and clients need.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceType {
    /// API group ("" for the core group).
    pub group: String,
    /// Version, e.g. `v1`.
    pub version: String,
    /// Plural resource name used in URLs (`pods`).
    pub plural: String,
    /// Singular name (`pod`).
    pub singular: String,
    /// Kind (`Pod`).
    pub kind: String,
    /// Whether objects live in namespaces.
    pub namespaced: bool,
    /// Short names (`po`).
    pub short_names: Vec<String>,
    /// Categories (`all`).
    pub categories: Vec<String>,
    /// Whether `/status` is a separate subresource.
    pub status_subresource: bool,
    /// Whether this version is the one stored (CRDs: `storage: true`).
    pub storage: bool,
    /// The CRD version's `additionalPrinterColumns` (empty for built-ins, which have fixed
    /// columns).
    pub printer_columns: Vec<Value>,
    /// The CRD version's `openAPIV3Schema`, if any (pruning, list types, OpenAPI).
    pub schema: Option<Value>,
    /// The CRD that defines the type (`None` for built-ins).
    pub crd: Option<String>,
}

impl ResourceType {
    /// `apiVersion` of objects of this type (`v1`, `apps/v1`).
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// `group/version` as used in discovery (`v1` for the core group).
    pub fn group_version(&self) -> String {
        self.api_version()
    }

    /// The list kind (`PodList`).
    pub fn list_kind(&self) -> String {
        format!("{}List", self.kind)
    }

    /// Whether this is a built-in kind.
    pub fn is_builtin(&self) -> bool {
        self.crd.is_none()
    }

    /// The URL prefix of the type's group/version (`/api/v1`, `/apis/g/v`).
    pub fn gv_prefix(&self) -> String {
        if self.group.is_empty() {
            format!("/api/{}", self.version)
        } else {
            format!("/apis/{}/{}", self.group, self.version)
        }
    }

    /// The APIResource entries of this type for discovery (the resource and its subresources).
    pub fn discovery_entries(&self) -> Vec<Value> {
        let verbs = [
            "create",
            "delete",
            "deletecollection",
            "get",
            "list",
            "patch",
            "update",
            "watch",
        ];
        let mut main = json!({
            "name": self.plural,
            "singularName": self.singular,
            "namespaced": self.namespaced,
            "kind": self.kind,
            "verbs": verbs,
        });
        if !self.short_names.is_empty() {
            main["shortNames"] = json!(self.short_names);
        }
        if !self.categories.is_empty() {
            main["categories"] = json!(self.categories);
        }
        let mut entries = vec![main];
        if self.status_subresource {
            entries.push(json!({
                "name": format!("{}/status", self.plural),
                "singularName": "",
                "namespaced": self.namespaced,
                "kind": self.kind,
                "verbs": ["get", "patch", "update"],
            }));
        }
        if self.kind == "Pod" && self.group.is_empty() {
            entries.push(json!({
                "name": "pods/log",
                "singularName": "",
                "namespaced": true,
                "kind": "Pod",
                "verbs": ["get"],
            }));
        }
        entries
    }
}

fn builtin(
    group: &str,
    version: &str,
    plural: &str,
    kind: &str,
    namespaced: bool,
    short_names: &[&str],
    status_subresource: bool,
) -> ResourceType {
    ResourceType {
        group: group.to_owned(),
        version: version.to_owned(),
        plural: plural.to_owned(),
        singular: kind.to_lowercase(),
        kind: kind.to_owned(),
        namespaced,
        short_names: short_names.iter().map(|s| (*s).to_owned()).collect(),
        categories: Vec::new(),
        status_subresource,
        storage: true,
        printer_columns: Vec::new(),
        schema: None,
        crd: None,
    }
}

/// The built-in kinds the project uses (and the namespaces and CRDs every cluster has): what
/// the operator and the web frontend read and write, and what the Helm chart installs
/// (Deployments, RBAC, Ingress, PodDisruptionBudget). The chart's kinds are stored and served
/// like any object; nothing acts on them (no Deployment controller, no authorization).
pub fn builtins() -> Vec<ResourceType> {
    let mut pods = builtin("", "v1", "pods", "Pod", true, &["po"], true);
    pods.categories = vec!["all".to_owned()];
    let mut services = builtin("", "v1", "services", "Service", true, &["svc"], true);
    services.categories = vec!["all".to_owned()];
    let mut deployments = builtin(
        "apps",
        "v1",
        "deployments",
        "Deployment",
        true,
        &["deploy"],
        true,
    );
    deployments.categories = vec!["all".to_owned()];
    let rbac = "rbac.authorization.k8s.io";
    vec![
        pods,
        services,
        deployments,
        builtin(rbac, "v1", "roles", "Role", true, &[], false),
        builtin(rbac, "v1", "rolebindings", "RoleBinding", true, &[], false),
        builtin(rbac, "v1", "clusterroles", "ClusterRole", false, &[], false),
        builtin(
            rbac,
            "v1",
            "clusterrolebindings",
            "ClusterRoleBinding",
            false,
            &[],
            false,
        ),
        builtin(
            "networking.k8s.io",
            "v1",
            "ingresses",
            "Ingress",
            true,
            &["ing"],
            true,
        ),
        builtin(
            "policy",
            "v1",
            "poddisruptionbudgets",
            "PodDisruptionBudget",
            true,
            &["pdb"],
            true,
        ),
        builtin("", "v1", "configmaps", "ConfigMap", true, &["cm"], false),
        builtin("", "v1", "secrets", "Secret", true, &[], false),
        builtin("", "v1", "events", "Event", true, &["ev"], false),
        builtin(
            "",
            "v1",
            "persistentvolumeclaims",
            "PersistentVolumeClaim",
            true,
            &["pvc"],
            true,
        ),
        builtin("", "v1", "namespaces", "Namespace", false, &["ns"], true),
        builtin(
            "",
            "v1",
            "serviceaccounts",
            "ServiceAccount",
            true,
            &["sa"],
            false,
        ),
        builtin(
            "coordination.k8s.io",
            "v1",
            "leases",
            "Lease",
            true,
            &[],
            false,
        ),
        builtin(
            "events.k8s.io",
            "v1",
            "events",
            "Event",
            true,
            &["ev"],
            false,
        ),
        builtin(
            "apiextensions.k8s.io",
            "v1",
            "customresourcedefinitions",
            "CustomResourceDefinition",
            false,
            &["crd", "crds"],
            true,
        ),
    ]
}
