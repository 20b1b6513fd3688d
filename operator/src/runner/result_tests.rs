use super::*;
use img_crd::Stage;
use img_crd::runner::RunResult;
use k8s_openapi::api::core::v1::{
    ContainerState, ContainerStateRunning, ContainerStatus, PodStatus,
};

fn pod(phase: &str, state: ContainerState) -> Pod {
    Pod {
        status: Some(PodStatus {
            phase: Some(phase.into()),
            container_statuses: Some(vec![ContainerStatus {
                name: "runner".into(),
                state: Some(state),
                ..Default::default()
            }]),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn terminated(exit_code: i32, message: &str, reason: Option<&str>) -> ContainerState {
    ContainerState {
        terminated: Some(ContainerStateTerminated {
            exit_code,
            message: Some(message.into()),
            reason: reason.map(Into::into),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn finished(o: Observed) -> Finished {
    match o {
        Observed::Finished(f) => f,
        Observed::Running(_) => panic!("still running"),
    }
}

fn report(outcome: Outcome, reason: Option<&str>) -> String {
    RunResult {
        outcome,
        reason: reason.map(Into::into),
        message: Some("mic said so".into()),
        stages: vec![StageRecord {
            name: Stage::Build,
            started_at: None,
            finished_at: None,
            outcome: None,
            message: None,
        }],
        artifacts: vec![Artifact {
            name: "x.raw".into(),
            size: 3,
            sha256: "ab".into(),
            url: None,
        }],
        log: Some("x.log".into()),
        omitted_artifacts: 0,
    }
    .to_termination_message()
}

#[test]
fn a_pod_without_status_or_still_running_is_running() {
    assert_eq!(observe(&Pod::default()), Observed::Running(None));
    let started = Time(jiff::Timestamp::from_second(5).unwrap());
    let running = ContainerState {
        running: Some(ContainerStateRunning {
            started_at: Some(started.clone()),
        }),
        ..Default::default()
    };
    assert_eq!(
        observe(&pod("Running", running)),
        Observed::Running(Some(started))
    );
}

#[test]
fn the_runner_report_decides_success_and_carries_artifacts() {
    let f = finished(observe(&pod(
        "Succeeded",
        terminated(0, &report(Outcome::Succeeded, None), Some("Completed")),
    )));
    assert_eq!(f.phase, Phase::Succeeded);
    assert_eq!(f.reason, reasons::IMAGE_BUILT);
    assert_eq!(f.artifacts[0].name, "x.raw");
    assert_eq!(f.log.as_deref(), Some("x.log"));
    assert_eq!(f.stages.len(), 1);

    let f = finished(observe(&pod(
        "Failed",
        terminated(
            1,
            &report(Outcome::Failed, Some("BuildFailed")),
            Some("Error"),
        ),
    )));
    assert_eq!((f.phase, f.reason.as_str()), (Phase::Failed, "BuildFailed"));
    assert_eq!(f.message, "mic said so");
}

#[test]
fn crashes_timeouts_and_oom_are_told_apart() {
    let f = finished(observe(&pod(
        "Failed",
        terminated(137, "qemu: terminating on signal\npanic!", Some("Error")),
    )));
    assert_eq!(f.reason, reasons::RUNNER_CRASHED);
    assert!(
        f.message
            .starts_with("the runner was killed by signal 9; its last output: qemu"),
        "{}",
        f.message
    );

    let f = finished(observe(&pod("Failed", terminated(3, "", Some("Error")))));
    assert_eq!(f.message, "the runner exited with status 3");

    let f = finished(observe(&pod(
        "Failed",
        terminated(137, "", Some("OOMKilled")),
    )));
    assert_eq!(f.reason, reasons::OUT_OF_MEMORY);

    let mut deadline = pod("Failed", terminated(137, "", Some("Error")));
    if let Some(s) = deadline.status.as_mut() {
        s.reason = Some("DeadlineExceeded".into());
        s.message = Some("Pod was active on the node longer than the specified deadline".into());
    }
    let f = finished(observe(&deadline));
    assert_eq!(f.reason, reasons::TIMEOUT);
    assert!(f.message.contains("longer than the specified deadline"));

    // A success report with a failing exit code is not a success.
    let f = finished(observe(&pod(
        "Failed",
        terminated(2, &report(Outcome::Succeeded, None), Some("Error")),
    )));
    assert_eq!(f.phase, Phase::Failed);
}

#[test]
fn tail_keeps_the_end() {
    assert_eq!(tail("abcdef", 3), "…def");
    assert_eq!(tail("ab", 3), "ab");
}
