//! What the pages and the JSON API show of an `ImageJob`: a flat summary, built from the
//! resource alone (pure, so it is tested without a cluster).

use img_crd::{ImageJob, Phase, StageOutcome};
use kube::ResourceExt;
use serde::{Deserialize, Serialize};

/// The annotation that records who submitted a job through the web or `imgctl`.
pub const SUBMITTER: &str = img_crd::labels::SUBMITTER;

/// One job as the queue page and `GET /api/v1/jobs` show it (and `imgctl` reads it back:
/// fields it does not know are ignored, missing ones take their defaults).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct JobSummary {
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// Phase (`Pending` until the operator has looked at it).
    pub phase: String,
    /// Image type, when known.
    pub image_type: Option<String>,
    /// Who submitted it (the submitter annotation), if recorded.
    pub submitter: Option<String>,
    /// Place in the queue (1 starts next), while queued.
    pub queue_position: Option<u32>,
    /// Creation time (RFC 3339).
    pub created: Option<String>,
    /// Stages done out of the six (clone … cleanup).
    pub stages_done: usize,
    /// Whether it has ended.
    pub finished: bool,
    /// Whether it is kept from clearing.
    pub pinned: bool,
}

impl JobSummary {
    /// `namespace/name`.
    pub fn id(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }

    /// The summary of `job`.
    pub fn of(job: &ImageJob) -> JobSummary {
        let status = job.status.as_ref();
        let phase = status.and_then(|s| s.phase).unwrap_or(Phase::Pending);
        JobSummary {
            namespace: job.namespace().unwrap_or_default(),
            name: job.name_any(),
            phase: format!("{phase:?}"),
            image_type: status
                .and_then(|s| s.image_type)
                .or(job.spec.image_type)
                .map(|t| t.as_str().to_owned()),
            submitter: job.annotations().get(SUBMITTER).cloned(),
            queue_position: status.and_then(|s| s.queue_position),
            created: job
                .metadata
                .creation_timestamp
                .as_ref()
                .map(|t| t.0.to_string()),
            stages_done: status
                .map(|s| {
                    s.stages
                        .iter()
                        .filter(|r| {
                            matches!(
                                r.outcome,
                                Some(StageOutcome::Succeeded | StageOutcome::Skipped)
                            )
                        })
                        .count()
                })
                .unwrap_or(0),
            finished: phase.is_finished(),
            pinned: job.spec.pinned,
        }
    }
}
