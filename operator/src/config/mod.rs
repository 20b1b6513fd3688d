//! The operator's settings: command-line flags, each also read from an `IMG_*` environment
//! variable (the Helm chart sets those).

use std::net::SocketAddr;
use std::time::Duration;

use clap::Args;

mod notify;

pub use notify::{AmqpConfig, NotifyConfig, SmtpConfig, SmtpTls};

/// Everything the operator needs to know besides the cluster it talks to.
#[derive(Debug, Clone, Args)]
pub struct Config {
    /// Watch ImageJobs in this namespace only (default: all namespaces).
    #[arg(long, env = "IMG_WATCH_NAMESPACE")]
    pub watch_namespace: Option<String>,

    /// At most this many jobs run at once, in total.
    #[arg(long, env = "IMG_MAX_RUNNING", default_value_t = 2)]
    pub max_running: usize,

    /// At most this many jobs run at once in one namespace (default: --max-running).
    #[arg(long, env = "IMG_MAX_RUNNING_PER_NAMESPACE")]
    pub max_running_per_namespace: Option<usize>,

    /// The web frontend's public base URL: download and log links in status, e-mail and AMQP
    /// messages are made under it. Without it, status carries no URLs.
    #[arg(long, env = "IMG_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// Repositories appended to the platform of every overlaid template job (the 2010
    /// deployment added its `internal` repository this way). Repeatable.
    #[arg(
        long = "overlay-repo",
        env = "IMG_OVERLAY_REPOS",
        value_delimiter = ','
    )]
    pub overlay_repos: Vec<String>,

    /// Where /metrics, /healthz and /readyz are served.
    #[arg(long, env = "IMG_ADMIN_ADDR", default_value = "0.0.0.0:8080")]
    pub admin_addr: SocketAddr,

    /// How long the queue waits for more changes before recomputing positions and admitting
    /// jobs, in milliseconds (a burst of submissions costs one pass, not one per job).
    #[arg(long, env = "IMG_QUEUE_DEBOUNCE_MS", default_value_t = 200)]
    pub queue_debounce_ms: u64,

    /// How often a job whose ConfigMap or Secret does not exist yet looks again, in seconds.
    #[arg(long, env = "IMG_SOURCE_RECHECK_SECONDS", default_value_t = 30)]
    pub source_recheck_seconds: u64,

    #[command(flatten)]
    #[allow(missing_docs)]
    pub runner: RunnerConfig,

    #[command(flatten)]
    #[allow(missing_docs)]
    pub leader: LeaderConfig,

    #[command(flatten)]
    #[allow(missing_docs)]
    pub amqp: AmqpConfig,

    #[command(flatten)]
    #[allow(missing_docs)]
    pub smtp: SmtpConfig,

    #[command(flatten)]
    #[allow(missing_docs)]
    pub notify: NotifyConfig,
}

impl Config {
    /// The per-namespace limit in effect.
    pub fn per_namespace_limit(&self) -> usize {
        self.max_running_per_namespace.unwrap_or(self.max_running)
    }

    /// The queue's debounce window.
    pub fn queue_debounce(&self) -> Duration {
        Duration::from_millis(self.queue_debounce_ms)
    }
}

/// How runner and cleanup Pods are made.
#[derive(Debug, Clone, Args)]
pub struct RunnerConfig {
    /// The container image with `vm-runner`, QEMU and the tools it drives.
    #[arg(long = "runner-image", env = "IMG_RUNNER_IMAGE", default_value = concat!("ghcr.io/img-project/vm-runner:", env!("CARGO_PKG_VERSION")))]
    pub image: String,

    /// The image pull policy of runner Pods (default: Kubernetes' own default).
    #[arg(
        long = "runner-image-pull-policy",
        env = "IMG_RUNNER_IMAGE_PULL_POLICY"
    )]
    pub image_pull_policy: Option<String>,

    /// The runner program and any leading arguments, comma-separated; the operator appends
    /// the subcommand and its arguments (`run --job FILE --images DIR ...`, `clean --dir DIR`,
    /// `drive ...`; see `img_crd::runner`).
    #[arg(
        long = "runner-command",
        env = "IMG_RUNNER_COMMAND",
        value_delimiter = ',',
        default_value = "vm-runner"
    )]
    pub command: Vec<String>,

    /// The PersistentVolumeClaim (per namespace) that holds images, unless a job names its own.
    #[arg(long, env = "IMG_IMAGES_CLAIM", default_value = "img-images")]
    pub images_claim: String,

    /// The PersistentVolumeClaim (per namespace) holding base VM disks, mounted read-only.
    #[arg(long, env = "IMG_BASE_DISK_CLAIM", default_value = "img-base-disk")]
    pub base_disk_claim: String,

    /// A PersistentVolumeClaim (per namespace) for the image creator's package cache, shared
    /// by all runners (ReadWriteMany where builds run on several nodes): a build takes the
    /// packages it finds there and adds the ones it downloads. No cache without it.
    #[arg(long, env = "IMG_PACKAGE_CACHE_CLAIM")]
    pub package_cache_claim: Option<String>,

    /// For `kubevirt` jobs: the PersistentVolumeClaim (per namespace) with the base disk as
    /// KubeVirt boots it (`disk.img` at its root, or a block-mode claim), overlaid
    /// copy-on-write by an ephemeral volume.
    #[arg(
        long,
        env = "IMG_KUBEVIRT_BASE_DISK_CLAIM",
        default_value = "img-base-disk-kubevirt"
    )]
    pub kubevirt_base_disk_claim: String,

    /// The base disk file used unless a job names another.
    #[arg(long, env = "IMG_BASE_DISK", default_value = "base.qcow2")]
    pub base_disk: String,

    /// Virtual CPUs of a build VM unless the job says otherwise.
    #[arg(long = "runner-cpus", env = "IMG_RUNNER_CPUS", default_value_t = 2)]
    pub cpus: u32,

    /// Memory of a build VM in MiB unless the job says otherwise.
    #[arg(
        long = "runner-memory-mib",
        env = "IMG_RUNNER_MEMORY_MIB",
        default_value_t = 2048
    )]
    pub memory_mib: u32,

    /// A build's time limit in seconds unless the job says otherwise.
    #[arg(long = "default-timeout-seconds", env = "IMG_DEFAULT_TIMEOUT_SECONDS", default_value_t = 3 * 3600)]
    pub timeout_seconds: u32,

    /// Seconds a runner gets past the build timeout to stop its VM and report before the
    /// kubelet ends its Pod (`activeDeadlineSeconds` = timeout + this).
    #[arg(
        long = "runner-deadline-grace-seconds",
        env = "IMG_RUNNER_DEADLINE_GRACE_SECONDS",
        default_value_t = 120
    )]
    pub deadline_grace_seconds: u64,

    /// An extended resource that gives a Pod `/dev/kvm` (e.g. `devices.kubevirt.io/kvm`, from
    /// KubeVirt's or a generic device plugin). Runner Pods request one; without it they use
    /// QEMU's TCG.
    #[arg(long, env = "IMG_KVM_RESOURCE")]
    pub kvm_resource: Option<String>,

    /// Supplementary groups of runner Pods, comma-separated: the group that owns `/dev/kvm` on
    /// the nodes (often `kvm`, gid 36 on Red Hat-like systems, 108 or so on Debian) when runners
    /// should use KVM without a device plugin.
    #[arg(
        long = "runner-supplemental-groups",
        env = "IMG_RUNNER_SUPPLEMENTAL_GROUPS",
        value_delimiter = ','
    )]
    pub supplemental_groups: Vec<i64>,

    /// The service account of runner Pods (they need no API access).
    #[arg(long = "runner-service-account", env = "IMG_RUNNER_SERVICE_ACCOUNT")]
    pub service_account: Option<String>,
}

/// Leader election: one replica acts, the others stand by.
#[derive(Debug, Clone, Args)]
pub struct LeaderConfig {
    /// The Lease's name.
    #[arg(
        long = "lease-name",
        env = "IMG_LEASE_NAME",
        default_value = "img-operator"
    )]
    pub lease_name: String,

    /// The Lease's namespace (in a Pod: the Pod's own, from POD_NAMESPACE).
    #[arg(
        long = "lease-namespace",
        env = "POD_NAMESPACE",
        default_value = "default"
    )]
    pub lease_namespace: String,

    /// This replica's identity in the Lease (in a Pod: its name, from POD_NAME).
    #[arg(long, env = "POD_NAME")]
    pub identity: Option<String>,

    /// How long a Lease is valid without renewal, in seconds.
    #[arg(
        long = "lease-duration-seconds",
        env = "IMG_LEASE_DURATION_SECONDS",
        default_value_t = 15
    )]
    pub lease_duration_seconds: u64,
}
