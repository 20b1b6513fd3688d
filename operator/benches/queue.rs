//! `cargo bench -p img-operator --bench queue`: 10,000 ImageJobs created at once against the
//! loopback API server, with the operator as its own process (`img-operator`, so its memory
//! is its own) and four runner slots. Prints the time until every job has its correct phase
//! and queue position, reconciles per second, status writes per job (each one a change), that
//! nothing is written once the queue has settled, and the operator's memory. Targets: all
//! queued in under 30 s, RSS under 150 MB.

use std::collections::HashMap;
use std::process::Stdio;
use std::time::{Duration, Instant};

use futures::StreamExt;
use img_crd::{ImageJob, ImageJobSpec, Phase, Source};
use img_tests::apiserver::{ApiServer, Config};
use k8s_openapi::api::core::v1::PersistentVolumeClaim;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, ListParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, CustomResourceExt};

const JOBS: usize = 10_000;
const RUNNERS: usize = 4;
const CREATE_CONCURRENCY: usize = 64;

fn memory_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// The value of metric `name` (a line `name VALUE` or `name{labels} VALUE`, summed).
fn metric(text: &str, name: &str) -> f64 {
    text.lines()
        .filter(|l| l.starts_with(name) && !l.starts_with('#'))
        .filter(|l| {
            let rest = &l[name.len()..];
            rest.starts_with(' ') || rest.starts_with('{')
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

async fn scrape(addr: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.expect("admin");
    s.write_all(b"GET /metrics HTTP/1.0\r\nHost: x\r\n\r\n")
        .await
        .expect("request");
    let mut text = String::new();
    s.read_to_string(&mut text).await.expect("metrics");
    text
}

fn spec(i: usize) -> ImageJobSpec {
    ImageJobSpec {
        source: Source {
            kickstart: Some(format!(
                "# -*-mic2-options-*- -f raw -*-mic2-options-*-\n# job {i}\nlang en_US.UTF-8\n%packages\n@Core\n%end\n"
            )),
            ..Default::default()
        },
        // A tenth of the jobs jump the queue.
        priority: if i.is_multiple_of(10) { 1 } else { 0 },
        ..Default::default()
    }
}

/// Whether every job has the phase and position the queue should give it.
fn settled(jobs: &[ImageJob], expected: &HashMap<String, usize>) -> bool {
    jobs.len() == JOBS
        && jobs.iter().all(|j| {
            let Some(&rank) = j.metadata.name.as_ref().and_then(|n| expected.get(n)) else {
                return false;
            };
            let status = j.status.as_ref();
            let phase = status.and_then(|s| s.phase);
            let position = status.and_then(|s| s.queue_position);
            if rank < RUNNERS {
                phase == Some(Phase::Running)
            } else {
                phase == Some(Phase::Queued) && position == Some((rank - RUNNERS + 1) as u32)
            }
        })
}

#[tokio::main]
async fn main() {
    let server = ApiServer::start(Config::default()).await.expect("server");
    let dir = tempfile::tempdir().expect("tempdir");
    let kubeconfig_path = dir.path().join("kubeconfig");
    std::fs::write(&kubeconfig_path, server.kubeconfig()).expect("kubeconfig");
    let kubeconfig = Kubeconfig::from_yaml(&server.kubeconfig()).expect("kubeconfig");
    let client = Client::try_from(
        kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
            .await
            .expect("config"),
    )
    .expect("client");
    Api::<CustomResourceDefinition>::all(client.clone())
        .create(&PostParams::default(), &ImageJob::crd())
        .await
        .expect("crd");
    let claims: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), "default");
    for name in ["img-images", "img-base-disk"] {
        let mut c = PersistentVolumeClaim::default();
        c.metadata.name = Some(name.into());
        claims
            .create(&PostParams::default(), &c)
            .await
            .expect("claim");
    }

    let admin = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("port");
        l.local_addr().expect("addr").to_string()
    };
    let mut operator = tokio::process::Command::new(env!("CARGO_BIN_EXE_img-operator"))
        .env("KUBECONFIG", &kubeconfig_path)
        .env("RUST_LOG", "warn")
        .args([
            "--admin-addr",
            &admin,
            "--max-running",
            &RUNNERS.to_string(),
            "--lease-namespace",
            "default",
        ])
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("img-operator");
    let pid = operator.id().expect("pid");
    // Leading (the metric appears once the Lease is held).
    loop {
        if let Ok(s) = tokio::net::TcpStream::connect(&admin).await {
            drop(s);
            if metric(&scrape(&admin).await, "img_leader") == 1.0 {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let idle_kib = memory_kib(pid, "VmRSS:");

    let names: Vec<String> = (0..JOBS).map(|i| format!("job-{i:05}")).collect();

    let jobs: Api<ImageJob> = Api::namespaced(client.clone(), "default");
    let start = Instant::now();
    futures::stream::iter(0..JOBS)
        .for_each_concurrent(CREATE_CONCURRENCY, |i| {
            let jobs = jobs.clone();
            let name = names[i].clone();
            async move {
                jobs.create(&PostParams::default(), &ImageJob::new(&name, spec(i)))
                    .await
                    .expect("create");
            }
        })
        .await;
    let created = start.elapsed();
    // Expected order: priority first, then creation time (seconds), then name.
    let listed = jobs.list(&ListParams::default()).await.expect("list").items;
    let mut keyed: Vec<(bool, i64, String)> = listed
        .iter()
        .map(|j| {
            (
                j.spec.priority == 0,
                j.metadata
                    .creation_timestamp
                    .as_ref()
                    .map_or(0, |t| t.0.as_second()),
                j.metadata.name.clone().unwrap_or_default(),
            )
        })
        .collect();
    keyed.sort();
    let expected: HashMap<String, usize> = keyed
        .into_iter()
        .enumerate()
        .map(|(rank, (_, _, name))| (name, rank))
        .collect();

    let settled_after = loop {
        let all = jobs.list(&ListParams::default()).await.expect("list").items;
        if settled(&all, &expected) {
            break start.elapsed();
        }
        assert!(start.elapsed() < Duration::from_secs(300), "did not settle");
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    let peak_kib = memory_kib(pid, "VmHWM:");
    let rss_kib = memory_kib(pid, "VmRSS:");
    let metrics = scrape(&admin).await;
    let reconciles = metric(&metrics, "img_reconciles_total");
    let writes = metric(&metrics, "img_status_writes_total");

    // Quiet once settled: nothing reconciles or writes without a change.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let later = scrape(&admin).await;
    let reconciles_later = metric(&later, "img_reconciles_total");
    let writes_later = metric(&later, "img_status_writes_total");

    println!(
        "ImageJobs created: {JOBS} in {:.2} s ({:.0}/s)",
        created.as_secs_f64(),
        JOBS as f64 / created.as_secs_f64()
    );
    println!(
        "all {JOBS} with correct phase and queue position after {:.2} s (target < 30 s)",
        settled_after.as_secs_f64()
    );
    println!(
        "reconciles: {reconciles:.0} ({:.0}/s, {:.2} per job)",
        reconciles / settled_after.as_secs_f64(),
        reconciles / JOBS as f64
    );
    println!(
        "status writes: {writes:.0} ({:.2} per job: queued, started, positions)",
        writes / JOBS as f64
    );
    println!(
        "after settling, 5 s later: {:.0} more reconciles, {:.0} more status writes",
        reconciles_later - reconciles,
        writes_later - writes
    );
    println!(
        "operator memory: {:.1} MiB idle, {:.1} MiB now, {:.1} MiB peak (target < 150 MB)",
        idle_kib as f64 / 1024.0,
        rss_kib as f64 / 1024.0,
        peak_kib as f64 / 1024.0
    );
    let _ = operator.start_kill();
    let _ = operator.wait().await;
}
