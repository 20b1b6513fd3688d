//! Kubelet mode: selected Pods run as local processes and report what happened in their
//! status, as a real kubelet would.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod support;

use img_tests::apiserver::Config;
use img_tests::apiserver::kubelet::KubeletConfig;
use k8s_openapi::api::core::v1::{
    ConfigMap, ContainerStateTerminated, Namespace, PersistentVolumeClaim, Pod, Secret,
};
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

/// Creates PersistentVolumeClaim `name` in `ns`.
async fn claim(client: &kube::Client, ns: &str, name: &str) {
    let pvcs: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), ns);
    let pvc = json!({
        "metadata": {"name": name},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
    });
    pvcs.create(
        &PostParams::default(),
        &serde_json::from_value(pvc).unwrap(),
    )
    .await
    .unwrap();
}

/// A Pod `name` running `script` with claim `claim` mounted at `path`.
fn claim_pod(name: &str, claim: &str, path: &str, script: &str) -> Pod {
    pod(
        name,
        json!({
            "restartPolicy": "Never",
            "volumes": [{"name": "store", "persistentVolumeClaim": {"claimName": claim}}],
            "containers": [{
                "name": "main", "image": "busybox",
                "command": ["sh", "-c", script],
                "volumeMounts": [{"name": "store", "mountPath": path}],
            }],
        }),
    )
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

fn read(path: std::path::PathBuf) -> String {
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[tokio::test]
async fn pods_sharing_a_claim_see_each_others_files() {
    let (server, client, _root) = kubelet_setup().await;
    let pods: Api<Pod> = Api::default_namespaced(client.clone());
    claim(&client, "default", "images").await;
    let writer = claim_pod(
        "writer",
        "images",
        "/images",
        "echo built > /images/app.tar",
    );
    pods.create(&PostParams::default(), &writer).await.unwrap();
    phase(&pods, "writer", "Succeeded").await;
    // Another Pod, mounting the claim elsewhere, sees the file and leaves one of its own.
    let script = "cat /var/store/app.tar > /dev/termination-log; echo seen > /var/store/ack";
    let reader = claim_pod("reader", "images", "/var/store", script);
    pods.create(&PostParams::default(), &reader).await.unwrap();
    let p = phase(&pods, "reader", "Succeeded").await;
    assert_eq!(terminated(&p, "main").message.as_deref(), Some("built\n"));
    let dir = server.pvc_dir("default", "images").unwrap();
    assert!(dir.ends_with("pvc/default/images"), "{}", dir.display());
    assert_eq!(read(dir.join("app.tar")), "built\n");
    assert_eq!(read(dir.join("ack")), "seen\n");
    // A claim of the same name in another namespace is another volume.
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let ns = serde_json::from_value(json!({"metadata": {"name": "other"}})).unwrap();
    namespaces
        .create(&PostParams::default(), &ns)
        .await
        .unwrap();
    claim(&client, "other", "images").await;
    let others: Api<Pod> = Api::namespaced(client, "other");
    let script = "echo \"files: $(ls -A /images)\" > /dev/termination-log; echo x > /images/mine";
    let lister = claim_pod("lister", "images", "/images", script);
    others
        .create(&PostParams::default(), &lister)
        .await
        .unwrap();
    let p = phase(&others, "lister", "Succeeded").await;
    assert_eq!(terminated(&p, "main").message.as_deref(), Some("files: \n"));
    let other_dir = server.pvc_dir("other", "images").unwrap();
    assert_ne!(other_dir, dir);
    assert!(other_dir.join("mine").is_file());
    assert!(!dir.join("mine").exists());
}

#[tokio::test]
async fn a_pod_waits_for_its_missing_claim() {
    let (server, client, _root) = kubelet_setup().await;
    let pods: Api<Pod> = Api::default_namespaced(client.clone());
    let waiter = claim_pod("waiter", "later", "/out", "echo ran > /out/ran");
    pods.create(&PostParams::default(), &waiter).await.unwrap();
    // The scheduler's verdict, and nothing started meanwhile.
    let p = eventually(10, || async {
        let p = pods.get("waiter").await.unwrap();
        let conditions = p.status.as_ref()?.conditions.clone()?;
        let c = conditions
            .iter()
            .find(|c| c.type_ == "PodScheduled")?
            .clone();
        Some((p, c))
    })
    .await;
    let (waiting, condition) = p;
    assert_eq!(condition.status, "False");
    assert_eq!(condition.reason.as_deref(), Some("Unschedulable"));
    let message = condition.message.unwrap();
    assert!(
        message.contains("persistentvolumeclaim \"later\" not found"),
        "{message}"
    );
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let p = pods.get("waiter").await.unwrap();
    // Written once: looking at the Pod again does not write it again.
    assert_eq!(
        p.metadata.resource_version,
        waiting.metadata.resource_version
    );
    assert_eq!(p.status.unwrap().phase.as_deref(), Some("Pending"));
    assert!(p.spec.unwrap().node_name.is_none());
    let dir = server.pvc_dir("default", "later").unwrap();
    assert!(!dir.exists());
    // The claim appears: the Pod is placed and runs.
    claim(&client, "default", "later").await;
    let p = phase(&pods, "waiter", "Succeeded").await;
    assert_eq!(
        p.spec.as_ref().unwrap().node_name.as_deref(),
        Some("test-node")
    );
    assert_eq!(read(dir.join("ran")), "ran\n");
}

#[tokio::test]
async fn sub_paths_are_mounted_and_made_when_missing() {
    let (server, client, _root) = kubelet_setup().await;
    let pods: Api<Pod> = Api::default_namespaced(client.clone());
    let cms: Api<ConfigMap> = Api::default_namespaced(client.clone());
    claim(&client, "default", "cache").await;
    let cm = json!({"metadata": {"name": "settings"}, "data": {"app.conf": "x=1\n", "other": "y"}});
    cms.create(&PostParams::default(), &serde_json::from_value(cm).unwrap())
        .await
        .unwrap();
    let spec = json!({
        "restartPolicy": "Never",
        "volumes": [
            {"name": "cache", "persistentVolumeClaim": {"claimName": "cache"}},
            {"name": "settings", "configMap": {"name": "settings"}},
        ],
        "containers": [{
            "name": "main", "image": "busybox",
            "command": ["sh", "-c"],
            "args": ["echo one > /cache/out; echo pod > /by-pod/out; \
                      cat /etc/app.conf > /dev/termination-log; ls /all/runs >> /dev/termination-log"],
            "env": [{"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}],
            "volumeMounts": [
                {"name": "cache", "mountPath": "/cache", "subPath": "runs/one"},
                {"name": "cache", "mountPath": "/by-pod", "subPathExpr": "pods/$(POD_NAME)"},
                {"name": "cache", "mountPath": "/all"},
                {"name": "settings", "mountPath": "/etc/app.conf", "subPath": "app.conf"},
            ],
        }],
    });
    pods.create(&PostParams::default(), &pod("sub-paths", spec))
        .await
        .unwrap();
    let p = phase(&pods, "sub-paths", "Succeeded").await;
    assert_eq!(
        terminated(&p, "main").message.as_deref(),
        Some("x=1\none\n")
    );
    let dir = server.pvc_dir("default", "cache").unwrap();
    assert_eq!(read(dir.join("runs/one/out")), "one\n");
    assert_eq!(read(dir.join("pods/sub-paths/out")), "pod\n");
    assert!(!dir.join("out").exists());
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

#[tokio::test]
async fn deleting_a_pod_sends_sigterm_first() {
    let (server, client, _root) = kubelet_setup().await;
    let pods: Api<Pod> = Api::default_namespaced(client.clone());
    claim(&client, "default", "signals").await;
    // Exits on SIGTERM, recording it; would otherwise run until SIGKILL.
    let script = "trap 'echo TERM > /out/signal; exit 0' TERM; echo ready > /out/ready; \
                  while :; do sleep 0.1; done";
    let mut p = claim_pod("graceful", "signals", "/out", script);
    p.spec.as_mut().unwrap().termination_grace_period_seconds = Some(30);
    pods.create(&PostParams::default(), &p).await.unwrap();
    let dir = server.pvc_dir("default", "signals").unwrap();
    eventually(10, || async { dir.join("ready").exists().then_some(()) }).await;
    let started = std::time::Instant::now();
    let params = DeleteParams {
        grace_period_seconds: Some(20),
        ..DeleteParams::default()
    };
    let deleting = pods.delete("graceful", &params).await.unwrap();
    // The delete's grace period wins over the Pod's.
    let deleting = deleting.left().expect("a graceful delete returns the Pod");
    assert_eq!(deleting.metadata.deletion_grace_period_seconds, Some(20));
    eventually(10, || async {
        pods.get_opt("graceful")
            .await
            .unwrap()
            .is_none()
            .then_some(())
    })
    .await;
    // Gone long before the grace period ended: SIGTERM came first, and it exited on it.
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    assert_eq!(read(dir.join("signal")), "TERM\n");
}
