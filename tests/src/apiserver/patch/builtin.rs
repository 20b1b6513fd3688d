//! Schemas of the built-in kinds the fake server serves.
//!
//! Apply list types come from the Kubernetes 1.37 OpenAPI (`x-kubernetes-list-type`,
//! `x-kubernetes-list-map-keys`, `x-kubernetes-map-type`, as carried by k8s-openapi's
//! `DeepMerge` impls); strategic-merge strategies come from the Go struct tags
//! (`patchStrategy`, `patchMergeKey`) of `k8s.io/api/core/v1`. Only lists that are *not*
//! atomic and maps that are atomic or free-form need listing: everything else defaults
//! the way structured-merge-diff and apimachinery do.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::schema::{ListType, Schema, SmpList};

/// The schema of one built-in kind. See [`BuiltinSchema::for_kind`].
#[derive(Debug, Clone, Default)]
pub struct BuiltinSchema {
    kind: String,
    lists: BTreeMap<String, ListType>,
    smp: BTreeMap<String, SmpList>,
    atomic_maps: BTreeSet<String>,
    free_maps: BTreeSet<String>,
    key_defaults: BTreeMap<(String, String), Value>,
}

/// The three container lists of a pod spec share one element type.
const CONTAINER_LISTS: [&str; 3] = ["containers", "initContainers", "ephemeralContainers"];
/// The three container status lists of a pod status share one element type.
const STATUS_LISTS: [&str; 3] = [
    "containerStatuses",
    "initContainerStatuses",
    "ephemeralContainerStatuses",
];

impl BuiltinSchema {
    /// The schema for a built-in kind: `Pod`, `ConfigMap`, `Secret`, `Service`,
    /// `PersistentVolumeClaim`, `Event` (core and events.k8s.io), `Lease` or `Namespace`.
    /// `None` for any other kind.
    pub fn for_kind(kind: &str) -> Option<BuiltinSchema> {
        let mut s = BuiltinSchema {
            kind: kind.to_owned(),
            ..BuiltinSchema::default()
        };
        match kind {
            "Pod" => s.pod(),
            "ConfigMap" => s.free(&["data", "binaryData"]),
            "Secret" => s.free(&["data", "stringData"]),
            "Service" => s.service(),
            "PersistentVolumeClaim" => s.pvc(),
            "Namespace" => s.conditions("status.conditions"),
            "Event" | "Lease" => {}
            _ => return None,
        }
        Some(s)
    }

    /// The kind this schema describes.
    pub fn kind(&self) -> &str {
        &self.kind
    }

    fn map(&mut self, path: &str, keys: &[&str]) {
        let keys = keys.iter().map(|k| (*k).to_owned()).collect();
        self.lists.insert(path.to_owned(), ListType::Map(keys));
    }

    fn set(&mut self, path: &str) {
        self.lists.insert(path.to_owned(), ListType::Set);
    }

    fn merge_by(&mut self, path: &str, key: &str) {
        self.smp
            .insert(path.to_owned(), SmpList::Merge(Some(key.to_owned())));
    }

    /// A map list whose SMP merge key is its only apply key (the common case).
    fn keyed(&mut self, path: &str, key: &str) {
        self.map(path, &[key]);
        self.merge_by(path, key);
    }

    fn atomic(&mut self, paths: &[&str]) {
        self.atomic_maps
            .extend(paths.iter().map(|p| (*p).to_owned()));
    }

    fn free(&mut self, paths: &[&str]) {
        self.free_maps.extend(paths.iter().map(|p| (*p).to_owned()));
    }

    /// Condition lists are keyed by `type` under both apply and SMP.
    fn conditions(&mut self, path: &str) {
        self.keyed(path, "type");
    }

    /// Container ports: SMP merges on `containerPort`; apply keys on port and protocol,
    /// with the protocol defaulted to TCP the way the real server defaults it.
    fn ports(&mut self, path: &str, port_field: &str) {
        self.map(path, &[port_field, "protocol"]);
        self.merge_by(path, port_field);
        self.key_defaults.insert(
            (path.to_owned(), "protocol".to_owned()),
            Value::String("TCP".to_owned()),
        );
    }

    fn pod(&mut self) {
        for list in CONTAINER_LISTS {
            let c = format!("spec.{list}");
            self.keyed(&c, "name");
            self.keyed(&format!("{c}.env"), "name");
            self.ports(&format!("{c}.ports"), "containerPort");
            self.keyed(&format!("{c}.volumeMounts"), "mountPath");
            self.keyed(&format!("{c}.volumeDevices"), "devicePath");
            self.map(&format!("{c}.resources.claims"), &["name"]);
            self.set(&format!("{c}.volumeMounts.bindMountOptions"));
            self.set(&format!("{c}.restartPolicyRules.exitCodes.values"));
            for m in ["resources.limits", "resources.requests"] {
                self.free_maps.insert(format!("{c}.{m}"));
            }
            for r in [
                "configMapKeyRef",
                "secretKeyRef",
                "fieldRef",
                "resourceFieldRef",
            ] {
                self.atomic_maps.insert(format!("{c}.env.valueFrom.{r}"));
            }
        }
        for list in STATUS_LISTS {
            let s = format!("status.{list}");
            self.map(&format!("{s}.allocatedResourcesStatus"), &["name"]);
            self.map(
                &format!("{s}.allocatedResourcesStatus.resources"),
                &["resourceID"],
            );
            self.map(&format!("{s}.resources.claims"), &["name"]);
            self.map(&format!("{s}.volumeMounts"), &["mountPath"]);
            for m in [
                "allocatedResources",
                "resources.limits",
                "resources.requests",
            ] {
                self.free_maps.insert(format!("{s}.{m}"));
            }
        }
        self.keyed("spec.volumes", "name");
        self.keyed("spec.imagePullSecrets", "name");
        self.keyed("spec.hostAliases", "ip");
        self.keyed("spec.resourceClaims", "name");
        self.keyed("spec.schedulingGates", "name");
        self.map(
            "spec.topologySpreadConstraints",
            &["topologyKey", "whenUnsatisfiable"],
        );
        self.merge_by("spec.topologySpreadConstraints", "topologyKey");
        self.map("spec.resources.claims", &["name"]);
        self.map("spec.evictionResponders", &["name"]);
        self.conditions("status.conditions");
        self.keyed("status.podIPs", "ip");
        self.keyed("status.hostIPs", "ip");
        self.keyed("status.resourceClaimStatuses", "name");
        let nar = "status.nodeAllocatableResourceClaimStatuses";
        self.map(nar, &["resourceClaimName"]);
        self.set(&format!("{nar}.containers"));
        self.map(&format!("{nar}.mapping"), &["name"]);
        self.map(&format!("{nar}.overhead"), &["name"]);
        self.map("status.volumeHealth", &["name"]);
        self.map("status.volumeHealth.healthConditions", &["status"]);
        self.atomic(&[
            "spec.nodeSelector",
            "spec.topologySpreadConstraints.labelSelector",
        ]);
        self.free(&[
            "spec.overhead",
            "spec.resources.limits",
            "spec.resources.requests",
            "spec.volumes.csi.volumeAttributes",
            "spec.volumes.flexVolume.options",
            "status.allocatedResources",
            "status.resources.limits",
            "status.resources.requests",
        ]);
    }

    fn service(&mut self) {
        self.ports("spec.ports", "port");
        self.conditions("status.conditions");
        self.atomic(&["spec.selector"]);
    }

    fn pvc(&mut self) {
        self.conditions("status.conditions");
        self.map("status.healthStatus.healthConditions", &["status"]);
        self.atomic(&["spec.selector", "spec.dataSource"]);
        self.free(&[
            "spec.resources.limits",
            "spec.resources.requests",
            "status.capacity",
            "status.allocatedResources",
            "status.allocatedResourceStatuses",
        ]);
    }
}

impl Schema for BuiltinSchema {
    fn list_type(&self, path: &[&str]) -> ListType {
        self.lists
            .get(&path.join("."))
            .cloned()
            .unwrap_or(ListType::Atomic)
    }

    fn atomic_map(&self, path: &[&str]) -> bool {
        self.atomic_maps.contains(&path.join("."))
    }

    fn free_form_map(&self, path: &[&str]) -> bool {
        self.free_maps.contains(&path.join("."))
    }

    fn list_key_default(&self, path: &[&str], key: &str) -> Option<Value> {
        self.key_defaults
            .get(&(path.join("."), key.to_owned()))
            .cloned()
    }

    fn smp_list(&self, path: &[&str]) -> SmpList {
        // Built-in kinds know their Go struct tags: lists without a tag replace, even when
        // their apply list type is a map (e.g. `resources.claims`).
        self.smp
            .get(&path.join("."))
            .cloned()
            .unwrap_or(SmpList::Replace)
    }
}
