//! The broker dies (SIGKILL) in the middle of a run: jobs that end while it is away are
//! announced once it is back, each exactly once; messages queued before the crash are
//! consumed after it; the operator reconnects by itself and counts it.

use std::collections::BTreeSet;
use std::time::Duration;

use img_crd::Phase;
use kube::api::ListParams;
use serde_json::json;

use crate::env::spec;
use crate::{bridged_operator, bridged_site, metric, metrics, publish, take, wait_connected};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_crash_loses_and_repeats_nothing() {
    let Some((broker, env, url, operator)) = bridged_site().await else {
        return;
    };

    // Five builds that finish when the test says so.
    let release = env.path("release");
    let names: Vec<String> = (0..5).map(|i| format!("job-{i}")).collect();
    for name in &names {
        let words = format!("succeed wait-for={}", release.display());
        env.create("default", name, spec(&words)).await;
    }
    let wait_running = names
        .iter()
        .map(|n| env.wait_phase("default", n, Phase::Running));
    // Two run at once (--max-running 2); the others wait in the queue.
    futures::future::join_all(wait_running.take(2)).await;

    let broker = tokio::task::spawn_blocking(move || {
        let mut broker = broker;
        broker.kill();
        broker
    })
    .await
    .unwrap();
    std::fs::write(&release, "").unwrap();
    for name in &names {
        env.wait_phase("default", name, Phase::Succeeded).await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let down = metrics(operator.admin_addr).await;
    assert_eq!(metric(&down, "img_amqp_connected "), 0.0, "{down}");
    assert!(
        metric(
            &down,
            "img_notification_attempts_total{channel=\"amqp\",outcome=\"failed\"}"
        ) >= 1.0
            || metric(&down, "img_amqp_connect_failures_total") >= 1.0,
        "{down}"
    );

    let broker = tokio::task::spawn_blocking(move || {
        let mut broker = broker;
        broker.start_again().unwrap();
        broker
    })
    .await
    .unwrap();
    wait_connected(operator.admin_addr).await;
    let text = metrics(operator.admin_addr).await;
    assert!(
        metric(&text, "img_amqp_connections_total") >= 2.0,
        "reconnected: {text}"
    );
    // All five announced after the reconnection, then recorded.
    for name in &names {
        env.wait_for("default", name, "announced", |j| {
            j.status
                .as_ref()
                .and_then(|s| s.notifications.as_ref())
                .is_some_and(|n| n.amqp_to("link_queue").is_some())
        })
        .await;
    }

    // Ingress published while the operator is away survives another broker crash (durable
    // queue, persistent messages), as do the confirmed results; both operators together
    // published each result exactly once.
    operator.shutdown().await.unwrap();
    let queued: Vec<String> = (0..3)
        .map(|i| json!({"email": "", "id": format!("late-{i}"), "imagetype": "raw", "ksfile": crate::env::kickstart("succeed")}).to_string())
        .collect();
    publish(&url, "image_exchange", "image_queue", queued).await;
    let broker = tokio::task::spawn_blocking(move || {
        let mut broker = broker;
        broker.kill();
        broker.start_again().unwrap();
        broker
    })
    .await
    .unwrap();
    let operator = bridged_operator(&env, &url, &[]).await;
    let mut links = take(&url, "link_queue", 8, 60.0).await;
    links.extend(take(&url, "link_queue", 10, 2.0).await);
    let ids: BTreeSet<String> = links
        .iter()
        .map(|m| m.message_id.clone().unwrap_or_default())
        .collect();
    assert_eq!(links.len(), 8, "five jobs before, three after: {links:?}");
    assert_eq!(ids.len(), 8, "each once: {links:?}");
    let late = links
        .iter()
        .filter(|m| m.json()["id"].as_str().unwrap().starts_with("late-"))
        .count();
    assert_eq!(late, 3, "{links:?}");
    let made = env
        .jobs("default")
        .list(&ListParams::default())
        .await
        .unwrap()
        .items;
    assert_eq!(made.len(), 8);
    operator.shutdown().await.unwrap();
    // Dropping the broker leaves nothing behind: no broker, no epmd.
    let (dir, port) = (broker.dir(), broker.port());
    drop(broker);
    assert!(img_tests::services::processes_naming(&dir).is_empty());
    assert!(
        !img_tests::services::listening(port) && !img_tests::services::listening(port + 2),
        "the broker or its epmd still listens"
    );
}
