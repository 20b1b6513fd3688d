//! A job's life: success with its artifacts, failures, crash, timeout, cancel, delete, TTL.

use std::time::Duration;

use img_crd::conditions::{reasons, types};
use img_crd::{ImageJob, Phase};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::api::events::v1::Event;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams};
use serde_json::json;

use crate::env::{Env, spec};

fn condition<'a>(job: &'a ImageJob, type_: &str) -> (&'a str, &'a str) {
    let c = job
        .status
        .as_ref()
        .unwrap()
        .conditions
        .iter()
        .find(|c| c.type_ == type_)
        .unwrap_or_else(|| panic!("no {type_} condition"));
    (c.status.as_str(), c.reason.as_str())
}

/// GET `path` from `addr`; the status line and body.
async fn http_get(addr: std::net::SocketAddr, path: &str) -> (String, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(format!("GET {path} HTTP/1.0\r\nHost: x\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut text = String::new();
    stream.read_to_string(&mut text).await.unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    (head.lines().next().unwrap().to_owned(), body.to_owned())
}

#[tokio::test]
async fn a_job_runs_to_success_with_its_artifacts_stages_events_and_metrics() {
    let env = Env::start().await;
    let operator = env.operator(&[]).await;
    let created = env.create("default", "nb", spec("succeed")).await;
    let job = env.wait_phase("default", "nb", Phase::Succeeded).await;
    let status = job.status.clone().unwrap();
    let uid = created.metadata.uid.clone().unwrap();

    assert_eq!(status.legacy_id.as_deref(), Some(uid.as_str()));
    assert_eq!(status.image_type.map(|t| t.as_str()), Some("raw"));
    assert_eq!(status.queue_position, None);
    assert_eq!(status.runner_pod.as_deref(), Some("nb-runner"));
    assert!(status.queued_time.is_some() && status.start_time.is_some());
    assert!(status.completion_time.is_some());
    let ks = status.kickstart.as_ref().unwrap();
    assert_eq!(
        ks.bytes,
        spec("succeed").source.kickstart.unwrap().len() as u64
    );
    assert_eq!(
        ks.text, None,
        "an inline kickstart is not repeated in status"
    );

    let artifact = &status.artifacts[0];
    assert_eq!(artifact.name, "nb.raw");
    assert_eq!(
        artifact.url.as_deref(),
        Some("http://img.test/images/default/nb/nb.raw")
    );
    let on_disk = env.images_dir("default").join("default/nb/nb.raw");
    assert_eq!(std::fs::metadata(&on_disk).unwrap().len(), artifact.size);
    let log = status.log.as_ref().unwrap();
    assert_eq!(log.path, "default/nb/nb.log");
    assert_eq!(log.url.as_deref(), Some("http://img.test/job/default/nb"));
    assert_eq!(status.stages[0].name, img_crd::Stage::Build);

    assert_eq!(condition(&job, types::ACCEPTED), ("True", reasons::VALID));
    assert_eq!(
        condition(&job, types::RUNNING),
        ("False", reasons::RUNNER_FINISHED)
    );
    assert_eq!(
        condition(&job, types::SUCCEEDED),
        ("True", reasons::IMAGE_BUILT)
    );
    let generation = job.metadata.generation;
    assert!(
        status
            .conditions
            .iter()
            .all(|c| c.observed_generation == generation)
    );
    assert_eq!(status.observed_generation, generation);
    assert_eq!(env.starts("default", "nb"), 1);

    let events: Api<Event> = Api::namespaced(env.client.clone(), "default");
    let reasons: Vec<String> = events
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter(|e| e.regarding.as_ref().and_then(|r| r.name.as_deref()) == Some("nb"))
        .filter_map(|e| e.reason)
        .collect();
    assert_eq!(reasons, ["Queued", "Started", "Succeeded"]);

    let (line, body) = http_get(operator.admin_addr, "/metrics").await;
    assert!(line.contains("200"), "{line}");
    assert!(
        body.contains("img_jobs_finished_total{phase=\"Succeeded\",reason=\"ImageBuilt\"} 1"),
        "{body}"
    );
    assert!(body.contains("img_leader 1"), "{body}");
    assert!(
        http_get(operator.admin_addr, "/healthz")
            .await
            .0
            .contains("200")
    );
    assert!(
        http_get(operator.admin_addr, "/readyz")
            .await
            .0
            .contains("200")
    );
    operator.shutdown().await.unwrap();
}

#[tokio::test]
async fn failures_and_crashes_end_with_their_reasons() {
    let env = Env::start().await;
    let _operator = env.operator(&["--max-running", "2"]).await;
    env.create("default", "broken", spec("fail")).await;
    env.create("default", "crashing", spec("crash")).await;

    let job = env.wait_phase("default", "broken", Phase::Failed).await;
    let status = job.status.clone().unwrap();
    assert_eq!(status.reason.as_deref(), Some(reasons::BUILD_FAILED));
    assert_eq!(
        status.message.as_deref(),
        Some("mic2 exited with status 1: no package 'nonexistent'")
    );
    assert_eq!(
        condition(&job, types::FAILED),
        ("True", reasons::BUILD_FAILED)
    );
    assert_eq!(status.log.unwrap().path, "default/broken/broken.log");

    let job = env.wait_phase("default", "crashing", Phase::Failed).await;
    let status = job.status.unwrap();
    assert_eq!(status.reason.as_deref(), Some(reasons::RUNNER_CRASHED));
    let message = status.message.unwrap();
    assert!(
        message.contains("killed by signal 6")
            && message.contains("simulated crash of default/crashing"),
        "{message}"
    );
}

#[tokio::test]
async fn a_hanging_build_times_out_and_its_runner_is_stopped() {
    let env = Env::start().await;
    let _operator = env.operator(&[]).await;
    let mut s = spec("hang");
    s.runner.timeout_seconds = Some(1);
    env.create("default", "stuck", s).await;
    let job = env.wait_phase("default", "stuck", Phase::Failed).await;
    let status = job.status.unwrap();
    assert_eq!(status.reason.as_deref(), Some(reasons::TIMEOUT));
    assert!(
        env.records()
            .iter()
            .all(|l| !l.starts_with("end default/stuck")),
        "the runner never finished: {:?}",
        env.records()
    );
}

#[tokio::test]
async fn cancel_takes_a_job_out_of_the_queue_or_stops_its_runner() {
    let env = Env::start().await;
    let _operator = env.operator(&["--max-running", "1"]).await;
    env.create("default", "running", spec("hang")).await;
    env.wait_phase("default", "running", Phase::Running).await;
    env.create("default", "waiting", spec("succeed")).await;
    env.wait_for("default", "waiting", "first in the queue", |j| {
        j.status.as_ref().and_then(|s| s.queue_position) == Some(1)
    })
    .await;

    let cancel = Patch::Merge(json!({"spec": {"cancel": true}}));
    let jobs = env.jobs("default");
    jobs.patch("waiting", &PatchParams::default(), &cancel)
        .await
        .unwrap();
    let job = env.wait_phase("default", "waiting", Phase::Cancelled).await;
    assert_eq!(
        job.status.unwrap().message.as_deref(),
        Some("cancelled (spec.cancel) before it started")
    );
    assert_eq!(env.starts("default", "waiting"), 0);

    jobs.patch("running", &PatchParams::default(), &cancel)
        .await
        .unwrap();
    let job = env.wait_phase("default", "running", Phase::Cancelled).await;
    assert_eq!(condition(&job, types::FAILED), ("True", reasons::CANCELLED));
    let pods: Api<Pod> = Api::namespaced(env.client.clone(), "default");
    crate::support::eventually(30, || {
        let pods = pods.clone();
        async move {
            pods.get_opt("running-runner")
                .await
                .unwrap()
                .is_none()
                .then_some(())
        }
    })
    .await;
}

#[tokio::test]
async fn deleting_a_running_job_stops_it_and_removes_its_files() {
    let env = Env::start().await;
    let _operator = env.operator(&[]).await;
    env.create("default", "doomed", spec("hang")).await;
    env.wait_phase("default", "doomed", Phase::Running).await;
    let dir = env.images_dir("default").join("default/doomed");
    crate::support::eventually(30, || {
        let log = dir.join("doomed.log");
        async move { log.exists().then_some(()) }
    })
    .await;

    env.jobs("default")
        .delete("doomed", &DeleteParams::default())
        .await
        .unwrap();
    env.wait_gone("default", "doomed").await;
    assert!(
        !dir.exists(),
        "the job's files are removed: {:?}",
        env.records()
    );
    assert!(
        env.records()
            .iter()
            .any(|l| l.starts_with("clean ") && l.ends_with("/default/doomed"))
    );
    let pods: Api<Pod> = Api::namespaced(env.client.clone(), "default");
    crate::support::eventually(30, || {
        let pods = pods.clone();
        async move {
            pods.list(&ListParams::default())
                .await
                .unwrap()
                .items
                .is_empty()
                .then_some(())
        }
    })
    .await;
}

#[tokio::test]
async fn a_job_that_never_ran_goes_without_a_cleanup_pod() {
    let env = Env::start().await;
    let _operator = env.operator(&["--max-running", "1"]).await;
    env.create("default", "busy", spec("hang")).await;
    env.wait_phase("default", "busy", Phase::Running).await;
    env.create("default", "queued", spec("succeed")).await;
    env.wait_phase("default", "queued", Phase::Queued).await;
    env.jobs("default")
        .delete("queued", &DeleteParams::default())
        .await
        .unwrap();
    env.wait_gone("default", "queued").await;
    assert_eq!(env.starts("default", "queued"), 0);
    assert!(
        env.records().iter().all(|l| !l.starts_with("clean ")),
        "{:?}",
        env.records()
    );
}

#[tokio::test]
async fn finished_jobs_go_after_their_ttl_unless_pinned() {
    let env = Env::start().await;
    let _operator = env.operator(&["--max-running", "2"]).await;
    let mut short = spec("succeed");
    short.ttl_seconds_after_finished = Some(1);
    let mut pinned = short.clone();
    pinned.pinned = true;
    env.create("default", "short", short).await;
    env.create("default", "pinned", pinned).await;
    env.wait_gone("default", "short").await;
    assert!(!env.images_dir("default").join("default/short").exists());
    env.wait_phase("default", "pinned", Phase::Succeeded).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(
        env.jobs("default")
            .get_opt("pinned")
            .await
            .unwrap()
            .is_some()
    );
}
