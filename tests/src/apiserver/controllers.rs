//! The controllers a real cluster runs for the API to mean what it says: the garbage
//! collector (ownerReferences: background, foreground and orphan deletion, dangling owners),
//! namespace termination, and the cleanup of a deleted CRD's objects.
//!
//! They follow the store's change stream and act through [`Cluster`], like any client.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use serde_json::{Value, json};
use tokio::sync::{broadcast, watch};
use tokio::task::JoinHandle;

use super::cluster::{Cluster, DeleteOptions, Propagation, Target, WriteOptions, type_key};
use super::crd::CLEANUP_FINALIZER;
use super::meta;
use super::resource::ResourceType;
use super::store::{Event, EventType, Stored, TypeKey};

/// An object by where it lives.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct ObjRef {
    key: TypeKey,
    namespace: String,
    name: String,
}

impl ObjRef {
    fn of(key: &TypeKey, obj: &Stored) -> ObjRef {
        ObjRef {
            key: key.clone(),
            namespace: obj.namespace().to_owned(),
            name: obj.name().to_owned(),
        }
    }
}

fn owner_uids(obj: &Value) -> Vec<String> {
    obj["metadata"]["ownerReferences"]
        .as_array()
        .map(|refs| {
            refs.iter()
                .filter_map(|r| r["uid"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn uid(obj: &Value) -> String {
    obj["metadata"]["uid"].as_str().unwrap_or("").to_owned()
}

/// The garbage collector's view: which uids exist and who depends on whom.
#[derive(Default)]
struct Graph {
    alive: HashSet<String>,
    by_uid: HashMap<String, ObjRef>,
    dependents: HashMap<String, HashSet<ObjRef>>,
}

impl Graph {
    fn add(&mut self, key: &TypeKey, obj: &Stored) {
        self.alive.insert(uid(&obj.value));
        self.by_uid.insert(uid(&obj.value), ObjRef::of(key, obj));
        for owner in owner_uids(&obj.value) {
            self.dependents
                .entry(owner)
                .or_default()
                .insert(ObjRef::of(key, obj));
        }
    }

    fn remove(&mut self, key: &TypeKey, obj: &Stored) {
        self.alive.remove(&uid(&obj.value));
        self.by_uid.remove(&uid(&obj.value));
        let me = ObjRef::of(key, obj);
        for owner in owner_uids(&obj.value) {
            if let Some(d) = self.dependents.get_mut(&owner) {
                d.remove(&me);
            }
        }
    }

    fn rebuild(cluster: &Cluster) -> Graph {
        let mut g = Graph::default();
        for key in cluster.store.keys_with_objects() {
            for obj in cluster.store.list(&key, None).1 {
                g.add(&key, &obj);
            }
        }
        g
    }
}

/// How the controllers' writes are recorded.
fn controller() -> WriteOptions {
    WriteOptions::component("kube-controller-manager")
}

/// Starts the controllers; they stop when `shutdown` turns true.
pub fn spawn(cluster: Arc<Cluster>, mut shutdown: watch::Receiver<bool>) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut events = match cluster.store.watch_from(cluster.store.current_rv()) {
            Ok((_, rx)) => rx,
            Err(_) => return,
        };
        let mut graph = Graph::rebuild(&cluster);
        loop {
            tokio::select! {
                _ = shutdown.changed() => return,
                received = events.recv() => match received {
                    Ok(event) => handle(&cluster, &mut graph, &event),
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        graph = Graph::rebuild(&cluster);
                        sweep(&cluster, &graph);
                    }
                    Err(broadcast::error::RecvError::Closed) => return,
                },
            }
        }
    })
}

fn handle(cluster: &Cluster, graph: &mut Graph, event: &Event) {
    let obj = &event.object;
    if let Some(prev) = &event.prev {
        graph.remove(&event.key, prev);
    }
    match event.kind {
        EventType::Deleted => {
            // Background propagation: the owner is gone, its dependents follow.
            let owner = uid(&obj.value);
            let deps: Vec<ObjRef> = graph
                .dependents
                .remove(&owner)
                .map(|d| d.into_iter().collect())
                .unwrap_or_default();
            for d in deps {
                delete(cluster, &d, Propagation::Background);
            }
            // The last dependent of an owner deleted in the foreground lets the owner go.
            for owner in owner_uids(&obj.value) {
                release_owner(cluster, graph, &owner);
            }
            // The last object of a terminating namespace lets the namespace go.
            let ns = obj.namespace();
            if !ns.is_empty() {
                recheck_namespace(cluster, ns);
            }
            return;
        }
        EventType::Added | EventType::Modified => graph.add(&event.key, obj),
    }
    // A dependent whose owners are all gone is collected.
    let owners = owner_uids(&obj.value);
    if !owners.is_empty() && owners.iter().all(|o| !graph.alive.contains(o)) {
        delete(
            cluster,
            &ObjRef::of(&event.key, obj),
            Propagation::Background,
        );
    }
    if meta::is_deleting(&obj.value) {
        finalize(cluster, graph, &event.key, obj);
    }
}

/// Re-examines everything after missed events.
fn sweep(cluster: &Cluster, graph: &Graph) {
    for key in cluster.store.keys_with_objects() {
        for obj in cluster.store.list(&key, None).1 {
            let owners = owner_uids(&obj.value);
            if !owners.is_empty() && owners.iter().all(|o| !graph.alive.contains(o)) {
                delete(cluster, &ObjRef::of(&key, &obj), Propagation::Background);
            }
        }
    }
}

fn type_of(cluster: &Cluster, key: &TypeKey) -> Option<Arc<ResourceType>> {
    cluster.registry.storage_type(&key.0, &key.1)
}

fn delete(cluster: &Cluster, r: &ObjRef, propagation: Propagation) {
    let Some(rt) = type_of(cluster, &r.key) else {
        return;
    };
    let target = Target {
        rt: &rt,
        namespace: &r.namespace,
        name: &r.name,
    };
    let opts = DeleteOptions {
        propagation,
        ..DeleteOptions::default()
    };
    if let Err(e) = cluster.delete(target, &opts)
        && e.code != 404
    {
        tracing::warn!(object = %r.name, error = %e, "garbage collection failed");
    }
}

/// Removes `finalizer` from an object, completing its deletion if it was the last.
fn remove_finalizer(cluster: &Cluster, rt: &ResourceType, obj: &Stored, finalizer: &str) {
    let target = Target {
        rt,
        namespace: obj.namespace(),
        name: obj.name(),
    };
    let result = cluster.modify(target, false, &controller(), |next| {
        let kept: Vec<String> = meta::finalizers(next)
            .into_iter()
            .filter(|f| f != finalizer)
            .collect();
        next["metadata"]["finalizers"] = json!(kept);
    });
    if let Err(e) = result {
        tracing::warn!(object = %obj.name(), error = %e, "could not remove finalizer");
    }
}

/// Carries out the server-side finalizers of an object being deleted.
fn finalize(cluster: &Cluster, graph: &Graph, key: &TypeKey, obj: &Arc<Stored>) {
    let Some(rt) = type_of(cluster, key) else {
        return;
    };
    let finalizers = meta::finalizers(&obj.value);
    let owner = uid(&obj.value);
    let dependents: Vec<ObjRef> = graph
        .dependents
        .get(&owner)
        .map(|d| d.iter().cloned().collect())
        .unwrap_or_default();
    if finalizers.iter().any(|f| f == "orphan") {
        for d in &dependents {
            orphan(cluster, d, &owner);
        }
        remove_finalizer(cluster, &rt, obj, "orphan");
        return;
    }
    if finalizers.iter().any(|f| f == "foregroundDeletion") {
        if dependents.is_empty() {
            remove_finalizer(cluster, &rt, obj, "foregroundDeletion");
        } else {
            for d in &dependents {
                delete(cluster, d, Propagation::Foreground);
            }
        }
        return;
    }
    if rt.is_builtin()
        && rt.kind == "CustomResourceDefinition"
        && finalizers.iter().any(|f| f == CLEANUP_FINALIZER)
    {
        for t in crd_types(&obj.value) {
            cluster.store.remove_all(&t);
        }
        remove_finalizer(cluster, &rt, obj, CLEANUP_FINALIZER);
        return;
    }
    if rt.is_builtin() && rt.kind == "Namespace" {
        terminate_namespace(cluster, &rt, obj);
    }
}

fn crd_types(crd: &Value) -> Vec<TypeKey> {
    super::crd::types(crd).iter().map(type_key).collect()
}

/// Strips `owner` from a dependent's ownerReferences.
fn orphan(cluster: &Cluster, d: &ObjRef, owner: &str) {
    let Some(rt) = type_of(cluster, &d.key) else {
        return;
    };
    let target = Target {
        rt: &rt,
        namespace: &d.namespace,
        name: &d.name,
    };
    let result = cluster.modify(target, false, &controller(), |next| {
        if let Some(refs) = next["metadata"]["ownerReferences"].as_array_mut() {
            refs.retain(|r| r["uid"] != owner);
        }
    });
    if let Err(e) = result {
        tracing::warn!(object = %d.name, error = %e, "could not orphan dependent");
    }
}

/// Removes `foregroundDeletion` from an owner that waits for dependents it no longer has.
fn release_owner(cluster: &Cluster, graph: &Graph, owner: &str) {
    if graph.dependents.get(owner).is_some_and(|d| !d.is_empty()) {
        return;
    }
    let Some(r) = graph.by_uid.get(owner) else {
        return;
    };
    let Some(rt) = type_of(cluster, &r.key) else {
        return;
    };
    if let Some(obj) = cluster.store.get(&r.key, &r.namespace, &r.name)
        && meta::is_deleting(&obj.value)
        && meta::finalizers(&obj.value)
            .iter()
            .any(|f| f == "foregroundDeletion")
    {
        remove_finalizer(cluster, &rt, &obj, "foregroundDeletion");
    }
}

/// Continues the termination of namespace `ns`, if it is terminating.
fn recheck_namespace(cluster: &Cluster, ns: &str) {
    let Some(rt) = cluster.registry.find("", "v1", "namespaces") else {
        return;
    };
    let key = type_key(&rt);
    if let Some(ns_obj) = cluster.store.get(&key, "", ns)
        && meta::is_deleting(&ns_obj.value)
    {
        terminate_namespace(cluster, &rt, &ns_obj);
    }
}

/// Deletes everything in a terminating namespace, then the namespace itself.
fn terminate_namespace(cluster: &Cluster, rt: &ResourceType, ns_obj: &Stored) {
    let ns = ns_obj.name().to_owned();
    if ns_obj.value["status"]["phase"] != "Terminating" {
        let target = Target {
            rt,
            namespace: "",
            name: &ns,
        };
        let _ = cluster.modify(target, true, &controller(), |next| {
            next["status"] = json!({"phase": "Terminating"});
        });
    }
    let mut remaining = 0;
    for key in cluster.store.keys_with_objects() {
        let Some(t) = type_of(cluster, &key) else {
            continue;
        };
        if !t.namespaced {
            continue;
        }
        for obj in cluster.store.list(&key, Some(&ns)).1 {
            remaining += 1;
            if !meta::is_deleting(&obj.value) {
                delete(cluster, &ObjRef::of(&key, &obj), Propagation::Background);
            }
        }
    }
    if remaining == 0 {
        let _ = cluster.store.remove(&type_key(rt), "", &ns, None);
    }
}
