//! Kubelet mode (opt-in): Pods that match a label selector are "run" as local processes.
//!
//! The kubelet binds a selected Pod to its node name, makes its volumes local directories,
//! runs its init containers and then its containers with their command, arguments and
//! environment (never through a shell), and reports phase, container states, exit codes and
//! termination messages in the Pod's status. Deleting the Pod kills the processes (the whole
//! process group, SIGTERM then SIGKILL after the grace period) before the Pod goes.
//!
//! A local process cannot see files at the container's mount paths, so mount paths and the
//! termination message path are rewritten to their local directories in the command, the
//! arguments, the environment and the working directory. Images are not pulled or run: a
//! container needs an explicit `command`.
//!
//! A PersistentVolumeClaim volume is one directory per (namespace, claim) that every Pod
//! mounting the claim shares; a Pod whose claim does not exist yet is left unplaced (Pending,
//! `PodScheduled=False`) until it does, as the scheduler would.

mod env;
mod message;
mod paths;
mod pvc;
mod run;
mod status;
mod volumes;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::{broadcast, oneshot, watch};
use tokio::task::JoinHandle;

use super::cluster::{Cluster, DeleteOptions, Target, WriteOptions};
use super::meta;
use super::query::LabelSelector;
use super::store::{EventType, Stored, TypeKey};

pub(crate) use pvc::claim_dir;
pub(crate) use run::log_path;

/// How the kubelet mode runs.
#[derive(Debug, Clone)]
pub struct KubeletConfig {
    /// Which Pods it runs (a label selector, e.g. `img.example.org/run=local`).
    pub selector: String,
    /// Where Pod directories (volumes, logs, termination messages) are made, under
    /// `pods/<uid>/`, and the directories of PersistentVolumeClaims, under
    /// `pvc/<namespace>/<claim>/`.
    pub root: PathBuf,
    /// The node name Pods are bound to.
    pub node_name: String,
}

/// A Pod being run: how to stop it.
struct Running {
    kill: Option<oneshot::Sender<u64>>,
    task: JoinHandle<()>,
}

/// What the kubelet keeps track of.
struct Node {
    cluster: Arc<Cluster>,
    config: Arc<KubeletConfig>,
    selector: LabelSelector,
    /// Pods being run, by uid.
    running: HashMap<String, Running>,
    /// Pods not placed because of a missing claim, by uid: (namespace, name).
    waiting: HashMap<String, (String, String)>,
}

/// Starts the kubelet; it stops (killing every process it runs) when `shutdown` turns true.
pub fn spawn(
    cluster: Arc<Cluster>,
    config: KubeletConfig,
    mut shutdown: watch::Receiver<bool>,
) -> anyhow::Result<JoinHandle<()>> {
    let selector = LabelSelector::parse(&config.selector)
        .map_err(|e| anyhow::anyhow!("kubelet selector {:?}: {e}", config.selector))?;
    std::fs::create_dir_all(&config.root)?;
    let mut node = Node {
        cluster,
        config: Arc::new(config),
        selector,
        running: HashMap::new(),
        waiting: HashMap::new(),
    };
    Ok(tokio::spawn(async move {
        let Ok((_, mut events)) = node
            .cluster
            .store
            .watch_from(node.cluster.store.current_rv())
        else {
            return;
        };
        node.consider_all();
        loop {
            tokio::select! {
                _ = shutdown.changed() => break,
                received = events.recv() => match received {
                    Ok(e) if e.key == pods_key() => {
                        node.consider(&e.object, e.kind == EventType::Deleted);
                    }
                    // A claim appearing may let waiting Pods be placed.
                    Ok(e) if e.key == pvc::claims_key() && e.kind != EventType::Deleted => {
                        node.claim_changed(e.object.namespace());
                    }
                    Ok(_) => {}
                    Err(broadcast::error::RecvError::Lagged(_)) => node.consider_all(),
                    Err(broadcast::error::RecvError::Closed) => break,
                },
            }
            node.running.retain(|_, r| !r.task.is_finished());
        }
        // Shutting down: every process goes.
        for (_, mut r) in node.running.drain() {
            if let Some(kill) = r.kill.take() {
                let _ = kill.send(0);
            }
            let _ = r.task.await;
        }
    }))
}

fn pods_key() -> TypeKey {
    (String::new(), "pods".to_owned())
}

fn selected(selector: &LabelSelector, pod: &Stored) -> bool {
    let empty = serde_json::Map::new();
    let labels = pod.value["metadata"]["labels"]
        .as_object()
        .unwrap_or(&empty);
    selector.matches(labels)
}

impl Node {
    fn consider_all(&mut self) {
        for pod in self.cluster.store.list(&pods_key(), None).1 {
            self.consider(&pod, false);
        }
    }

    /// Looks again at the Pods of `namespace` that wait for a claim.
    fn claim_changed(&mut self, namespace: &str) {
        let waiting: Vec<(String, String)> = self
            .waiting
            .values()
            .filter(|(ns, _)| ns == namespace)
            .cloned()
            .collect();
        for (ns, name) in waiting {
            if let Some(pod) = self.cluster.store.get(&pods_key(), &ns, &name) {
                self.consider(&pod, false);
            }
        }
    }

    /// Decides what a change to a Pod means for the kubelet.
    fn consider(&mut self, pod: &Arc<Stored>, removed: bool) {
        if !selected(&self.selector, pod) {
            return;
        }
        let uid = pod.value["metadata"]["uid"]
            .as_str()
            .unwrap_or("")
            .to_owned();
        let node = pod.value["spec"]["nodeName"].as_str().unwrap_or("");
        if node != self.config.node_name && !node.is_empty() {
            return;
        }
        if removed {
            self.waiting.remove(&uid);
            if let Some(mut r) = self.running.remove(&uid)
                && let Some(kill) = r.kill.take()
            {
                let _ = kill.send(0);
            }
            return;
        }
        if meta::is_deleting(&pod.value) {
            let grace = pod.value["metadata"]["deletionGracePeriodSeconds"]
                .as_u64()
                .unwrap_or(30);
            match self.running.get_mut(&uid) {
                Some(r) => {
                    if let Some(kill) = r.kill.take() {
                        let _ = kill.send(grace);
                    }
                }
                // Not running (finished, or never started): finish the deletion.
                None if !node.is_empty() => finish_deletion(&self.cluster, pod),
                None => {}
            }
            return;
        }
        if self.running.contains_key(&uid) || node == self.config.node_name {
            return;
        }
        // The scheduler does not place a Pod whose claims are missing; it waits for them.
        if let Some(why) = pvc::unschedulable(&self.cluster, &pod.value) {
            pvc::mark_unschedulable(&self.cluster, pod, &why);
            let key = (pod.namespace().to_owned(), pod.name().to_owned());
            self.waiting.insert(uid, key);
            return;
        }
        self.waiting.remove(&uid);
        if !bind(&self.cluster, pod, &self.config.node_name) {
            return;
        }
        let (kill, killed) = oneshot::channel();
        let task = tokio::spawn(run::run_pod(
            self.cluster.clone(),
            self.config.clone(),
            pod.clone(),
            killed,
        ));
        self.running.insert(
            uid,
            Running {
                kill: Some(kill),
                task,
            },
        );
    }
}

fn pods_type(cluster: &Cluster) -> Option<Arc<super::resource::ResourceType>> {
    cluster.registry.find("", "v1", "pods")
}

/// Sets `spec.nodeName` (what the scheduler's binding does).
fn bind(cluster: &Cluster, pod: &Stored, node: &str) -> bool {
    let Some(rt) = pods_type(cluster) else {
        return false;
    };
    let target = Target {
        rt: &rt,
        namespace: pod.namespace(),
        name: pod.name(),
    };
    let result = cluster.modify(target, false, &WriteOptions::component("kubelet"), |next| {
        next["spec"]["nodeName"] = serde_json::json!(node);
    });
    matches!(result, Ok(Some(_)))
}

/// Removes a Pod whose processes are gone (the kubelet's final delete, grace period 0).
pub(crate) fn finish_deletion(cluster: &Cluster, pod: &Stored) {
    let Some(rt) = pods_type(cluster) else {
        return;
    };
    let target = Target {
        rt: &rt,
        namespace: pod.namespace(),
        name: pod.name(),
    };
    let opts = DeleteOptions {
        grace_period: Some(0),
        ..DeleteOptions::default()
    };
    if let Err(e) = cluster.delete(target, &opts)
        && e.code != 404
    {
        tracing::warn!(pod = %pod.name(), error = %e, "kubelet could not finish deletion");
    }
}
