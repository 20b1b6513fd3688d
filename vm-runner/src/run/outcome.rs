//! The end of a run: the result as `result.json` beside the image, as the termination message
//! for Kubernetes, and the 2010 failure line in the log.

use std::path::Path;

use img_crd::runner::{Outcome, RESULT_FILE, RunResult};

use crate::joblog::{FAILED_LINE, JobLog};

/// Why a run failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// A reason of `img_crd::conditions::reasons`.
    pub reason: &'static str,
    /// What happened.
    pub message: String,
}

impl Failure {
    /// A failure.
    pub fn new(reason: &'static str, message: impl Into<String>) -> Failure {
        Failure {
            reason,
            message: message.into(),
        }
    }
}

/// Writes `result` to `dir/result.json` and, when running as a Pod, the termination message;
/// a failure also ends the log with the 2010 line and the error.
pub fn publish(
    result: &RunResult,
    dir: Option<&Path>,
    log: Option<&JobLog>,
    termination_log: Option<&Path>,
) {
    if let Some(log) = log {
        if result.outcome == Outcome::Failed {
            log.line(FAILED_LINE);
            log.line(result.message.as_deref().unwrap_or("unknown error"));
        }
        log.finish();
    }
    if let Some(dir) = dir {
        match serde_json::to_vec_pretty(result) {
            Ok(json) => {
                if let Err(e) = std::fs::write(dir.join(RESULT_FILE), json) {
                    tracing::warn!(error = %e, "result.json not written");
                }
            }
            Err(e) => tracing::warn!(error = %e, "result not serialised"),
        }
    }
    if let Some(path) = termination_log
        && let Err(e) = std::fs::write(path, result.to_termination_message())
    {
        tracing::warn!(path = %path.display(), error = %e, "termination message not written");
    }
}
