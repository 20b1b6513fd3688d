//! `cargo bench -p img-operator --bench notify`: the AMQP bridge end to end against a private
//! RabbitMQ broker (Debian's, started by `scripts/rabbitmq-server`) and the loopback API
//! server, with the operator as its own process.
//!
//! 1. Egress: 5,000 finished ImageJobs, each owed `result_queue` and `link_queue`; the operator
//!    starts and publishes the 10,000 messages with publisher confirms and records each in
//!    status. Prints notifications per second (target ≥ 2,000/s), measured from the first
//!    message confirmed to the last one recorded in status.
//! 2. Ingress: 2,000 `image_queue` messages published at once; prints ImageJobs created per
//!    second until all exist.

use std::process::Stdio;
use std::time::{Duration, Instant};

use futures::StreamExt;
use img_crd::{Artifact, ImageJob, ImageJobSpec, ImageJobStatus, Phase, Source, labels};
use img_tests::apiserver::{ApiServer, Config};
use img_tests::services::rabbitmq::RabbitMq;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, CustomResourceExt};
use lapin::options::{BasicPublishOptions, ConfirmSelectOptions, QueueDeclareOptions};
use lapin::types::FieldTable;
use lapin::{BasicProperties, Connection, ConnectionProperties};

const FINISHED_JOBS: usize = 5_000;
const INGRESS_MESSAGES: usize = 2_000;
const CONCURRENCY: usize = 64;

async fn client(server: &ApiServer) -> Client {
    let kubeconfig = Kubeconfig::from_yaml(&server.kubeconfig()).expect("kubeconfig");
    Client::try_from(
        kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
            .await
            .expect("config"),
    )
    .expect("client")
}

fn finished(i: usize) -> (ImageJob, ImageJobStatus) {
    let name = format!("done-{i:05}");
    let job = ImageJob::new(
        &name,
        ImageJobSpec {
            source: Source {
                kickstart: Some("%packages\n%end\n".into()),
                ..Default::default()
            },
            ..Default::default()
        },
    );
    let now = Time(jiff::Timestamp::now());
    let status = ImageJobStatus {
        phase: Some(Phase::Succeeded),
        legacy_id: Some(format!("bench-{i}")),
        start_time: Some(now.clone()),
        completion_time: Some(now),
        artifacts: vec![Artifact {
            name: format!("{name}.raw"),
            size: 1,
            sha256: "00".into(),
            url: Some(format!("http://img.bench/images/default/{name}/{name}.raw")),
        }],
        ..Default::default()
    };
    (job, status)
}

/// How many messages `queue` holds.
async fn depth(connection: &Connection, queue: &str) -> u32 {
    let channel = connection.create_channel().await.expect("channel");
    let passive = QueueDeclareOptions {
        passive: true,
        ..Default::default()
    };
    let count = channel
        .queue_declare(queue.into(), passive, FieldTable::default())
        .await
        .map_or(0, |q| q.message_count());
    let _ = channel.close(200, "bye".into()).await;
    count
}

fn recorded(jobs: &[ImageJob]) -> usize {
    jobs.iter()
        .filter(|j| {
            j.status
                .as_ref()
                .and_then(|s| s.notifications.as_ref())
                .is_some_and(|n| n.amqp.len() == 2)
        })
        .count()
}

#[tokio::main]
async fn main() {
    if !RabbitMq::available() {
        eprintln!("skipped: needs Debian's rabbitmq-server (scripts/lib.sh: amqp_tools)");
        return;
    }
    let broker = tokio::task::spawn_blocking(|| RabbitMq::start().expect("RabbitMQ"))
        .await
        .expect("join");
    let server = ApiServer::start(Config::default()).await.expect("server");
    let dir = tempfile::tempdir().expect("tempdir");
    let kubeconfig_path = dir.path().join("kubeconfig");
    std::fs::write(&kubeconfig_path, server.kubeconfig()).expect("kubeconfig");
    let client = client(&server).await;
    Api::<CustomResourceDefinition>::all(client.clone())
        .create(&PostParams::default(), &ImageJob::crd())
        .await
        .expect("crd");
    let jobs: Api<ImageJob> = Api::namespaced(client.clone(), "default");

    // Finished jobs, owed their messages, before the operator starts.
    futures::stream::iter(0..FINISHED_JOBS)
        .for_each_concurrent(CONCURRENCY, |i| {
            let jobs = jobs.clone();
            async move {
                let (job, status) = finished(i);
                let name = job.metadata.name.clone().expect("name");
                jobs.create(&PostParams::default(), &job)
                    .await
                    .expect("create");
                jobs.patch_status(
                    &name,
                    &PatchParams::default(),
                    &Patch::Merge(serde_json::json!({ "status": status })),
                )
                .await
                .expect("status");
            }
        })
        .await;

    let admin = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("port");
        l.local_addr().expect("addr").to_string()
    };
    let started = Instant::now();
    let mut operator = tokio::process::Command::new(env!("CARGO_BIN_EXE_img-operator"))
        .env("KUBECONFIG", &kubeconfig_path)
        .env("RUST_LOG", "warn")
        .args(["--admin-addr", &admin, "--lease-namespace", "default"])
        .args([
            "--amqp-url",
            &broker.url(),
            "--amqp-ingress-namespace",
            "default",
        ])
        .args(["--public-url", "http://img.bench"])
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("img-operator");

    let connection = Connection::connect(&broker.url(), ConnectionProperties::default())
        .await
        .expect("bench connection");
    let wanted = (2 * FINISHED_JOBS) as u32;
    let mut first = None;
    let all_confirmed = loop {
        let n = depth(&connection, "link_queue").await + depth(&connection, "result_queue").await;
        if n > 0 && first.is_none() {
            first = Some(Instant::now());
        }
        if n >= wanted {
            break Instant::now();
        }
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "only {n} of {wanted} published"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let all_recorded = loop {
        let listed = jobs.list(&ListParams::default()).await.expect("list").items;
        if recorded(&listed) == FINISHED_JOBS {
            break Instant::now();
        }
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "not all recorded"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let first = first.expect("first message");
    let confirmed = all_confirmed.duration_since(first).as_secs_f64();
    let to_record = all_recorded.duration_since(first).as_secs_f64();
    let extra = depth(&connection, "link_queue").await + depth(&connection, "result_queue").await;

    // Ingress: messages published with confirms as fast as one channel goes.
    let channel = connection.create_channel().await.expect("channel");
    channel
        .confirm_select(ConfirmSelectOptions::default())
        .await
        .expect("confirms");
    let publish_start = Instant::now();
    let confirms = futures::future::join_all((0..INGRESS_MESSAGES).map(|i| {
        let channel = channel.clone();
        async move {
            let body = serde_json::json!({"email": "", "id": format!("in-{i}"), "imagetype": "raw", "ksfile": "%packages\n%end\n"});
            channel
                .basic_publish(
                    "image_exchange".into(),
                    "image_queue".into(),
                    BasicPublishOptions::default(),
                    body.to_string().as_bytes(),
                    BasicProperties::default().with_delivery_mode(2),
                )
                .await
                .expect("publish")
                .await
                .expect("confirm")
        }
    }))
    .await;
    assert!(confirms.iter().all(|c| c.is_ack()));
    let published = publish_start.elapsed().as_secs_f64();
    let selector = format!("{}={}", labels::ORIGIN, labels::ORIGIN_AMQP);
    let ingested = loop {
        let n = jobs
            .list_metadata(&ListParams::default().labels(&selector))
            .await
            .expect("list")
            .items
            .len();
        if n == INGRESS_MESSAGES {
            break publish_start.elapsed().as_secs_f64();
        }
        assert!(
            publish_start.elapsed() < Duration::from_secs(300),
            "only {n} jobs"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };

    println!(
        "egress: {wanted} result messages (link_queue + result_queue for {FINISHED_JOBS} finished jobs), publisher confirms"
    );
    println!(
        "  all confirmed {confirmed:.2} s after the first: {:.0} notifications/s (target >= 2000/s)",
        f64::from(wanted) / confirmed
    );
    println!(
        "  all recorded in status {to_record:.2} s after the first: {:.0} notifications/s end to end",
        f64::from(wanted) / to_record
    );
    println!(
        "  operator start to first message: {:.2} s; messages beyond the {wanted}: {}",
        first.duration_since(started).as_secs_f64(),
        extra.saturating_sub(wanted)
    );
    println!(
        "ingress: {INGRESS_MESSAGES} image_queue messages published in {published:.2} s; all ImageJobs created after {ingested:.2} s: {:.0} messages/s",
        INGRESS_MESSAGES as f64 / ingested
    );
    let _ = operator.start_kill();
    let _ = operator.wait().await;
    drop(broker);
}
