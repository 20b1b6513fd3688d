//! Condition types and reasons of `ImageJob.status.conditions`, as constants so the operator,
//! the web frontend and users' scripts agree on the words.

/// Condition types.
pub mod types {
    /// The source was checked: True when the kickstart (or template) is valid, False with the
    /// reason when it is not or cannot be read yet.
    pub const ACCEPTED: &str = "Accepted";
    /// True while a runner is building.
    pub const RUNNING: &str = "Running";
    /// True when the image was built.
    pub const SUCCEEDED: &str = "Succeeded";
    /// True when the job ended without an image (invalid, failed, timed out or cancelled).
    pub const FAILED: &str = "Failed";
}

/// Reasons, for conditions and `status.reason`.
pub mod reasons {
    /// Accepted: the source is valid.
    pub const VALID: &str = "Valid";
    /// The kickstart has errors (the message names file and line).
    pub const INVALID_KICKSTART: &str = "InvalidKickstart";
    /// The kickstarter template cannot be read or rendered.
    pub const INVALID_TEMPLATE: &str = "InvalidTemplate";
    /// The template has no such platform.
    pub const UNKNOWN_PLATFORM: &str = "UnknownPlatform";
    /// The overlay is malformed (the message names the item).
    pub const INVALID_OVERLAY: &str = "InvalidOverlay";
    /// Neither the spec nor the kickstart names an image type.
    pub const NO_IMAGE_TYPE: &str = "NoImageType";
    /// The spec is inconsistent (the message names the field).
    pub const INVALID_SPEC: &str = "InvalidSpec";
    /// The referenced ConfigMap, Secret or key does not exist (yet); the job waits for it.
    pub const SOURCE_NOT_FOUND: &str = "SourceNotFound";
    /// Running: the runner was started.
    pub const RUNNER_STARTED: &str = "RunnerStarted";
    /// Running is over.
    pub const RUNNER_FINISHED: &str = "RunnerFinished";
    /// Succeeded: the image is on the images volume.
    pub const IMAGE_BUILT: &str = "ImageBuilt";
    /// The runner reported a failed build.
    pub const BUILD_FAILED: &str = "BuildFailed";
    /// The build VM could not be cloned, booted or reached, or it died during the build.
    pub const VM_FAILED: &str = "VmFailed";
    /// The runner could not use its job description or paths.
    pub const INVALID_JOB: &str = "InvalidJob";
    /// The runner ended without a readable result (a crash, a signal).
    pub const RUNNER_CRASHED: &str = "RunnerCrashed";
    /// The runner was killed for using too much memory.
    pub const OUT_OF_MEMORY: &str = "OutOfMemory";
    /// The runner's Pod disappeared while the job was running.
    pub const RUNNER_LOST: &str = "RunnerLost";
    /// The build ran longer than its timeout.
    pub const TIMEOUT: &str = "Timeout";
    /// `spec.runner.kind: kubevirt`, but the cluster does not serve KubeVirt's
    /// VirtualMachineInstances.
    pub const KUBEVIRT_UNAVAILABLE: &str = "KubevirtUnavailable";
    /// `spec.cancel` was set.
    pub const CANCELLED: &str = "Cancelled";
}
