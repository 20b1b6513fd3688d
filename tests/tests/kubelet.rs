//! Kubelet mode: selected Pods run as local processes and report what happened in their
//! status, as a real kubelet would.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod support;

use img_tests::apiserver::Config;
use img_tests::apiserver::kubelet::KubeletConfig;
use k8s_openapi::api::core::v1::{ConfigMap, ContainerStateTerminated, Pod, Secret};
use kube::api::{Api, DeleteParams, LogParams, PostParams};
use serde_json::json;
use support::{eventually, setup_with};

const LABEL: &str = "img.example.org/run";

async fn kubelet_setup() -> (
    img_tests::apiserver::ApiServer,
    kube::Client,
    tempfile::TempDir,
) {
    let root = tempfile::tempdir().unwrap();
    let (server, client) = setup_with(Config {
        kubelet: Some(KubeletConfig {
            selector: format!("{LABEL}=local"),
            root: root.path().to_path_buf(),
            node_name: "test-node".into(),
        }),
        ..Config::default()
    })
    .await;
    (server, client, root)
}

fn pod(name: &str, spec: serde_json::Value) -> Pod {
    serde_json::from_value(json!({
        "metadata": {"name": name, "labels": {LABEL: "local"}},
        "spec": spec,
    }))
    .unwrap()
}

/// Waits until the Pod reaches `phase`, returning it.
async fn phase(pods: &Api<Pod>, name: &str, phase: &str) -> Pod {
    eventually(20, || async {
        let p = pods.get(name).await.unwrap();
        (p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some(phase)).then_some(p)
    })
    .await
}

#[tokio::test]
async fn a_failing_pod_reports_its_exit_code_and_termination_message() {
    let (_server, client, _root) = kubelet_setup().await;
    let pods: Api<Pod> = Api::default_namespaced(client);
    let spec = json!({
        "restartPolicy": "Never",
        "containers": [{
            "name": "main",
            "image": "busybox",
            "command": ["sh", "-c", "echo 'build failed: disk full' > /dev/termination-log; echo some output; exit 3"],
        }],
    });
    pods.create(&PostParams::default(), &pod("fails", spec))
        .await
        .unwrap();
    let p = phase(&pods, "fails", "Failed").await;
    assert_eq!(
        p.spec.as_ref().unwrap().node_name.as_deref(),
        Some("test-node")
    );
    let status = p.status.unwrap();
    let c = &status.container_statuses.unwrap()[0];
    let t = c.state.as_ref().unwrap().terminated.as_ref().unwrap();
    assert_eq!(t.exit_code, 3);
    assert_eq!(t.reason.as_deref(), Some("Error"));
    assert_eq!(t.message.as_deref(), Some("build failed: disk full\n"));
    assert!(t.started_at.is_some() && t.finished_at.is_some());
    assert!(!c.ready);
    let log = pods.logs("fails", &LogParams::default()).await.unwrap();
    assert_eq!(log, "some output\n");
}

#[tokio::test]
async fn volumes_env_and_init_containers_are_local() {
    let (_server, client, _root) = kubelet_setup().await;
    let cms: Api<ConfigMap> = Api::default_namespaced(client.clone());
    let secrets: Api<Secret> = Api::default_namespaced(client.clone());
    let pods: Api<Pod> = Api::default_namespaced(client);
    cms.create(
        &PostParams::default(),
        &serde_json::from_value(json!({
        "metadata": {"name": "job"}, "data": {"job.json": "{\"type\":\"raw\"}"}}))
        .unwrap(),
    )
    .await
    .unwrap();
    secrets
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({
        "metadata": {"name": "creds"}, "data": {"token": "czNjcjN0"}}))
            .unwrap(),
        )
        .await
        .unwrap();
    let spec = json!({
        "restartPolicy": "Never",
        "volumes": [
            {"name": "job", "configMap": {"name": "job"}},
            {"name": "work", "emptyDir": {}},
        ],
        "initContainers": [{
            "name": "prepare", "image": "busybox",
            "command": ["sh", "-c", "echo prepared > /work/ready"],
            "volumeMounts": [{"name": "work", "mountPath": "/work"}],
        }],
        "containers": [{
            "name": "main", "image": "busybox",
            "command": ["sh", "-c"],
            "args": ["printf '%s %s %s %s' \"$(cat /etc/img/job.json)\" \"$(cat /work/ready)\" \"$TOKEN\" \"$POD\" > /dev/termination-log"],
            "env": [
                {"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "token"}}},
                {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
            ],
            "volumeMounts": [
                {"name": "job", "mountPath": "/etc/img"},
                {"name": "work", "mountPath": "/work"},
            ],
        }],
    });
    pods.create(&PostParams::default(), &pod("uses-volumes", spec))
        .await
        .unwrap();
    let p = phase(&pods, "uses-volumes", "Succeeded").await;
    let status = p.status.unwrap();
    let init = &status.init_container_statuses.unwrap()[0];
    assert_eq!(
        init.state
            .as_ref()
            .unwrap()
            .terminated
            .as_ref()
            .unwrap()
            .exit_code,
        0
    );
    let t = status.container_statuses.unwrap()[0]
        .state
        .clone()
        .unwrap()
        .terminated
        .unwrap();
    assert_eq!(t.reason.as_deref(), Some("Completed"));
    assert_eq!(
        t.message.as_deref(),
        Some("{\"type\":\"raw\"} prepared s3cr3t uses-volumes")
    );
}

fn pid_of(p: &Pod) -> i32 {
    let id = p
        .status
        .as_ref()
        .unwrap()
        .container_statuses
        .as_ref()
        .unwrap()[0]
        .container_id
        .clone()
        .unwrap();
    id.trim_start_matches("local://").parse().unwrap()
}

fn alive(pid: i32) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
        && !std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .unwrap_or_default()
            .contains(") Z ")
}

/// Processes of process group `pgid` that are not zombies (a killed orphan may wait for
/// reaping by PID 1, which some sandboxes never do).
fn live_group_members(pgid: i32) -> Vec<i32> {
    let mut live = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // Fields after the command name: state, ppid, pgrp, ...
        let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
            continue;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        if fields.get(2) == Some(&pgid.to_string().as_str()) && fields.first() != Some(&"Z") {
            live.push(pid);
        }
    }
    live
}

#[tokio::test]
async fn deleting_a_running_pod_kills_its_processes() {
    let (_server, client, _root) = kubelet_setup().await;
    let pods: Api<Pod> = Api::default_namespaced(client);
    let spec = json!({
        "restartPolicy": "Never",
        "terminationGracePeriodSeconds": 1,
        "containers": [{
            "name": "main", "image": "busybox",
            // Ignores SIGTERM, as does its child: only the kill of the whole group after the
            // grace period ends them.
            "command": ["sh", "-c", "trap '' TERM; sleep 300 & echo ready; wait"],
        }],
    });
    pods.create(&PostParams::default(), &pod("sleeper", spec))
        .await
        .unwrap();
    let p = phase(&pods, "sleeper", "Running").await;
    // Running is reported when the process starts, before the shell has run `trap`.
    eventually(10, || async {
        let log = pods.logs("sleeper", &LogParams::default()).await.ok()?;
        (log == "ready\n").then_some(())
    })
    .await;
    let pid = pid_of(&p);
    assert!(alive(pid));
    let started = std::time::Instant::now();
    pods.delete("sleeper", &DeleteParams::default())
        .await
        .unwrap();
    // Deleting, not gone: the processes outlive SIGTERM for the grace period.
    let deleting = pods.get("sleeper").await.unwrap();
    assert!(deleting.metadata.deletion_timestamp.is_some());
    assert_eq!(deleting.metadata.deletion_grace_period_seconds, Some(1));
    eventually(10, || async {
        pods.get_opt("sleeper")
            .await
            .unwrap()
            .is_none()
            .then_some(())
    })
    .await;
    assert!(
        started.elapsed() >= std::time::Duration::from_millis(900),
        "killed before the grace period ended"
    );
    assert!(!alive(pid), "process {pid} survived its Pod");
    let survivors = live_group_members(pid);
    assert!(survivors.is_empty(), "group {pid} survived: {survivors:?}");
}

#[tokio::test]
async fn an_active_deadline_fails_the_pod() {
    let (_server, client, _root) = kubelet_setup().await;
    let pods: Api<Pod> = Api::default_namespaced(client);
    let spec = json!({
        "restartPolicy": "Never",
        "activeDeadlineSeconds": 1,
        "containers": [{"name": "main", "image": "busybox", "command": ["sleep", "300"]}],
    });
    pods.create(&PostParams::default(), &pod("slow", spec))
        .await
        .unwrap();
    let p = phase(&pods, "slow", "Failed").await;
    assert_eq!(
        p.status.unwrap().reason.as_deref(),
        Some("DeadlineExceeded")
    );
}

#[tokio::test]
async fn pods_outside_the_selector_are_left_alone() {
    let (_server, client, _root) = kubelet_setup().await;
    let pods: Api<Pod> = Api::default_namespaced(client);
    let mut p = pod(
        "elsewhere",
        json!({"containers": [{"name": "main", "image": "x", "command": ["true"]}]}),
    );
    p.metadata.labels = None;
    pods.create(&PostParams::default(), &p).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let p = pods.get("elsewhere").await.unwrap();
    assert_eq!(p.status.unwrap().phase.as_deref(), Some("Pending"));
    assert!(p.spec.unwrap().node_name.is_none());
    // Unbound Pods are deleted at once, as on a real server.
    pods.delete("elsewhere", &DeleteParams::default())
        .await
        .unwrap();
    assert!(pods.get_opt("elsewhere").await.unwrap().is_none());
}

/// The terminated state of container `name` (init or not) of `p`.
fn terminated(p: &Pod, name: &str) -> ContainerStateTerminated {
    let status = p.status.as_ref().unwrap();
    let all = status.container_statuses.iter().flatten();
    let c = all
        .chain(status.init_container_statuses.iter().flatten())
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no status for container {name}"));
    c.state.clone().unwrap().terminated.unwrap()
}

/// A shell loop printing 1024 numbered 10-byte lines (10 KiB), and what it prints.
const TEN_KIB: &str = "i=0; while [ $i -lt 1024 ]; do printf '%09d\\n' $i; i=$((i+1)); done";

fn ten_kib() -> String {
    (0..1024).map(|i| format!("{i:09}\n")).collect()
}

#[tokio::test]
async fn a_long_termination_message_keeps_its_last_4096_bytes() {
    let (_server, client, _root) = kubelet_setup().await;
    let pods: Api<Pod> = Api::default_namespaced(client);
    let spec = json!({
        "restartPolicy": "Never",
        "containers": [{
            "name": "main", "image": "busybox",
            "command": ["sh", "-c", format!("{{ {TEN_KIB}; }} > /dev/termination-log; exit 1")],
        }],
    });
    pods.create(&PostParams::default(), &pod("talkative", spec))
        .await
        .unwrap();
    let p = phase(&pods, "talkative", "Failed").await;
    let message = terminated(&p, "main").message.unwrap();
    let full = ten_kib();
    assert_eq!(message.len(), 4096);
    // The end of the file, as the real kubelet reads it.
    assert_eq!(message, full[full.len() - 4096..]);
}

#[tokio::test]
async fn termination_messages_share_12_kib_across_a_pods_containers() {
    let (_server, client, _root) = kubelet_setup().await;
    let pods: Api<Pod> = Api::default_namespaced(client);
    let container = |name: &str| {
        json!({"name": name, "image": "busybox",
               "command": ["sh", "-c", format!("{{ {TEN_KIB}; }} > /dev/termination-log")]})
    };
    let spec = json!({
        "restartPolicy": "Never",
        "initContainers": [container("init")],
        "containers": [container("a"), container("b"), container("c")],
    });
    pods.create(&PostParams::default(), &pod("four", spec))
        .await
        .unwrap();
    let p = phase(&pods, "four", "Succeeded").await;
    let full = ten_kib();
    // The last 4096 bytes of each file, of which the first 12 KiB / 4 are kept.
    let expected = &full[full.len() - 4096..][..3072];
    for name in ["init", "a", "b", "c"] {
        assert_eq!(
            terminated(&p, name).message.as_deref(),
            Some(expected),
            "{name}"
        );
    }
}

#[tokio::test]
async fn fallback_to_logs_on_error_uses_the_end_of_the_log() {
    let (_server, client, _root) = kubelet_setup().await;
    let pods: Api<Pod> = Api::default_namespaced(client);
    let container = |name: &str, policy: &str, script: &str| {
        json!({"name": name, "image": "busybox", "terminationMessagePolicy": policy,
               "command": ["sh", "-c", script]})
    };
    let fallback = "FallbackToLogsOnError";
    let lines = "i=0; while [ $i -lt 100 ]; do echo \"line $i\"; i=$((i+1)); done";
    let long = "i=0; while [ $i -lt 100 ]; do printf '%029d\\n' $i; i=$((i+1)); done";
    let spec = json!({
        "restartPolicy": "Never",
        "containers": [
            container("lines", fallback, &format!("{lines}; exit 2")),
            container("long", fallback, &format!("{long}; exit 2")),
            container("succeeds", fallback, &format!("{lines}; exit 0")),
            container("file-wins", fallback, &format!("{lines}; echo from file > /dev/termination-log; exit 2")),
            container("file-policy", "File", &format!("{lines}; exit 2")),
        ],
    });
    pods.create(&PostParams::default(), &pod("fallback", spec))
        .await
        .unwrap();
    let p = phase(&pods, "fallback", "Failed").await;
    // The last 80 lines...
    let last_80: String = (20..100).map(|i| format!("line {i}\n")).collect();
    assert_eq!(
        terminated(&p, "lines").message.as_deref(),
        Some(last_80.as_str())
    );
    // ...of which the last 2048 bytes.
    let long: String = (0..100).map(|i| format!("{i:029}\n")).collect();
    assert_eq!(
        terminated(&p, "long").message.as_deref(),
        Some(&long[long.len() - 2048..])
    );
    // Only on failure, only with an empty file, only with the policy.
    assert_eq!(terminated(&p, "succeeds").message, None);
    assert_eq!(
        terminated(&p, "file-wins").message.as_deref(),
        Some("from file\n")
    );
    assert_eq!(terminated(&p, "file-policy").message, None);
}
