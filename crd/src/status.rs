//! What the operator reports: `ImageJob.status`.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::ImageType;

/// The observed state of an ImageJob.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ImageJobStatus {
    /// Pending (not yet checked), Queued (valid, waiting for a runner), Running, Succeeded,
    /// Failed or Cancelled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<Phase>,

    /// The `metadata.generation` this status was written for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,

    /// Accepted, Running, Succeeded and Failed, each with a reason and the generation it
    /// was observed at (`kubectl wait --for=condition=Succeeded` works).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(extend("x-kubernetes-list-type" = "map", "x-kubernetes-list-map-keys" = ["type"]))]
    pub conditions: Vec<Condition>,

    /// While Queued: how many jobs start before this one, plus one (1 starts next).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue_position: Option<u32>,

    /// The image type being built (from the spec or the kickstart's magic line).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_type: Option<ImageType>,

    /// The job id used in AMQP messages and web URLs (`spec.legacyId`, or the uid).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legacy_id: Option<String>,

    /// The kickstart that was accepted for the build.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kickstart: Option<KickstartRecord>,

    /// When the job became Queued (the start of its wait).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queued_time: Option<Time>,

    /// When the runner started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<Time>,

    /// When the job ended (Succeeded, Failed or Cancelled).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion_time: Option<Time>,

    /// The build's stages (clone, boot, kickstarter, build, collect, cleanup) with their times.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stages: Vec<StageRecord>,

    /// The files the build produced.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub artifacts: Vec<Artifact>,

    /// Where the build log is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log: Option<LogRecord>,

    /// A CamelCase word saying why the job failed or was cancelled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,

    /// A human-readable explanation, naming the file, line or field at fault where there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,

    /// The runner Pod's name, once there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runner_pod: Option<String>,

    /// What the operator told the outside world about this job: the 2010 AMQP result
    /// messages and the completion e-mail. A notification recorded here is never sent again,
    /// so an operator restart or a broker outage neither loses nor repeats one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notifications: Option<Notifications>,
}

/// Where a job is in its life.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[schemars(transform = crate::schema::without_description)]
pub enum Phase {
    /// Created; the source has not been checked yet (or a referenced ConfigMap or Secret
    /// does not exist yet).
    Pending,
    /// Valid and waiting for a free runner.
    Queued,
    /// A runner is building the image.
    Running,
    /// The image was built.
    Succeeded,
    /// The job ended without an image: invalid source, build failure, timeout, lost runner.
    Failed,
    /// `spec.cancel` stopped the job.
    Cancelled,
}

impl Phase {
    /// Whether the job has ended.
    pub fn is_finished(self) -> bool {
        matches!(self, Phase::Succeeded | Phase::Failed | Phase::Cancelled)
    }

    /// The name as written in status.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Pending => "Pending",
            Phase::Queued => "Queued",
            Phase::Running => "Running",
            Phase::Succeeded => "Succeeded",
            Phase::Failed => "Failed",
            Phase::Cancelled => "Cancelled",
        }
    }
}

/// The kickstart a job builds from.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct KickstartRecord {
    /// SHA-256 of the kickstart text, hex.
    pub sha256: String,
    /// Its length in bytes.
    pub bytes: u64,
    /// For template jobs: the kickstarter configuration rendered (its `FileName`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub configuration: Option<String>,
    /// The text, when it is not in the spec itself (rendered from a template, or read from a
    /// ConfigMap or Secret at admission, so later edits to those do not change the build).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

/// The stages of a build, in order.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[serde(rename_all = "lowercase")]
#[schemars(transform = crate::schema::without_description)]
pub enum Stage {
    /// Copy-on-write clone of the base disk.
    Clone,
    /// Boot the VM and wait for SSH.
    Boot,
    /// Run kickstarter in the VM (template jobs).
    Kickstarter,
    /// Run the image creator.
    Build,
    /// Move the image and log to the images volume and checksum them.
    Collect,
    /// Stop the VM and remove its disk.
    Cleanup,
}

impl Stage {
    /// Every stage, in order.
    pub const ALL: [Stage; 6] = [
        Stage::Clone,
        Stage::Boot,
        Stage::Kickstarter,
        Stage::Build,
        Stage::Collect,
        Stage::Cleanup,
    ];

    /// The name status uses (`clone`, `boot`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Clone => "clone",
            Stage::Boot => "boot",
            Stage::Kickstarter => "kickstarter",
            Stage::Build => "build",
            Stage::Collect => "collect",
            Stage::Cleanup => "cleanup",
        }
    }
}

/// How a stage ended.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[schemars(transform = crate::schema::without_description)]
pub enum StageOutcome {
    /// It did its work.
    Succeeded,
    /// It failed, and the build with it.
    Failed,
    /// It was not needed (kickstarter for a plain kickstart).
    Skipped,
}

/// One stage of a build.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct StageRecord {
    /// Which stage.
    pub name: Stage,
    /// When it started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<Time>,
    /// When it ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<Time>,
    /// How it ended (absent while it runs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<StageOutcome>,
    /// What went wrong, or a note.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// A file the build produced.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Artifact {
    /// The file name, in the job's directory on the images volume.
    pub name: String,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 of the contents, hex.
    pub sha256: String,
    /// Where to download it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// Where a build log is.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct LogRecord {
    /// The path on the images volume (`<namespace>/<name>/<file>`).
    pub path: String,
    /// Where to read it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// The notifications of a job.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Notifications {
    /// The 2010 result messages the broker confirmed: `result_queue` (the log), then
    /// `link_queue` (the image) or `error_queue` (the failure).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub amqp: Vec<Delivery>,

    /// The completion e-mail to `spec.notify.email`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<Delivery>,
}

impl Notifications {
    /// The AMQP message recorded for `queue`, if any.
    pub fn amqp_to(&self, queue: &str) -> Option<&Delivery> {
        self.amqp.iter().find(|d| d.target == queue)
    }
}

/// How one notification went.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Delivery {
    /// Where it went: a queue name, or the e-mail recipients.
    pub target: String,
    /// Delivered, Retrying or GaveUp.
    pub state: DeliveryState,
    /// How many times it was tried.
    pub attempts: u32,
    /// When it was last tried.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_attempt_time: Option<Time>,
    /// When the broker confirmed it, or the mail server accepted it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivered_time: Option<Time>,
    /// Why the last attempt failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// Where a notification is.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
#[schemars(transform = crate::schema::without_description)]
pub enum DeliveryState {
    /// It failed and will be tried again.
    #[default]
    Retrying,
    /// It was delivered.
    Delivered,
    /// It failed too often, or cannot be delivered (no valid recipient); it is not tried again.
    GaveUp,
}

impl DeliveryState {
    /// Whether nothing more will be done.
    pub fn is_final(self) -> bool {
        !matches!(self, DeliveryState::Retrying)
    }
}
