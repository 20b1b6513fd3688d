//! One job, end to end: the stages, the time limit, cancellation, and a teardown that runs
//! on every path. The result is always written — as `result.json` beside the image and, in a
//! Pod, as the termination message — whatever happened.

mod outcome;
mod paths;
mod session;
mod steps;

use std::path::Path;
use std::time::{Duration, Instant};

use img_crd::conditions::reasons;
use img_crd::runner::{Outcome, RunResult};
use img_crd::{Stage, StageOutcome};
use tokio::sync::watch;

pub use outcome::{Failure, publish};
pub use paths::{RemoteVm, RunPaths, is_plain_name, output_dir};
use session::Session;
use steps::{Context, run_stages};

use crate::artifacts;
use crate::joblog::JobLog;
use crate::settings::Settings;
use crate::stages::Stages;

/// Resolves once `cancel` turns true (SIGTERM/SIGINT), or never if its sender is gone.
async fn cancelled(mut cancel: watch::Receiver<bool>) {
    if cancel.wait_for(|c| *c).await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// Runs `job`; never panics on a failed build: every failure is a [`RunResult`].
pub async fn run_job(
    job: &img_crd::runner::JobDescription,
    paths: &RunPaths,
    settings: &Settings,
    cancel: watch::Receiver<bool>,
) -> RunResult {
    let failed = |reason: &str, message: String| RunResult {
        outcome: Outcome::Failed,
        reason: Some(reason.to_owned()),
        message: Some(message),
        stages: Vec::new(),
        artifacts: Vec::new(),
        log: None,
        omitted_artifacts: 0,
    };
    // Without a usable output directory there is nowhere to write a log: report and stop.
    if !is_plain_name(&job.name) {
        let result = failed(
            reasons::INVALID_JOB,
            format!("job name {:?} cannot name files", job.name),
        );
        outcome::publish(&result, None, None, paths.termination_log.as_deref());
        return result;
    }
    let out_dir = match output_dir(&paths.images, &job.output_dir).and_then(|d| {
        std::fs::create_dir_all(&d)
            .map(|()| d)
            .map_err(|e| e.to_string())
    }) {
        Ok(dir) => dir,
        Err(e) => {
            let result = failed(reasons::INVALID_JOB, e);
            outcome::publish(&result, None, None, paths.termination_log.as_deref());
            return result;
        }
    };
    let log_name = img_crd::urls::log_file(&job.name);
    let log = match JobLog::create(&out_dir.join(&log_name)) {
        Ok(log) => log,
        Err(e) => {
            let result = failed(reasons::INVALID_JOB, format!("{log_name}: {e}"));
            outcome::publish(&result, None, None, paths.termination_log.as_deref());
            return result;
        }
    };
    let started = Instant::now();
    log.line(&format!(
        "IMG build of {}/{} ({}), job id {}",
        job.namespace, job.name, job.image_type, job.legacy_id
    ));
    let _ = std::fs::write(out_dir.join(format!("{}.ks", job.name)), &job.kickstart);

    let mut stages = Stages::default();
    let mut session = Session::default();
    let limit = Duration::from_secs(job.timeout_seconds);
    let outcome = {
        let mut cx = Context {
            job,
            settings,
            base_dir: &paths.base,
            out_dir: &out_dir,
            remote: paths.remote.as_ref(),
            log: &log,
            stages: &mut stages,
            session: &mut session,
        };
        tokio::select! {
            r = tokio::time::timeout(limit, run_stages(&mut cx)) => match r {
                Ok(r) => r,
                Err(_) => Err(Failure::new(
                    reasons::TIMEOUT,
                    format!("the build ran longer than its time limit of {} s", job.timeout_seconds),
                )),
            },
            () = cancelled(cancel) => Err(Failure::new(
                reasons::CANCELLED,
                "the runner was asked to stop (SIGTERM/SIGINT); the build was abandoned",
            )),
        }
    };
    if let Err(f) = &outcome {
        // A stage cut short by the time limit or a signal is still in progress.
        stages.fail_current(&f.message);
    }

    stages.start(Stage::Cleanup);
    for note in session.teardown().await {
        log.line(&note);
    }
    stages.end(StageOutcome::Succeeded, None);

    let mut result = RunResult {
        outcome: Outcome::Succeeded,
        reason: None,
        message: None,
        stages: Vec::new(),
        artifacts: Vec::new(),
        log: Some(log_name),
        omitted_artifacts: 0,
    };
    match outcome.and_then(|made| {
        artifacts::describe(&out_dir, &made)
            .map_err(|e| Failure::new(reasons::VM_FAILED, format!("checksumming the image: {e}")))
    }) {
        Ok(artifacts) => {
            for a in &artifacts {
                log.line(&format!(
                    "artifact {} ({} bytes, sha256 {})",
                    a.name, a.size, a.sha256
                ));
            }
            result.artifacts = artifacts;
            result.message = Some(format!(
                "built {} image in {:.0} s",
                job.image_type,
                started.elapsed().as_secs_f64()
            ));
        }
        Err(f) => {
            result.outcome = Outcome::Failed;
            result.reason = Some(f.reason.to_owned());
            result.message = Some(f.message);
        }
    }
    let summary: Vec<String> = stages
        .durations()
        .iter()
        .map(|(s, secs)| format!("{} {secs:.1} s", s.as_str()))
        .collect();
    log.line(&format!("stages: {}", summary.join(", ")));
    result.stages = stages.into_records();
    outcome::publish(
        &result,
        Some(&out_dir),
        Some(&log),
        paths.termination_log.as_deref(),
    );
    result
}

/// Removes a job's output directory (`vm-runner clean`); a missing one is fine.
pub fn clean(dir: &Path) -> std::io::Result<bool> {
    match std::fs::remove_dir_all(dir) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}
