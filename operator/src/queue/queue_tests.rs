use super::*;
use img_crd::{ImageJobSpec, ImageJobStatus};
use k8s_openapi::api::core::v1::PodStatus;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use std::collections::BTreeMap;

fn job(ns: &str, name: &str, created: i64, phase: Option<Phase>) -> Arc<ImageJob> {
    let mut j = ImageJob::new(name, ImageJobSpec::default());
    j.metadata.namespace = Some(ns.into());
    j.metadata.uid = Some(format!("{ns}-{name}"));
    j.metadata.creation_timestamp = Some(Time(jiff::Timestamp::from_second(created).unwrap()));
    j.status = Some(ImageJobStatus {
        phase,
        ..Default::default()
    });
    Arc::new(j)
}

fn runner(ns: &str, uid: &str, phase: &str) -> Arc<Pod> {
    let mut p = Pod::default();
    p.metadata.namespace = Some(ns.into());
    p.metadata.labels = Some(BTreeMap::from([
        (labels::COMPONENT.to_owned(), component::RUNNER.to_owned()),
        (labels::JOB_UID.to_owned(), uid.to_owned()),
    ]));
    p.status = Some(PodStatus {
        phase: Some(phase.into()),
        ..Default::default()
    });
    Arc::new(p)
}

fn refs(jobs: &[Arc<ImageJob>]) -> Vec<&ImageJob> {
    jobs.iter().map(|j| &**j).collect()
}

fn queue(total: usize) -> Queue {
    Queue::new(Limits {
        total,
        per_namespace: total,
    })
    .0
}

fn admitted(pass: &Pass) -> Vec<&str> {
    pass.plan.admit.iter().map(|k| k.name.as_str()).collect()
}

#[test]
fn admission_fills_free_slots_once() {
    let q = queue(2);
    let jobs: Vec<_> = (0..5)
        .map(|i| job("a", &format!("j{i}"), i, Some(Phase::Queued)))
        .collect();
    let pass = compute(&q, &refs(&jobs), &[]);
    assert_eq!(admitted(&pass), ["j0", "j1"]);
    assert_eq!(pass.active, 2);
    assert_eq!(pass.waiting, 3);
    assert_eq!(pass.plan.positions[0].1, 1);
    // Until their status changes, admitted jobs keep their slots: nothing more is admitted.
    let again = compute(&q, &refs(&jobs), &[]);
    assert!(again.plan.admit.is_empty());
    assert!(q.is_admitted("a-j0") && q.is_admitted("a-j1"));
}

#[test]
fn running_jobs_and_live_runner_pods_hold_slots() {
    let q = queue(2);
    let jobs = vec![
        job("a", "running", 0, Some(Phase::Running)),
        // Queued in status but with a live Pod: started before an operator restart.
        job("a", "adopted", 1, Some(Phase::Queued)),
        job("a", "next", 2, Some(Phase::Queued)),
    ];
    let pods = vec![runner("a", "a-adopted", "Running")];
    let pass = compute(&q, &refs(&jobs), &pods);
    assert!(pass.plan.admit.is_empty());
    assert_eq!(pass.active, 2);
    // A finished Pod holds nothing.
    let pods = vec![runner("a", "a-adopted", "Succeeded")];
    let jobs = vec![jobs[0].clone(), jobs[2].clone()];
    assert_eq!(admitted(&compute(&q, &refs(&jobs), &pods)), ["next"]);
}

#[test]
fn a_runner_pod_of_a_deleted_job_still_holds_its_slot() {
    let q = queue(1);
    let jobs = vec![job("a", "x", 0, Some(Phase::Queued))];
    let pods = vec![runner("a", "gone-uid", "Running")];
    assert!(compute(&q, &refs(&jobs), &pods).plan.admit.is_empty());
}

#[test]
fn cancelled_deleting_finished_and_waiting_for_source_jobs_are_not_queued() {
    let q = queue(4);
    let mut cancelled = (*job("a", "c", 0, Some(Phase::Queued))).clone();
    cancelled.spec.cancel = true;
    let mut deleting = (*job("a", "d", 0, Some(Phase::Queued))).clone();
    deleting.metadata.deletion_timestamp = Some(Time(jiff::Timestamp::from_second(9).unwrap()));
    let jobs = vec![
        Arc::new(cancelled),
        Arc::new(deleting),
        job("a", "f", 0, Some(Phase::Failed)),
        job("a", "p", 0, Some(Phase::Pending)),
        job("a", "fresh", 0, None),
    ];
    let pass = compute(&q, &refs(&jobs), &[]);
    assert!(pass.plan.admit.is_empty() && pass.plan.positions.is_empty());
}

#[test]
fn admission_is_forgotten_when_the_job_leaves_the_queue() {
    let q = queue(1);
    let jobs = vec![job("a", "x", 0, Some(Phase::Queued))];
    compute(&q, &refs(&jobs), &[]);
    assert!(q.is_admitted("a-x"));
    let running = vec![job("a", "x", 0, Some(Phase::Running))];
    compute(&q, &refs(&running), &[]);
    assert!(!q.is_admitted("a-x"));
}

#[test]
fn the_position_patch_tests_the_phase_first() {
    let Patch::Json(p) = position_patch(7) else {
        panic!("a JSON patch")
    };
    let json = serde_json::to_value(&p).unwrap();
    assert_eq!(json[0]["op"], "test");
    assert_eq!(json[1]["value"], 7);
}
