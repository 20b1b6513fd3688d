//! Reading a runner Pod: still going, or finished with which outcome. The runner's own report
//! (its termination message, see [`img_crd::runner::RunResult`]) is trusted for the build's
//! outcome; the Pod's phase, exit code and reasons cover the cases where the runner could not
//! report (deadline, out of memory, crash).

use img_crd::conditions::reasons;
use img_crd::runner::{Outcome, RunResult};
use img_crd::{Artifact, Phase, StageRecord};
use k8s_openapi::api::core::v1::{ContainerStateTerminated, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

/// How much of a crashed runner's output a status message keeps.
const CRASH_OUTPUT_BYTES: usize = 1024;

/// A runner Pod's state.
#[derive(Debug, Clone, PartialEq)]
pub enum Observed {
    /// Waiting to start or running (with the container's start time once it runs).
    Running(Option<Time>),
    /// Ended.
    Finished(Finished),
}

/// How a runner ended.
#[derive(Debug, Clone, PartialEq)]
pub struct Finished {
    /// Succeeded or Failed.
    pub phase: Phase,
    /// The status reason.
    pub reason: String,
    /// For people.
    pub message: String,
    /// The stages the runner reported.
    pub stages: Vec<StageRecord>,
    /// The files it produced.
    pub artifacts: Vec<Artifact>,
    /// Its log's file name in the job directory.
    pub log: Option<String>,
    /// When the container ended.
    pub finished_at: Option<Time>,
}

impl Finished {
    fn failed(reason: &str, message: String, finished_at: Option<Time>) -> Finished {
        Finished {
            phase: Phase::Failed,
            reason: reason.to_owned(),
            message,
            stages: Vec::new(),
            artifacts: Vec::new(),
            log: None,
            finished_at,
        }
    }
}

/// Reads `pod` (a runner Pod made by [`super::runner_pod`]).
pub fn observe(pod: &Pod) -> Observed {
    let Some(status) = &pod.status else {
        return Observed::Running(None);
    };
    let container = status
        .container_statuses
        .iter()
        .flatten()
        .find(|c| c.name == "runner")
        .or_else(|| status.container_statuses.iter().flatten().next());
    let state = container.and_then(|c| c.state.as_ref());
    let terminated = state.and_then(|s| s.terminated.as_ref());
    let phase = status.phase.as_deref().unwrap_or("Pending");
    if status.reason.as_deref() == Some("DeadlineExceeded") {
        let detail = status.message.clone().unwrap_or_default();
        return Observed::Finished(Finished::failed(
            reasons::TIMEOUT,
            format!("the build ran past its time limit and was stopped ({detail})"),
            terminated.and_then(|t| t.finished_at.clone()),
        ));
    }
    match (phase, terminated) {
        ("Succeeded" | "Failed", Some(t)) => Observed::Finished(finished(t)),
        ("Failed", None) => Observed::Finished(Finished::failed(
            reasons::RUNNER_CRASHED,
            format!(
                "the runner Pod failed before its container ran: {}",
                status.message.as_deref().unwrap_or("no message")
            ),
            None,
        )),
        ("Succeeded", None) => Observed::Finished(Finished::failed(
            reasons::RUNNER_CRASHED,
            "the runner Pod succeeded without a container status".to_owned(),
            None,
        )),
        _ => Observed::Running(
            state
                .and_then(|s| s.running.as_ref())
                .and_then(|r| r.started_at.clone()),
        ),
    }
}

fn finished(t: &ContainerStateTerminated) -> Finished {
    let at = t.finished_at.clone();
    if t.reason.as_deref() == Some("OOMKilled") {
        return Finished::failed(
            reasons::OUT_OF_MEMORY,
            "the runner was killed for using more memory than its Pod's limit (raise spec.runner.memoryMib)".to_owned(),
            at,
        );
    }
    let text = t.message.as_deref().unwrap_or_default();
    match RunResult::from_termination_message(text) {
        Ok(result) => {
            let succeeded = result.outcome == Outcome::Succeeded && t.exit_code == 0;
            let (phase, reason) = if succeeded {
                (Phase::Succeeded, reasons::IMAGE_BUILT.to_owned())
            } else {
                (
                    Phase::Failed,
                    result
                        .reason
                        .clone()
                        .unwrap_or_else(|| reasons::BUILD_FAILED.to_owned()),
                )
            };
            let mut message = result.message.clone().unwrap_or_else(|| {
                if succeeded {
                    "the image was built".to_owned()
                } else {
                    format!("the build failed (exit status {})", t.exit_code)
                }
            });
            if result.omitted_artifacts > 0 {
                message.push_str(&format!(
                    " ({} more artifacts are listed in result.json)",
                    result.omitted_artifacts
                ));
            }
            Finished {
                phase,
                reason,
                message,
                stages: result.stages,
                artifacts: result.artifacts,
                log: result.log,
                finished_at: at,
            }
        }
        Err(_) => {
            let how = match t
                .signal
                .or_else(|| (t.exit_code > 128).then(|| t.exit_code - 128))
            {
                Some(signal) => format!("was killed by signal {signal}"),
                None if t.exit_code == 0 => "exited without reporting a result".to_owned(),
                None => format!("exited with status {}", t.exit_code),
            };
            let output = text.trim();
            let message = if output.is_empty() {
                format!("the runner {how}")
            } else {
                format!(
                    "the runner {how}; its last output: {}",
                    tail(output, CRASH_OUTPUT_BYTES)
                )
            };
            Finished::failed(reasons::RUNNER_CRASHED, message, at)
        }
    }
}

/// The last `max` bytes of `text` (on a character boundary), marked when cut.
fn tail(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut start = text.len() - max;
    while !text.is_char_boundary(start) {
        start += 1;
    }
    format!("…{}", &text[start..])
}

#[cfg(test)]
#[path = "result_tests.rs"]
mod tests;
