//! `cargo bench -p img-tests --bench apiserver`: 10,000 custom resources created, watched
//! and listed against the `img-apiserver` binary (its own process, so its memory is its own),
//! printing objects per second, list times and the server's memory. Not a timed test: the
//! figures are printed against the targets (≥ 5,000 creates/s, a full list of 10,000 in under
//! 200 ms).

use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Method, Request};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

const OBJECTS: usize = 10_000;
const CONCURRENCY: usize = 32;

type Http = Client<HttpConnector, Full<Bytes>>;

async fn send(client: &Http, method: Method, url: &str, body: &str) -> (u16, Bytes) {
    let request = Request::builder()
        .method(method)
        .uri(url)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.to_owned())))
        .expect("request");
    let response = client.request(request).await.expect("response");
    let status = response.status().as_u16();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    (status, body)
}

fn memory_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

const CRD: &str = r#"{"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition",
"metadata":{"name":"widgets.example.org"},"spec":{"group":"example.org","scope":"Namespaced",
"names":{"plural":"widgets","kind":"Widget"},"versions":[{"name":"v1","served":true,"storage":true,
"subresources":{"status":{}},"schema":{"openAPIV3Schema":{"type":"object","properties":{
"spec":{"type":"object","properties":{"size":{"type":"integer"},"color":{"type":"string"}}},
"status":{"type":"object","properties":{"phase":{"type":"string"}}}}}}}]}}"#;

#[tokio::main]
async fn main() {
    let dir = std::env::temp_dir().join(format!("img-apiserver-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    let kubeconfig = dir.join("kubeconfig");
    let mut server = tokio::process::Command::new(env!("CARGO_BIN_EXE_img-apiserver"))
        .arg("--kubeconfig")
        .arg(&kubeconfig)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("img-apiserver starts");
    let pid = server.id().expect("pid");
    let url = loop {
        if let Ok(text) = std::fs::read_to_string(&kubeconfig)
            && let Some(line) = text.lines().find(|l| l.trim_start().starts_with("server:"))
        {
            break line
                .trim_start()
                .trim_start_matches("server:")
                .trim()
                .to_owned();
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let client: Http = Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(CONCURRENCY)
        .build_http();
    let (status, _) = send(
        &client,
        Method::POST,
        &format!("{url}/apis/apiextensions.k8s.io/v1/customresourcedefinitions"),
        CRD,
    )
    .await;
    assert_eq!(status, 201, "CRD created");
    let collection = format!("{url}/apis/example.org/v1/namespaces/default/widgets");
    let idle_kib = memory_kib(pid, "VmRSS:");

    // A watch opened before the creates must see every one of them.
    let watch_url = format!("{collection}?watch=1&resourceVersion=0");
    let watch = client
        .request(
            Request::get(&watch_url)
                .body(Full::new(Bytes::new()))
                .expect("request"),
        )
        .await
        .expect("watch");
    let mut watch_body = watch.into_body();
    let watched = tokio::spawn(async move {
        let mut seen = 0usize;
        let mut buf = Vec::new();
        while seen < OBJECTS {
            let Some(frame) = watch_body.frame().await else {
                break;
            };
            let Ok(frame) = frame else { break };
            if let Some(data) = frame.data_ref() {
                buf.extend_from_slice(data);
                while let Some(nl) = buf.iter().position(|b| *b == b'\n') {
                    if buf[..nl].starts_with(b"{\"type\":\"ADDED\"") {
                        seen += 1;
                    }
                    buf.drain(..=nl);
                }
            }
        }
        (seen, Instant::now())
    });

    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..CONCURRENCY)
        .map(|_| {
            let (client, collection, next) = (client.clone(), collection.clone(), next.clone());
            tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= OBJECTS {
                        return;
                    }
                    let body = format!(
                        r#"{{"apiVersion":"example.org/v1","kind":"Widget","metadata":{{"name":"w{i:05}","labels":{{"bench":"yes"}}}},"spec":{{"size":{i},"color":"red"}}}}"#
                    );
                    let (status, _) = send(&client, Method::POST, &collection, &body).await;
                    assert_eq!(status, 201);
                }
            })
        })
        .collect();
    for w in workers {
        w.await.expect("worker");
    }
    let created = started.elapsed();
    let (seen, last_event) = watched.await.expect("watcher");
    let watch_done = last_event.duration_since(started);

    let mut list_times = Vec::new();
    let mut list_bytes = 0;
    for _ in 0..5 {
        let t = Instant::now();
        let (status, body) = send(&client, Method::GET, &collection, "").await;
        list_times.push(t.elapsed());
        assert_eq!(status, 200);
        list_bytes = body.len();
    }
    list_times.sort();
    let t = Instant::now();
    let (_, body) = send(
        &client,
        Method::GET,
        &format!("{collection}?labelSelector=bench%3Dyes&limit=500"),
        "",
    )
    .await;
    let page = t.elapsed();
    assert!(!body.is_empty());

    // Watching from scratch: the current state as ADDED events.
    let t = Instant::now();
    let (status, body) = send(
        &client,
        Method::GET,
        &format!("{collection}?watch=1&resourceVersion=0&timeoutSeconds=1"),
        "",
    )
    .await;
    assert_eq!(status, 200);
    let initial_events = body
        .split(|b| *b == b'\n')
        .filter(|l| l.starts_with(b"{\"type\":\"ADDED\""))
        .count();
    let initial_watch = t.elapsed().saturating_sub(Duration::from_secs(1));

    let rss = memory_kib(pid, "VmRSS:");
    let hwm = memory_kib(pid, "VmHWM:");
    println!(
        "img-apiserver, {OBJECTS} custom resources, {CONCURRENCY} concurrent HTTP/1.1 clients"
    );
    println!(
        "  create     {:>8.0} objects/s ({:.2} s; target >= 5000/s)",
        OBJECTS as f64 / created.as_secs_f64(),
        created.as_secs_f64()
    );
    println!(
        "  watch      {seen} of {OBJECTS} ADDED events, the last {:.2} s after the first create",
        watch_done.as_secs_f64()
    );
    println!(
        "  list       {:>8.1} ms for all {OBJECTS} (median of 5; {} KiB; target < 200 ms)",
        list_times[2].as_secs_f64() * 1e3,
        list_bytes / 1024
    );
    println!(
        "  page       {:>8.1} ms for 500 by label selector",
        page.as_secs_f64() * 1e3
    );
    println!(
        "  re-watch   {initial_events} initial ADDED events in {:.1} ms",
        initial_watch.as_secs_f64() * 1e3
    );
    println!(
        "  memory     {} MiB resident ({} MiB peak; {} MiB before the objects)",
        rss / 1024,
        hwm / 1024,
        idle_kib / 1024
    );
    server.kill().await.ok();
    std::fs::remove_dir_all(&dir).ok();
}
