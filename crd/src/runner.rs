//! The contract between the operator and `vm-runner`: the job description the runner Pod
//! reads, and the result it leaves in its termination message. Both sides compile against
//! these types, so a change here is a change to both.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{Artifact, ImageType, StageRecord};

/// The runner's subcommand that builds one job:
/// `vm-runner run --job <JOB_MOUNT>/<JOB_FILE> --images <IMAGES_MOUNT> --base <BASE_DISK_MOUNT>
/// --termination-log <TERMINATION_MESSAGE_PATH>`. Paths reach the runner as arguments (never
/// inside the job description), so whatever runs the Pod may place the volumes elsewhere.
pub const RUN_SUBCOMMAND: &str = "run";

/// The runner's subcommand that builds one job in a KubeVirt VM, driving it over SSH:
/// `vm-runner drive --job <JOB_MOUNT>/<JOB_FILE> --ssh-host <host> --ssh-key <file>`. It
/// writes the same [`RunResult`] termination message as [`RUN_SUBCOMMAND`].
pub const DRIVE_SUBCOMMAND: &str = "drive";

/// The runner's subcommand that removes a deleted job's files:
/// `vm-runner clean --dir <IMAGES_MOUNT>/<namespace>/<name>` (idempotent: a missing directory
/// is success).
pub const CLEAN_SUBCOMMAND: &str = "clean";

/// The version of [`JobDescription`] this build writes and reads.
pub const JOB_DESCRIPTION_VERSION: u32 = 1;

/// The key of the job description in the Secret the operator creates for the runner.
pub const JOB_FILE: &str = "job.json";

/// Where the runner Pod finds the job description.
pub const JOB_MOUNT: &str = "/etc/img/job";

/// Where the runner Pod has the images volume.
pub const IMAGES_MOUNT: &str = "/images";

/// Where the runner Pod has the base-disk volume (read-only).
pub const BASE_DISK_MOUNT: &str = "/base";

/// Where the runner Pod has the package cache volume, when the operator has one.
pub const PACKAGE_CACHE_MOUNT: &str = "/var/cache/img/packages";

/// Where the runner writes its [`RunResult`] (Kubernetes' default `terminationMessagePath`).
pub const TERMINATION_MESSAGE_PATH: &str = "/dev/termination-log";

/// Kubernetes keeps at most this many bytes of a container's termination message.
pub const TERMINATION_MESSAGE_LIMIT: usize = 4096;

/// The name of the full result file the runner leaves in the job's output directory.
pub const RESULT_FILE: &str = "result.json";

/// One job, as the runner receives it.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct JobDescription {
    /// [`JOB_DESCRIPTION_VERSION`].
    pub version: u32,
    /// The ImageJob's namespace.
    pub namespace: String,
    /// The ImageJob's name.
    pub name: String,
    /// The ImageJob's uid.
    pub uid: String,
    /// The 2010 job id.
    pub legacy_id: String,
    /// What to build.
    pub image_type: ImageType,
    /// The kickstart, as accepted by the operator (rendered, for template jobs).
    pub kickstart: String,
    /// For template jobs: the template, so the runner can run kickstarter in the VM as the
    /// 2010 service did (and compare with [`JobDescription::kickstart`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<TemplateInput>,
    /// The base disk image: a file name in the base-disk directory (`--base`).
    pub base_disk: String,
    /// The directory for the image, the log and the kickstart, relative to the images
    /// directory (`--images`): `<namespace>/<name>`.
    pub output_dir: String,
    /// The build's time limit in seconds.
    pub timeout_seconds: u64,
    /// Virtual CPUs of the VM.
    pub cpus: u32,
    /// Memory of the VM in MiB.
    pub memory_mib: u32,
}

/// A kickstarter template job, for rendering inside the VM.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TemplateInput {
    /// `configurations.yaml`.
    pub configurations: String,
    /// `repos.yaml` (empty for the mer dialect, which keeps repositories in the template).
    pub repositories: String,
    /// Companion files by relative path (`custom/scripts/cleanup.post`).
    #[serde(default)]
    pub files: BTreeMap<String, String>,
    /// The platform section.
    pub platform: String,
    /// The overlay text, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overlay: Option<String>,
    /// The `FileName` of the configuration to render.
    pub configuration: String,
    /// The kickstarter dialect name.
    pub dialect: String,
    /// Repositories the deployment appends to every overlaid platform.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub overlay_repos: Vec<String>,
}

/// How a run ended, as the runner saw it.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The image was built and collected.
    Succeeded,
    /// The build failed.
    Failed,
}

/// What the runner reports: written, trimmed to fit, as the container's termination message,
/// and in full as [`RESULT_FILE`] next to the image.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RunResult {
    /// How it ended.
    pub outcome: Outcome,
    /// A CamelCase reason for a failure (see [`crate::conditions::reasons`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// What went wrong, for people.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The stages with their times.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stages: Vec<StageRecord>,
    /// The files produced, without URLs (the operator adds them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub artifacts: Vec<Artifact>,
    /// The log's file name in the output directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log: Option<String>,
    /// How many artifacts were left out of this (termination message) copy to fit.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub omitted_artifacts: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl RunResult {
    /// The result as a termination message: JSON of at most [`TERMINATION_MESSAGE_LIMIT`]
    /// bytes. Long messages are shortened first, then stage messages dropped, then trailing
    /// artifacts (counted in `omittedArtifacts`); the full result stays in [`RESULT_FILE`].
    pub fn to_termination_message(&self) -> String {
        let mut fitted = self.clone();
        let fits = |r: &RunResult| {
            serde_json::to_string(r)
                .map(|s| s.len() <= TERMINATION_MESSAGE_LIMIT)
                .unwrap_or(false)
        };
        for limit in [1024, 256, 64] {
            if fits(&fitted) {
                break;
            }
            if let Some(m) = &fitted.message {
                fitted.message = Some(shorten(m, limit));
            }
            for stage in &mut fitted.stages {
                if let Some(m) = &stage.message {
                    stage.message = Some(shorten(m, limit / 4));
                }
            }
        }
        while !fits(&fitted) && !fitted.artifacts.is_empty() {
            fitted.artifacts.pop();
            fitted.omitted_artifacts += 1;
        }
        if !fits(&fitted) {
            fitted.stages.clear();
        }
        serde_json::to_string(&fitted).unwrap_or_default()
    }

    /// Reads a termination message written by [`RunResult::to_termination_message`].
    pub fn from_termination_message(text: &str) -> Result<RunResult, serde_json::Error> {
        serde_json::from_str(text.trim())
    }
}

/// `text` cut to at most `max` bytes (on a character boundary), marked with an ellipsis.
pub fn shorten(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max.saturating_sub('…'.len_utf8());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Stage, StageOutcome};

    fn result(artifacts: usize, message: &str) -> RunResult {
        RunResult {
            outcome: Outcome::Failed,
            reason: Some("BuildFailed".into()),
            message: Some(message.into()),
            stages: vec![StageRecord {
                name: Stage::Build,
                started_at: None,
                finished_at: None,
                outcome: Some(StageOutcome::Failed),
                message: Some(message.into()),
            }],
            artifacts: (0..artifacts)
                .map(|i| Artifact {
                    name: format!("image-{i}.raw"),
                    size: 1 << 30,
                    sha256: "ab".repeat(32),
                    url: None,
                })
                .collect(),
            log: Some("image.log".into()),
            omitted_artifacts: 0,
        }
    }

    #[test]
    fn small_results_pass_through_unchanged() {
        let r = result(2, "mic exited with status 1");
        let text = r.to_termination_message();
        assert_eq!(RunResult::from_termination_message(&text).unwrap(), r);
    }

    #[test]
    fn long_messages_and_many_artifacts_are_trimmed_to_the_limit() {
        let r = result(100, &"é".repeat(10_000));
        let text = r.to_termination_message();
        assert!(text.len() <= TERMINATION_MESSAGE_LIMIT, "{}", text.len());
        let back = RunResult::from_termination_message(&text).unwrap();
        assert_eq!(back.outcome, Outcome::Failed);
        assert!(back.message.unwrap().ends_with('…'));
        assert_eq!(back.artifacts.len() + back.omitted_artifacts, 100);
        assert!(back.omitted_artifacts > 0);
    }

    #[test]
    fn shorten_respects_character_boundaries() {
        assert_eq!(shorten("abc", 3), "abc");
        let s = shorten("ééééé", 6);
        assert!(s.len() <= 6 && s.ends_with('…'), "{s}");
    }
}
