//! The state of a Pod's containers as the kubelet tracks it, and the Pod status built from
//! it (phase, conditions, container states), written back through the cluster.

use serde_json::{Value, json};

use super::{message, pods_type};
use crate::apiserver::cluster::{Cluster, Target, WriteOptions};
use crate::apiserver::meta;
use crate::apiserver::store::Stored;

/// The state of one container.
#[derive(Debug, Clone)]
pub(super) enum CState {
    Waiting {
        reason: String,
        message: String,
    },
    Running {
        started: String,
        pid: u32,
    },
    Terminated {
        exit: i32,
        reason: String,
        message: String,
        started: String,
        finished: String,
        pid: u32,
    },
}

#[derive(Debug, Clone)]
pub(super) struct Container {
    pub(super) name: String,
    pub(super) image: String,
    pub(super) state: CState,
    pub(super) restarts: u32,
}

/// Everything the status is built from.
#[derive(Debug)]
pub(super) struct PodState {
    pub(super) init: Vec<Container>,
    pub(super) main: Vec<Container>,
    pub(super) start_time: String,
    pub(super) deadline_exceeded: bool,
    /// The most bytes each terminated state's message keeps (see [`super::message`]).
    pub(super) message_limit: usize,
}

impl PodState {
    pub(super) fn phase(&self, restart_never: bool) -> &'static str {
        let failed =
            |c: &Container| matches!(c.state, CState::Terminated { exit, .. } if exit != 0);
        if self.deadline_exceeded || (restart_never && self.init.iter().any(failed)) {
            return "Failed";
        }
        let all_done = !self.main.is_empty()
            && self
                .main
                .iter()
                .all(|c| matches!(c.state, CState::Terminated { .. }));
        if all_done {
            return if self.main.iter().any(failed) {
                "Failed"
            } else {
                "Succeeded"
            };
        }
        if self
            .main
            .iter()
            .any(|c| matches!(c.state, CState::Running { .. } | CState::Terminated { .. }))
        {
            "Running"
        } else {
            "Pending"
        }
    }

    pub(super) fn status(&self, restart_never: bool) -> Value {
        let phase = self.phase(restart_never);
        let ready = self
            .main
            .iter()
            .all(|c| matches!(c.state, CState::Running { .. }));
        let init_done = self
            .init
            .iter()
            .all(|c| matches!(c.state, CState::Terminated { exit: 0, .. }));
        let condition = |kind: &str, ok: bool| json!({"type": kind, "status": if ok { "True" } else { "False" }, "lastTransitionTime": meta::now()});
        let mut status = json!({
            "phase": phase,
            "hostIP": "127.0.0.1",
            "podIP": "127.0.0.1",
            "podIPs": [{"ip": "127.0.0.1"}],
            "startTime": self.start_time,
            "qosClass": "BestEffort",
            "conditions": [
                condition("PodScheduled", true),
                condition("Initialized", init_done),
                condition("ContainersReady", ready),
                condition("Ready", ready),
            ],
            "containerStatuses": self.main.iter().map(|c| container_status(c, self.message_limit)).collect::<Vec<_>>(),
        });
        if !self.init.is_empty() {
            status["initContainerStatuses"] = json!(
                self.init
                    .iter()
                    .map(|c| container_status(c, self.message_limit))
                    .collect::<Vec<_>>()
            );
        }
        if self.deadline_exceeded {
            status["reason"] = json!("DeadlineExceeded");
            status["message"] =
                json!("Pod was active on the node longer than the specified deadline");
        }
        status
    }
}

fn container_status(c: &Container, message_limit: usize) -> Value {
    let (state, pid, started) = match &c.state {
        CState::Waiting { reason, message } => (
            json!({"waiting": {"reason": reason, "message": message}}),
            None,
            false,
        ),
        CState::Running { started, pid } => {
            (json!({"running": {"startedAt": started}}), Some(*pid), true)
        }
        CState::Terminated {
            exit,
            reason,
            message,
            started,
            finished,
            pid,
        } => {
            let mut t = json!({"exitCode": exit, "reason": reason, "startedAt": started, "finishedAt": finished, "containerID": format!("local://{pid}")});
            if !message.is_empty() {
                t["message"] = json!(message::cut(message, message_limit));
            }
            (json!({"terminated": t}), Some(*pid), false)
        }
    };
    let mut s = json!({
        "name": c.name,
        "image": c.image,
        "imageID": "",
        "ready": matches!(c.state, CState::Running { .. }),
        "started": started,
        "restartCount": c.restarts,
        "state": state,
    });
    if let Some(pid) = pid {
        s["containerID"] = json!(format!("local://{pid}"));
    }
    s
}

/// Writes the status of a Pod (retrying on concurrent changes).
pub(super) fn publish(cluster: &Cluster, pod: &Stored, status: Value) {
    let Some(rt) = pods_type(cluster) else {
        return;
    };
    let target = Target {
        rt: &rt,
        namespace: pod.namespace(),
        name: pod.name(),
    };
    let result = cluster.modify(target, true, &WriteOptions::component("kubelet"), |next| {
        next["status"] = status.clone();
    });
    if let Err(e) = result {
        tracing::warn!(pod = %pod.name(), error = %e, "kubelet could not write status");
    }
}

/// The containers of `key` (`containers`, `initContainers`), all waiting to be created.
pub(super) fn containers(spec: &Value, key: &str) -> Vec<Container> {
    spec[key]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| Container {
            name: c["name"].as_str().unwrap_or("").to_owned(),
            image: c["image"].as_str().unwrap_or("").to_owned(),
            state: CState::Waiting {
                reason: "ContainerCreating".into(),
                message: String::new(),
            },
            restarts: 0,
        })
        .collect()
}
