//! PersistentVolumeClaim volumes: one local directory per (namespace, claim), shared by every
//! Pod that mounts the claim, and the scheduler's rule that a Pod whose claim is missing is
//! not placed on a node.
//!
//! There is no provisioner and no PersistentVolume: a claim is usable once it exists (and is
//! not being deleted), whatever its `status.phase`. The directory is made when a Pod first
//! mounts the claim and is never removed, not even with the claim, so tests can read what Pods
//! left there. `readOnly` (of the volume or of a mount) cannot be enforced on a local process
//! and is ignored.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::pods_type;
use super::volumes::SetupError;
use crate::apiserver::cluster::{Cluster, Target, WriteOptions};
use crate::apiserver::meta;
use crate::apiserver::store::{Stored, TypeKey};

/// The store key of PersistentVolumeClaims.
pub(super) fn claims_key() -> TypeKey {
    (String::new(), "persistentvolumeclaims".to_owned())
}

/// The local directory for claim `claim` in `namespace` under the kubelet root `root`; `None`
/// for names no object can have (which could also climb out of `root`).
pub(crate) fn claim_dir(root: &Path, namespace: &str, claim: &str) -> Option<PathBuf> {
    let usable = |n: &str| !n.is_empty() && n != "." && n != ".." && !n.contains(['/', '\0']);
    (usable(namespace) && usable(claim)).then(|| root.join("pvc").join(namespace).join(claim))
}

/// The local directory of a claim that a Pod mounts, made on first use.
pub(super) fn mount(
    cluster: &Cluster,
    root: &Path,
    namespace: &str,
    claim: &str,
) -> Result<PathBuf, SetupError> {
    if cluster.store.get(&claims_key(), namespace, claim).is_none() {
        return Err(format!("persistentvolumeclaim \"{claim}\" not found"));
    }
    let dir =
        claim_dir(root, namespace, claim).ok_or_else(|| format!("invalid claimName {claim:?}"))?;
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    Ok(dir)
}

/// Why the scheduler would not place `pod` yet: the first of its claims that is missing or
/// being deleted, in the scheduler's words.
pub(super) fn unschedulable(cluster: &Cluster, pod: &Value) -> Option<String> {
    let ns = pod["metadata"]["namespace"].as_str().unwrap_or("");
    let claims = pod["spec"]["volumes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v["persistentVolumeClaim"]["claimName"].as_str());
    for claim in claims {
        let problem = match cluster.store.get(&claims_key(), ns, claim) {
            None => "not found",
            Some(pvc) if meta::is_deleting(&pvc.value) => "is being deleted",
            Some(_) => continue,
        };
        return Some(format!(
            "0/1 nodes are available: persistentvolumeclaim \"{claim}\" {problem}. preemption: \
             0/1 nodes are available: 1 Preemption is not helpful for scheduling."
        ));
    }
    None
}

/// Records in `pod`'s status, as the scheduler does, that it cannot be placed: a
/// `PodScheduled=False` condition with reason `Unschedulable`. An unchanged condition is left
/// alone, so that the write (and the Pod event it makes) happens once per reason.
pub(super) fn mark_unschedulable(cluster: &Cluster, pod: &Stored, message: &str) {
    let Some(rt) = pods_type(cluster) else {
        return;
    };
    let target = Target {
        rt: &rt,
        namespace: pod.namespace(),
        name: pod.name(),
    };
    let opts = WriteOptions::component("default-scheduler");
    let result = cluster.modify(target, true, &opts, |next| {
        if !next["status"].is_object() {
            next["status"] = json!({"phase": "Pending"});
        }
        let conditions = &mut next["status"]["conditions"];
        if !conditions.is_array() {
            *conditions = json!([]);
        }
        let Some(list) = conditions.as_array_mut() else {
            return;
        };
        let scheduled = list.iter().position(|c| c["type"] == "PodScheduled");
        if let Some(i) = scheduled {
            let c = &list[i];
            if c["status"] == "False" && c["reason"] == "Unschedulable" && c["message"] == message {
                return;
            }
            list.remove(i);
        }
        list.push(json!({
            "type": "PodScheduled",
            "status": "False",
            "reason": "Unschedulable",
            "message": message,
            "lastTransitionTime": meta::now(),
        }));
    });
    if let Err(e) = result {
        tracing::warn!(pod = %pod.name(), error = %e, "could not mark the Pod unschedulable");
    }
}
