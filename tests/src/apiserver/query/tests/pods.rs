use super::super::{IncludeObject, TableMeta, builtin_columns, table};
use jiff::Timestamp;
use serde_json::{Value, json};

fn now() -> Timestamp {
    "2024-05-01T12:00:00Z".parse().expect("valid")
}

fn pod(spec: Value, status: Value) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "p", "namespace": "default", "uid": "u", "resourceVersion": "9",
            "creationTimestamp": "2024-05-01T11:00:00Z",
        },
        "spec": spec,
        "status": status,
    })
}

fn one_container() -> Value {
    json!({"containers": [{"name": "main", "image": "busybox"}], "nodeName": "node-1", "restartPolicy": "Never"})
}

fn cells(object: &Value) -> Vec<Value> {
    let columns = builtin_columns("Pod").expect("pod columns");
    columns.iter().map(|c| c.cell(object, now())).collect()
}

/// READY, STATUS, RESTARTS of a pod.
fn summary(object: &Value) -> (String, String, String) {
    let c = cells(object);
    let s = |i: usize| c[i].as_str().unwrap_or_default().to_owned();
    (s(1), s(2), s(3))
}

fn owned(ready: &str, status: &str, restarts: &str) -> (String, String, String) {
    (ready.to_owned(), status.to_owned(), restarts.to_owned())
}

#[test]
fn pod_table_exact_json_for_completed_and_failed_pods() {
    let completed = pod(
        one_container(),
        json!({
            "phase": "Succeeded",
            "podIP": "10.0.0.5", "podIPs": [{"ip": "10.0.0.5"}],
            "containerStatuses": [{
                "name": "main", "ready": false, "restartCount": 0, "image": "busybox", "imageID": "",
                "state": {"terminated": {"exitCode": 0, "reason": "Completed",
                    "startedAt": "2024-05-01T11:00:05Z", "finishedAt": "2024-05-01T11:00:10Z"}},
            }],
        }),
    );
    let mut failed = pod(
        one_container(),
        json!({
            "phase": "Failed",
            "containerStatuses": [{
                "name": "main", "ready": false, "restartCount": 0,
                "state": {"terminated": {"exitCode": 3, "reason": "Error",
                    "finishedAt": "2024-05-01T11:00:10Z"}},
            }],
        }),
    );
    failed["metadata"]["name"] = json!("q");
    let columns = builtin_columns("Pod").expect("pod columns");
    let meta = TableMeta {
        resource_version: Some("100".to_owned()),
        ..TableMeta::default()
    };
    let got = table(
        &columns,
        &[&completed, &failed],
        &meta,
        IncludeObject::None,
        now(),
    );
    let name_desc = "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names";
    let created_desc = "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata";
    let expected = json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": "100"},
        "columnDefinitions": [
            {"name": "Name", "type": "string", "format": "name", "description": name_desc, "priority": 0},
            {"name": "Ready", "type": "string", "format": "", "description": "The aggregate readiness state of this pod for accepting traffic.", "priority": 0},
            {"name": "Status", "type": "string", "format": "", "description": "The aggregate status of the containers in this pod.", "priority": 0},
            {"name": "Restarts", "type": "string", "format": "", "description": "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.", "priority": 0},
            {"name": "Age", "type": "string", "format": "", "description": created_desc, "priority": 0},
            {"name": "IP", "type": "string", "format": "", "description": "podIP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.", "priority": 1},
            {"name": "Node", "type": "string", "format": "", "description": "NodeName indicates in which node this pod is scheduled. If empty, this pod is a candidate for scheduling by the scheduler defined in schedulerName. Once this field is set, the kubelet for this node becomes responsible for the lifecycle of this pod. This field should not be used to express a desire for the pod to be scheduled on a specific node. https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/#nodename", "priority": 1},
            {"name": "Nominated Node", "type": "string", "format": "", "description": "nominatedNodeName is set only when this pod preempts other pods on the node, but it cannot be scheduled right away as preemption victims receive their graceful termination periods. This field does not guarantee that the pod will be scheduled on this node. Scheduler may decide to place the pod elsewhere if other nodes become available sooner. Scheduler may also decide to give the resources on this node to a higher priority pod that is created after preemption. As a result, this field may be different than PodSpec.nodeName when the pod is scheduled.", "priority": 1},
            {"name": "Readiness Gates", "type": "string", "format": "", "description": "If specified, all readiness gates will be evaluated for pod readiness. A pod is ready when all its containers are ready AND all conditions specified in the readiness gates have status equal to \"True\" More info: https://git.k8s.io/enhancements/keps/sig-network/580-pod-readiness-gates", "priority": 1},
        ],
        "rows": [
            {
                "cells": ["p", "0/1", "Completed", "0", "60m", "10.0.0.5", "node-1", "<none>", "<none>"],
                "conditions": [{"type": "Completed", "status": "True", "reason": "Succeeded", "message": "The pod has completed successfully."}],
                "object": null,
            },
            {
                "cells": ["q", "0/1", "Error", "0", "60m", "<none>", "node-1", "<none>", "<none>"],
                "conditions": [{"type": "Completed", "status": "True", "reason": "Failed", "message": "The pod failed."}],
                "object": null,
            },
        ],
    });
    assert_eq!(got, expected);
}

#[test]
fn pod_status_cases() {
    let running = |ready: bool, restarts: i64| {
        json!({"name": "main", "ready": ready, "restartCount": restarts, "started": true,
               "state": {"running": {"startedAt": "2024-05-01T11:00:05Z"}},
               "lastState": if restarts > 0 {
                   json!({"terminated": {"exitCode": 1, "reason": "Error", "finishedAt": "2024-05-01T11:55:00Z"}})
               } else { json!({}) }})
    };
    let two = json!({"containers": [{"name": "main"}, {"name": "side"}]});
    let cases: Vec<(&str, Value, (String, String, String))> = vec![
        (
            "pending, creating",
            pod(
                one_container(),
                json!({"phase": "Pending",
            "containerStatuses": [{"name": "main", "ready": false, "restartCount": 0,
                "state": {"waiting": {"reason": "ContainerCreating"}}}]}),
            ),
            owned("0/1", "ContainerCreating", "0"),
        ),
        (
            "pending, nothing reported",
            pod(one_container(), json!({"phase": "Pending"})),
            owned("0/1", "Pending", "0"),
        ),
        (
            "scheduling gated",
            pod(
                one_container(),
                json!({"phase": "Pending",
            "conditions": [{"type": "PodScheduled", "status": "False", "reason": "SchedulingGated"}]}),
            ),
            owned("0/1", "SchedulingGated", "0"),
        ),
        (
            "evicted",
            pod(
                one_container(),
                json!({"phase": "Failed", "reason": "Evicted"}),
            ),
            owned("0/1", "Evicted", "0"),
        ),
        (
            "running with restarts",
            pod(
                two.clone(),
                json!({"phase": "Running",
            "conditions": [{"type": "Ready", "status": "True"}],
            "containerStatuses": [running(true, 2), running(true, 1)]}),
            ),
            owned("2/2", "Running", "3 (5m ago)"),
        ),
        (
            "crash loop",
            pod(
                one_container(),
                json!({"phase": "Running",
            "containerStatuses": [{"name": "main", "ready": false, "restartCount": 4,
                "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                "lastState": {"terminated": {"exitCode": 1, "finishedAt": "2024-05-01T11:59:00Z"}}}]}),
            ),
            owned("0/1", "CrashLoopBackOff", "4 (60s ago)"),
        ),
        (
            "first container's reason wins",
            pod(
                two.clone(),
                json!({"phase": "Running", "containerStatuses": [
                    {"name": "main", "ready": false, "restartCount": 0, "state": {"waiting": {"reason": "CrashLoopBackOff"}}},
                    {"name": "side", "ready": false, "restartCount": 0, "state": {"waiting": {"reason": "ContainerCreating"}}}]}),
            ),
            owned("0/2", "CrashLoopBackOff", "0"),
        ),
        (
            "killed without reason",
            pod(
                one_container(),
                json!({"phase": "Running",
            "containerStatuses": [{"name": "main", "ready": false, "restartCount": 0,
                "state": {"terminated": {"exitCode": 137, "signal": 9}}}]}),
            ),
            owned("0/1", "Signal:9", "0"),
        ),
        (
            "exit code without reason",
            pod(
                one_container(),
                json!({"phase": "Running",
            "containerStatuses": [{"name": "main", "ready": false, "restartCount": 0,
                "state": {"terminated": {"exitCode": 2}}}]}),
            ),
            owned("0/1", "ExitCode:2", "0"),
        ),
        (
            "completed main, running sidecar container",
            pod(
                two.clone(),
                json!({"phase": "Running",
            "conditions": [{"type": "Ready", "status": "False"}],
            "containerStatuses": [
                {"name": "main", "ready": false, "restartCount": 0, "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}},
                running(true, 0)]}),
            ),
            owned("1/2", "NotReady", "0"),
        ),
        (
            "init running",
            pod(
                json!({"initContainers": [{"name": "init"}, {"name": "init2"}], "containers": [{"name": "main"}]}),
                json!({"phase": "Pending",
                "initContainerStatuses": [
                    {"name": "init", "ready": false, "restartCount": 0, "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}},
                    {"name": "init2", "ready": false, "restartCount": 0, "state": {"running": {}}}],
                "containerStatuses": [{"name": "main", "ready": false, "restartCount": 0, "state": {"waiting": {"reason": "PodInitializing"}}}]}),
            ),
            owned("0/1", "Init:1/2", "0"),
        ),
        (
            "init failed",
            pod(
                json!({"initContainers": [{"name": "init"}], "containers": [{"name": "main"}]}),
                json!({"phase": "Pending",
                "initContainerStatuses": [{"name": "init", "ready": false, "restartCount": 2,
                    "state": {"terminated": {"exitCode": 1, "reason": "Error"}}}]}),
            ),
            owned("0/1", "Init:Error", "2"),
        ),
        (
            "init crash loop",
            pod(
                json!({"initContainers": [{"name": "init"}], "containers": [{"name": "main"}]}),
                json!({"phase": "Pending",
                "initContainerStatuses": [{"name": "init", "ready": false, "restartCount": 1,
                    "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]}),
            ),
            owned("0/1", "Init:CrashLoopBackOff", "1"),
        ),
        (
            "sidecar counted as container",
            pod(
                json!({"initContainers": [{"name": "proxy", "restartPolicy": "Always"}], "containers": [{"name": "main"}]}),
                json!({"phase": "Running",
                "conditions": [{"type": "Initialized", "status": "True"}, {"type": "Ready", "status": "True"}],
                "initContainerStatuses": [{"name": "proxy", "ready": true, "started": true, "restartCount": 1,
                    "state": {"running": {}},
                    "lastState": {"terminated": {"exitCode": 1, "finishedAt": "2024-05-01T10:00:00Z"}}}],
                "containerStatuses": [running(true, 0)]}),
            ),
            owned("2/2", "Running", "1 (120m ago)"),
        ),
    ];
    for (name, object, expected) in cases {
        assert_eq!(summary(&object), expected, "{name}");
    }
}

#[test]
fn terminating_and_wide_columns() {
    let mut terminating = pod(
        json!({"containers": [{"name": "main"}], "readinessGates": [{"conditionType": "example.com/ready"}, {"conditionType": "example.com/other"}]}),
        json!({"phase": "Running", "podIP": "10.0.0.7", "nominatedNodeName": "node-2",
            "conditions": [{"type": "example.com/ready", "status": "True"}, {"type": "example.com/other", "status": "False"}],
            "containerStatuses": [{"name": "main", "ready": true, "restartCount": 0, "state": {"running": {}}}]}),
    );
    terminating["metadata"]["deletionTimestamp"] = json!("2024-05-01T11:59:00Z");
    let c = cells(&terminating);
    assert_eq!(
        c,
        vec![
            json!("p"),
            json!("1/1"),
            json!("Terminating"),
            json!("0"),
            json!("60m"),
            json!("10.0.0.7"),
            json!("<none>"),
            json!("node-2"),
            json!("1/2"),
        ]
    );
    // A node-lost pod being deleted shows Unknown; a finished one keeps its status.
    let mut lost = pod(
        one_container(),
        json!({"phase": "Running", "reason": "NodeLost"}),
    );
    lost["metadata"]["deletionTimestamp"] = json!("2024-05-01T11:59:00Z");
    assert_eq!(summary(&lost).1, "Unknown");
    let mut done = pod(one_container(), json!({"phase": "Succeeded"}));
    done["metadata"]["deletionTimestamp"] = json!("2024-05-01T11:59:00Z");
    assert_eq!(summary(&done).1, "Succeeded");
    // Missing creation timestamp.
    let mut no_age = pod(one_container(), json!({}));
    no_age["metadata"]
        .as_object_mut()
        .expect("object")
        .remove("creationTimestamp");
    assert_eq!(cells(&no_age)[4], json!("<unknown>"));
}
