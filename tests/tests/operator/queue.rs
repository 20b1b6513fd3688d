//! The queue: limits, order and positions.

use std::collections::HashMap;

use img_crd::{ImageJob, Phase};
use kube::api::ListParams;

use crate::env::{Env, phase_of, spec};

/// The most runners that were ever running at once in the record (per namespace prefix when
/// given), from its start and end lines.
fn most_at_once(records: &[String], prefix: &str) -> usize {
    let (mut now, mut most) = (0usize, 0usize);
    for line in records {
        if line.starts_with(&format!("start {prefix}")) {
            now += 1;
            most = most.max(now);
        } else if line.starts_with(&format!("end {prefix}")) {
            now -= 1;
        }
    }
    most
}

fn started(records: &[String]) -> Vec<String> {
    records
        .iter()
        .filter_map(|l| l.strip_prefix("start default/"))
        .map(str::to_owned)
        .collect()
}

async fn list(env: &Env, ns: &str) -> Vec<ImageJob> {
    env.jobs(ns)
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
}

#[tokio::test]
async fn fifty_jobs_run_four_at_a_time_in_priority_then_fifo_order() {
    let env = Env::start().await;
    let gate = env.path("go");
    let mode = format!("succeed 0.05 wait-for={}", gate.display());
    let name = |i: usize| format!("j{i:02}");
    // All are waiting when the operator first looks.
    for i in 0..50 {
        let mut s = spec(&mode);
        s.priority = if i % 10 == 7 { 5 } else { 0 };
        env.create("default", &name(i), s).await;
    }
    let expected: Vec<String> = (0..50)
        .filter(|i| i % 10 == 7)
        .chain((0..50).filter(|i| i % 10 != 7))
        .map(name)
        .collect();

    let _operator = env.operator(&["--max-running", "4"]).await;
    // The first four run; the other 46 are numbered 1..46 in the same order.
    let jobs = crate::support::eventually(60, || async {
        let jobs = list(&env, "default").await;
        let running = jobs
            .iter()
            .filter(|j| phase_of(j) == Some(Phase::Running))
            .count();
        let numbered = jobs
            .iter()
            .filter(|j| j.status.as_ref().and_then(|s| s.queue_position).is_some())
            .count();
        (running == 4 && numbered == 46).then_some(jobs)
    })
    .await;
    let by_name: HashMap<String, &ImageJob> = jobs
        .iter()
        .map(|j| (j.metadata.name.clone().unwrap(), j))
        .collect();
    for (i, n) in expected.iter().enumerate() {
        let status = by_name[n].status.as_ref().unwrap();
        if i < 4 {
            assert_eq!(status.phase, Some(Phase::Running), "{n}");
        } else {
            assert_eq!(status.phase, Some(Phase::Queued), "{n}");
            assert_eq!(status.queue_position, Some(i as u32 - 3), "{n}");
        }
    }

    std::fs::write(&gate, "").unwrap();
    for n in &expected {
        env.wait_phase("default", n, Phase::Succeeded).await;
    }
    let records = env.records();
    assert_eq!(most_at_once(&records, "default/"), 4, "{records:?}");
    let order = started(&records);
    assert_eq!(order.len(), 50, "each job ran once: {order:?}");
    // Jobs are admitted strictly in order, four slots at a time, so the k first starts are
    // among the k + 3 first expected jobs.
    for k in 1..=50 {
        let window = &expected[..(k + 3).min(50)];
        assert!(
            order[..k].iter().all(|n| window.contains(n)),
            "start {k} out of order: {order:?}"
        );
    }
}

#[tokio::test]
async fn namespaces_take_turns_and_keep_their_own_limit() {
    let env = Env::start().await;
    env.namespace("team-a").await;
    env.namespace("team-b").await;
    let gate = env.path("go");
    let mode = format!("succeed 0.05 wait-for={}", gate.display());
    for i in 1..=4 {
        env.create("team-a", &format!("a{i}"), spec(&mode)).await;
    }
    for i in 1..=2 {
        env.create("team-b", &format!("b{i}"), spec(&mode)).await;
    }
    let _operator = env
        .operator(&["--max-running", "2", "--max-running-per-namespace", "1"])
        .await;
    let position = |ns: &'static str, name: &'static str| {
        let env = &env;
        async move {
            env.jobs(ns)
                .get(name)
                .await
                .unwrap()
                .status
                .and_then(|s| s.queue_position)
        }
    };
    env.wait_phase("team-a", "a1", Phase::Running).await;
    env.wait_phase("team-b", "b1", Phase::Running).await;
    crate::support::eventually(30, || async {
        let got = [
            position("team-a", "a2").await,
            position("team-b", "b2").await,
            position("team-a", "a3").await,
            position("team-a", "a4").await,
        ];
        (got == [Some(1), Some(2), Some(3), Some(4)]).then_some(())
    })
    .await;

    std::fs::write(&gate, "").unwrap();
    for (ns, n) in [
        ("team-a", "a2"),
        ("team-a", "a3"),
        ("team-a", "a4"),
        ("team-b", "b2"),
    ] {
        env.wait_phase(ns, n, Phase::Succeeded).await;
    }
    let records = env.records();
    assert_eq!(most_at_once(&records, "team-a/"), 1, "{records:?}");
    assert_eq!(most_at_once(&records, "team-b/"), 1, "{records:?}");
}

#[tokio::test]
async fn positions_close_up_when_jobs_leave_the_queue() {
    let env = Env::start().await;
    let _operator = env.operator(&["--max-running", "1"]).await;
    env.create("default", "running", spec("hang")).await;
    env.wait_phase("default", "running", Phase::Running).await;
    for n in ["b", "c", "d"] {
        env.create("default", n, spec("succeed")).await;
    }
    let positions = || async {
        let mut got = Vec::new();
        for n in ["b", "c", "d"] {
            let job = env.jobs("default").get_opt(n).await.unwrap();
            got.push(job.and_then(|j| j.status.and_then(|s| s.queue_position)));
        }
        got
    };
    let until = |want: [Option<u32>; 3]| {
        let positions = &positions;
        crate::support::eventually(30, move || async move {
            (positions().await == want).then_some(())
        })
    };
    until([Some(1), Some(2), Some(3)]).await;
    env.jobs("default")
        .delete("c", &kube::api::DeleteParams::default())
        .await
        .unwrap();
    until([Some(1), None, Some(2)]).await;
    let cancel = kube::api::Patch::Merge(serde_json::json!({"spec": {"cancel": true}}));
    env.jobs("default")
        .patch("b", &kube::api::PatchParams::default(), &cancel)
        .await
        .unwrap();
    until([None, None, Some(1)]).await;
    // The running job finishing (cancelled here) lets the last one start.
    env.jobs("default")
        .patch("running", &kube::api::PatchParams::default(), &cancel)
        .await
        .unwrap();
    env.wait_phase("default", "d", Phase::Succeeded).await;
}
