//! Restarts and replicas: a job is never lost, never run twice.

use std::time::Duration;

use img_crd::Phase;
use k8s_openapi::api::coordination::v1::Lease;
use kube::api::Api;

use crate::env::{Env, spec};

#[tokio::test]
async fn an_operator_restart_mid_job_neither_loses_nor_repeats_it() {
    let env = Env::start().await;
    let gate = env.path("go");
    let mode = format!("succeed 0.05 wait-for={}", gate.display());
    let first = env.operator(&["--max-running", "1"]).await;
    env.create("default", "long", spec(&mode)).await;
    env.create("default", "next", spec(&mode)).await;
    env.wait_phase("default", "long", Phase::Running).await;
    env.wait_for("default", "next", "queued first", |j| {
        j.status.as_ref().and_then(|s| s.queue_position) == Some(1)
    })
    .await;

    // A crash: no clean shutdown, the Lease is not released.
    first.crash();
    let second = env.operator(&["--max-running", "1"]).await;
    std::fs::write(&gate, "").unwrap();
    env.wait_phase("default", "long", Phase::Succeeded).await;
    env.wait_phase("default", "next", Phase::Succeeded).await;
    assert_eq!(env.starts("default", "long"), 1, "{:?}", env.records());
    assert_eq!(env.starts("default", "next"), 1, "{:?}", env.records());
    second.shutdown().await.unwrap();
}

async fn holder(env: &Env) -> Option<String> {
    let leases: Api<Lease> = Api::namespaced(env.client.clone(), "default");
    leases
        .get_opt("img-operator")
        .await
        .unwrap()
        .and_then(|l| l.spec?.holder_identity)
        .filter(|h| !h.is_empty())
}

#[tokio::test]
async fn two_replicas_run_each_job_once_and_hand_over() {
    let env = Env::start().await;
    let gate = env.path("go");
    let mode = format!("succeed 0.05 wait-for={}", gate.display());
    let a = env
        .operator(&["--max-running", "2", "--identity", "replica-a"])
        .await;
    let b = env
        .operator(&["--max-running", "2", "--identity", "replica-b"])
        .await;
    let names: Vec<String> = (0..6).map(|i| format!("job{i}")).collect();
    for n in &names {
        env.create("default", n, spec(&mode)).await;
    }
    env.wait_phase("default", "job0", Phase::Running).await;
    env.wait_phase("default", "job1", Phase::Running).await;
    let leader = holder(&env).await.unwrap();
    let (leading, standby) = if leader == "replica-a" {
        (a, b)
    } else {
        (b, a)
    };
    let standby_name = if leader == "replica-a" {
        "replica-b"
    } else {
        "replica-a"
    };

    // The leader dies mid-run; the standby takes over when the Lease expires.
    leading.crash();
    tokio::time::sleep(Duration::from_millis(500)).await;
    std::fs::write(&gate, "").unwrap();
    for n in &names {
        env.wait_phase("default", n, Phase::Succeeded).await;
    }
    assert_eq!(holder(&env).await.as_deref(), Some(standby_name));
    for n in &names {
        assert_eq!(env.starts("default", n), 1, "{n}: {:?}", env.records());
    }
    standby.shutdown().await.unwrap();
    assert_eq!(
        holder(&env).await,
        None,
        "a clean shutdown releases the Lease"
    );
}
