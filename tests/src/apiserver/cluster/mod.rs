//! The API machinery behind the HTTP layer: reads and writes with the real server's rules
//! (server-set metadata, resourceVersion preconditions, status separated from the rest,
//! finalizers, CRD schemas), used by the handlers and by the built-in controllers alike.

mod create;
mod delete;
mod patch;
mod update;
mod write;

use std::sync::Arc;

use serde_json::Value;

pub use delete::{DeleteOptions, Deleted, Propagation};
pub use patch::PatchKind;

use super::error::{ApiError, ApiResult, Subject};
use super::registry::Registry;
use super::resource::ResourceType;
use super::store::{Store, Stored, TypeKey};

/// How unknown fields in custom resources are treated (`fieldValidation`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FieldValidation {
    /// Drop them silently.
    Ignore,
    /// Drop them and say so in a `Warning` header (the default).
    #[default]
    Warn,
    /// Refuse the request.
    Strict,
}

impl FieldValidation {
    /// Parses the query parameter.
    pub fn parse(s: &str) -> ApiResult<Self> {
        match s {
            "Ignore" => Ok(Self::Ignore),
            "Warn" | "" => Ok(Self::Warn),
            "Strict" => Ok(Self::Strict),
            other => Err(ApiError::bad_request(format!(
                "fieldValidation parameter unsupported: {other}"
            ))),
        }
    }
}

/// Options of a write.
#[derive(Debug, Clone, Default)]
pub struct WriteOptions {
    /// `fieldManager`, as the request gave it (server-side apply requires one).
    pub field_manager: Option<String>,
    /// The manager charged when the request names none (the real server derives it from
    /// the User-Agent).
    pub default_manager: Option<String>,
    /// `dryRun=All`: validate and compute, but do not store.
    pub dry_run: bool,
    /// `fieldValidation`.
    pub field_validation: FieldValidation,
    /// `force` (server-side apply).
    pub force: bool,
    /// Set by server-side apply, which keeps `managedFields` itself.
    pub(crate) applied: bool,
}

impl WriteOptions {
    /// Options for a write by a built-in component (`kube-controller-manager`, `kubelet`),
    /// recorded in managedFields under its name as on a real cluster.
    pub fn component(name: &str) -> Self {
        WriteOptions {
            default_manager: Some(name.to_owned()),
            ..WriteOptions::default()
        }
    }

    /// The manager a write is recorded under.
    pub fn manager(&self) -> Option<&str> {
        self.field_manager
            .as_deref()
            .or(self.default_manager.as_deref())
    }
}

/// How lists and maps of a type merge (strategic merge patch, server-side apply).
pub(crate) fn schema_for(rt: &ResourceType) -> Box<dyn super::patch::Schema> {
    /// Every list atomic: a built-in kind without a known schema.
    struct Atomic;
    impl super::patch::Schema for Atomic {
        fn list_type(&self, _path: &[&str]) -> super::patch::ListType {
            super::patch::ListType::Atomic
        }
    }
    if rt.is_builtin() {
        match super::patch::BuiltinSchema::for_kind(&rt.kind) {
            Some(s) => Box::new(s),
            None => Box::new(Atomic),
        }
    } else {
        match &rt.schema {
            Some(s) => Box::new(super::patch::CrdSchema::from_openapi(s)),
            None => Box::new(Atomic),
        }
    }
}

/// A write's result and the warnings to send with it.
#[derive(Debug)]
pub struct Written {
    /// The object as stored (or as it would be, for a dry run).
    pub object: Arc<Stored>,
    /// `Warning` headers (unknown fields dropped).
    pub warnings: Vec<String>,
}

/// Where an object lives.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    /// Its type, in the version the request used.
    pub rt: &'a ResourceType,
    /// Its namespace ("" for cluster-scoped types).
    pub namespace: &'a str,
    /// Its name.
    pub name: &'a str,
}

impl Target<'_> {
    /// How errors name the resource.
    pub fn subject(&self) -> Subject<'_> {
        Subject {
            plural: &self.rt.plural,
            group: &self.rt.group,
        }
    }

    /// The store key.
    pub fn key(&self) -> TypeKey {
        type_key(self.rt)
    }

    /// The conflict a write gets when the object changed under it.
    pub fn stale(&self) -> ApiError {
        ApiError::conflict(
            self.subject(),
            self.name,
            "the object has been modified; please apply your changes to the latest version and try again",
        )
    }
}

/// The store key of a type (all versions share one).
pub fn type_key(rt: &ResourceType) -> TypeKey {
    (rt.group.clone(), rt.plural.clone())
}

/// The cluster: store, registry and configuration.
pub struct Cluster {
    /// The objects.
    pub store: Store,
    /// The served types.
    pub registry: Registry,
}

impl Cluster {
    /// A cluster with the given watch history and the usual namespaces.
    pub fn new(history_limit: usize) -> Arc<Cluster> {
        let cluster = Arc::new(Cluster {
            store: Store::new(history_limit),
            registry: Registry::new(),
        });
        if let Some(ns_type) = cluster.registry.find("", "v1", "namespaces") {
            for name in ["default", "kube-system", "kube-public", "kube-node-lease"] {
                let ns = serde_json::json!({
                    "apiVersion": "v1",
                    "kind": "Namespace",
                    "metadata": {"name": name},
                    "spec": {"finalizers": ["kubernetes"]},
                    "status": {"phase": "Active"},
                });
                // Fresh store: these cannot collide.
                let _ = cluster.create(&ns_type, "", ns, &WriteOptions::default());
            }
        }
        cluster
    }

    /// Reads one object.
    pub fn get(&self, target: Target<'_>) -> ApiResult<Arc<Stored>> {
        self.store
            .get(&target.key(), target.namespace, target.name)
            .ok_or_else(|| ApiError::not_found(target.subject(), target.name))
    }

    /// `obj` served in the version of `rt` (no conversion: only `apiVersion` differs, as with
    /// the `None` conversion strategy of CRDs).
    pub fn in_version(rt: &ResourceType, stored: &Arc<Stored>) -> Value {
        let mut v = stored.value.clone();
        v["apiVersion"] = Value::String(rt.api_version());
        v
    }

    /// The type objects of `rt` are stored as.
    pub fn storage_type(&self, rt: &ResourceType) -> Arc<ResourceType> {
        self.registry
            .storage_type(&rt.group, &rt.plural)
            .unwrap_or_else(|| Arc::new(rt.clone()))
    }

    /// What the server does after a write, synchronously so that clients can rely on it:
    /// a stored CustomResourceDefinition serves its types at once; a removed one takes its
    /// types and objects with it.
    pub(crate) fn after_write(&self, rt: &ResourceType, stored: &Arc<Stored>, removed: bool) {
        if !(rt.is_builtin() && rt.kind == "CustomResourceDefinition") {
            return;
        }
        let name = stored.name();
        if removed {
            for t in self.registry.remove_crd_types(name) {
                self.store.remove_all(&type_key(&t));
            }
        } else if !super::meta::is_deleting(&stored.value) {
            self.registry
                .set_crd_types(name, super::crd::types(&stored.value));
        }
    }

    /// Checks that namespace `ns` exists and accepts new objects.
    fn check_namespace(&self, rt: &ResourceType, ns: &str, name: &str) -> ApiResult<()> {
        if !rt.namespaced {
            return Ok(());
        }
        let key = (String::new(), "namespaces".to_owned());
        match self.store.get(&key, "", ns) {
            None => Err(ApiError::not_found(
                Subject {
                    plural: "namespaces",
                    group: "",
                },
                ns,
            )),
            Some(n) if super::meta::is_deleting(&n.value) => Err(ApiError::forbidden(format!(
                "{} \"{name}\" is forbidden: unable to create new content in namespace {ns} because it is being terminated",
                rt.plural
            ))),
            Some(_) => Ok(()),
        }
    }
}
