//! Names the operator puts on the objects it makes, so they can be found and told apart.

/// The finalizer that removes a job's files from the images volume before the job goes.
pub const FINALIZER: &str = "img.meego.com/cleanup";

/// Label on runner, driver and cleanup Pods and the job Secret: the ImageJob's name.
pub const JOB: &str = "img.meego.com/job";

/// Label with the ImageJob's uid (a job re-created under the same name is another job).
pub const JOB_UID: &str = "img.meego.com/job-uid";

/// `app.kubernetes.io/component`: what the object does (`runner`, `driver`, `vm`, `cleanup`).
pub const COMPONENT: &str = "app.kubernetes.io/component";

/// `app.kubernetes.io/managed-by`.
pub const MANAGED_BY: &str = "app.kubernetes.io/managed-by";

/// The value of [`MANAGED_BY`] on everything the operator creates.
pub const OPERATOR: &str = "img-operator";

/// Annotation naming who submitted a job (the web frontend's user, or the e-mail address of
/// an AMQP message).
pub const SUBMITTER: &str = "img.meego.com/submitter";

/// Label saying where a job came from when not from the API directly (`amqp`).
pub const ORIGIN: &str = "img.meego.com/origin";

/// The value of [`ORIGIN`] on jobs made from AMQP messages.
pub const ORIGIN_AMQP: &str = "amqp";

/// Annotation on AMQP jobs: the queue the message came from.
pub const AMQP_QUEUE: &str = "img.meego.com/amqp-queue";

/// Annotation on AMQP jobs whose id arrived as a JSON number (`"true"`), so results carry it
/// back as one.
pub const LEGACY_ID_NUMERIC: &str = "img.meego.com/legacy-id-numeric";

/// Component names.
pub mod component {
    /// The Pod that runs `vm-runner` (and QEMU in it).
    pub const RUNNER: &str = "runner";
    /// The Pod that drives a KubeVirt VM over SSH.
    pub const DRIVER: &str = "driver";
    /// The KubeVirt VirtualMachineInstance.
    pub const VM: &str = "vm";
    /// The Pod that removes a deleted job's files.
    pub const CLEANUP: &str = "cleanup";
}

/// The longest ImageJob name: room for the `-cleanup` suffix within the 63 characters of a
/// label value and a Pod's host name.
pub const MAX_JOB_NAME: usize = 52;
