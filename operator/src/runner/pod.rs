//! The runner Pod, its job Secret, and the cleanup Pod.

use std::collections::BTreeMap;

use img_crd::labels::{self, component};
use img_crd::runner::{
    BASE_DISK_MOUNT, CLEAN_SUBCOMMAND, IMAGES_MOUNT, JOB_FILE, JOB_MOUNT, JobDescription,
    PACKAGE_CACHE_MOUNT, RUN_SUBCOMMAND, TERMINATION_MESSAGE_PATH,
};
use img_crd::{ImageJob, urls};
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::{
    Capabilities, Container, EmptyDirVolumeSource, EnvVar, PersistentVolumeClaimVolumeSource, Pod,
    PodSecurityContext, PodSpec, ResourceRequirements, SeccompProfile, Secret, SecretVolumeSource,
    SecurityContext, Volume, VolumeMount,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::ResourceExt;

use super::names::{cleanup_pod_name, job_secret_name, owner_reference, runner_pod_name};
use crate::config::RunnerConfig;

/// Memory the runner Pod needs beyond the VM's own: QEMU itself, the runner, page cache for
/// the disk overlay.
const POD_MEMORY_OVERHEAD_MIB: u32 = 512;

/// How long a cleanup Pod may run.
const CLEANUP_DEADLINE_SECONDS: i64 = 600;

/// The uid and gid runner Pods run as (the runner image's `img` user).
const RUNNER_UID: i64 = 1000;

/// The writable scratch space of runner-image containers, whose root file system is
/// read-only: the VM's copy-on-write disk, QEMU's and virtiofsd's sockets, temporary files
/// (`TMPDIR` points there).
const SCRATCH_MOUNT: &str = "/var/lib/img/scratch";

/// The labels of everything made for `job`, with `component`.
pub(super) fn labels(job: &ImageJob, component: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        (labels::MANAGED_BY.to_owned(), labels::OPERATOR.to_owned()),
        (labels::COMPONENT.to_owned(), component.to_owned()),
        (labels::JOB.to_owned(), job.name_any()),
        (labels::JOB_UID.to_owned(), job.uid().unwrap_or_default()),
    ])
}

pub(super) fn meta(job: &ImageJob, name: String, component: &str) -> ObjectMeta {
    ObjectMeta {
        name: Some(name),
        namespace: job.namespace(),
        labels: Some(labels(job, component)),
        owner_references: owner_reference(job).map(|o| vec![o]),
        ..Default::default()
    }
}

/// The Secret with the job description, mounted into the runner Pod.
pub fn job_secret(job: &ImageJob, description: &JobDescription) -> serde_json::Result<Secret> {
    let json = serde_json::to_vec_pretty(description)?;
    Ok(Secret {
        metadata: meta(job, job_secret_name(&job.name_any()), component::RUNNER),
        data: Some(BTreeMap::from([(JOB_FILE.to_owned(), ByteString(json))])),
        immutable: Some(true),
        ..Default::default()
    })
}

pub(super) fn claim_volume(name: &str, claim: &str, read_only: bool) -> Volume {
    Volume {
        name: name.to_owned(),
        persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
            claim_name: claim.to_owned(),
            read_only: Some(read_only),
        }),
        ..Default::default()
    }
}

pub(super) fn mount(name: &str, path: &str, read_only: bool) -> VolumeMount {
    VolumeMount {
        name: name.to_owned(),
        mount_path: path.to_owned(),
        read_only: Some(read_only),
        ..Default::default()
    }
}

/// A locked-down container security context: nothing QEMU with TCG or an opened `/dev/kvm`
/// needs beyond an ordinary user, and a read-only root (scratch space is an emptyDir).
pub(super) fn restricted() -> SecurityContext {
    SecurityContext {
        allow_privilege_escalation: Some(false),
        read_only_root_filesystem: Some(true),
        capabilities: Some(Capabilities {
            drop: Some(vec!["ALL".to_owned()]),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// The Pod security context: the image's user, and the groups that may open `/dev/kvm`
/// (`--runner-supplemental-groups`; often the node's `kvm` group).
pub(super) fn pod_security(config: &RunnerConfig) -> PodSecurityContext {
    PodSecurityContext {
        run_as_non_root: Some(true),
        run_as_user: Some(RUNNER_UID),
        run_as_group: Some(RUNNER_UID),
        fs_group: Some(RUNNER_UID),
        supplemental_groups: (!config.supplemental_groups.is_empty())
            .then(|| config.supplemental_groups.clone()),
        seccomp_profile: Some(SeccompProfile {
            type_: "RuntimeDefault".to_owned(),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// The images claim of `job`: its own, or the operator's default.
pub fn images_claim<'a>(job: &'a ImageJob, config: &'a RunnerConfig) -> &'a str {
    job.spec
        .output
        .claim_name
        .as_deref()
        .unwrap_or(&config.images_claim)
}

pub(super) fn command(config: &RunnerConfig, args: &[&str]) -> Vec<String> {
    config
        .command
        .iter()
        .cloned()
        .chain(args.iter().map(|a| (*a).to_owned()))
        .collect()
}

/// A container of the runner image running the runner command with `args`.
pub(super) fn runner_container(
    config: &RunnerConfig,
    name: &str,
    args: &[&str],
    volume_mounts: Vec<VolumeMount>,
    resources: Option<ResourceRequirements>,
) -> Container {
    Container {
        name: name.to_owned(),
        image: Some(config.image.clone()),
        image_pull_policy: config.image_pull_policy.clone(),
        command: Some(command(config, args)),
        env: Some(vec![
            EnvVar {
                name: "RUST_LOG".to_owned(),
                value: Some("info".to_owned()),
                ..Default::default()
            },
            EnvVar {
                name: "TMPDIR".to_owned(),
                value: Some(SCRATCH_MOUNT.to_owned()),
                ..Default::default()
            },
        ]),
        volume_mounts: Some(
            volume_mounts
                .into_iter()
                .chain([mount("scratch", SCRATCH_MOUNT, false)])
                .collect(),
        ),
        resources,
        // A runner that dies before writing its result still leaves the end of its log.
        termination_message_policy: Some("FallbackToLogsOnError".to_owned()),
        security_context: Some(restricted()),
        ..Default::default()
    }
}

/// A Pod of `job` around one container: never restarted, ended after `deadline_seconds`, no
/// API token, locked down.
pub(super) fn one_shot_pod(
    job: &ImageJob,
    name: String,
    component: &str,
    config: &RunnerConfig,
    container: Container,
    volumes: Vec<Volume>,
    deadline_seconds: i64,
) -> Pod {
    Pod {
        metadata: meta(job, name, component),
        spec: Some(PodSpec {
            restart_policy: Some("Never".to_owned()),
            active_deadline_seconds: Some(deadline_seconds),
            termination_grace_period_seconds: Some(30),
            automount_service_account_token: Some(false),
            service_account_name: config.service_account.clone(),
            enable_service_links: Some(false),
            security_context: Some(pod_security(config)),
            containers: vec![container],
            volumes: Some(
                volumes
                    .into_iter()
                    .chain([Volume {
                        name: "scratch".to_owned(),
                        empty_dir: Some(EmptyDirVolumeSource::default()),
                        ..Default::default()
                    }])
                    .collect(),
            ),
            ..Default::default()
        }),
        status: None,
    }
}

/// The job Secret as a volume (readable by the runner's user only).
pub(super) fn job_secret_volume(job: &ImageJob) -> Volume {
    Volume {
        name: "job".to_owned(),
        secret: Some(SecretVolumeSource {
            secret_name: Some(job_secret_name(&job.name_any())),
            default_mode: Some(0o400),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// A runner's `activeDeadlineSeconds`: the build timeout plus the grace to report.
pub(super) fn run_deadline(description: &JobDescription, config: &RunnerConfig) -> i64 {
    i64::try_from(
        description
            .timeout_seconds
            .saturating_add(config.deadline_grace_seconds),
    )
    .unwrap_or(i64::MAX)
}

/// The runner Pod: `vm-runner run` with the job description, the base disk (read-only), the
/// images volume and the package cache if there is one; `/dev/kvm` through `--kvm-resource`
/// when the cluster offers it.
pub fn runner_pod(job: &ImageJob, description: &JobDescription, config: &RunnerConfig) -> Pod {
    let job_file = format!("{JOB_MOUNT}/{JOB_FILE}");
    let memory = Quantity(format!(
        "{}Mi",
        description.memory_mib + POD_MEMORY_OVERHEAD_MIB
    ));
    let mut requests = BTreeMap::from([
        ("cpu".to_owned(), Quantity(description.cpus.to_string())),
        ("memory".to_owned(), memory.clone()),
    ]);
    let mut limits = BTreeMap::from([("memory".to_owned(), memory)]);
    if let Some(kvm) = &config.kvm_resource {
        requests.insert(kvm.clone(), Quantity("1".to_owned()));
        limits.insert(kvm.clone(), Quantity("1".to_owned()));
    }
    let mut args = vec![
        RUN_SUBCOMMAND,
        "--job",
        &job_file,
        "--images",
        IMAGES_MOUNT,
        "--base",
        BASE_DISK_MOUNT,
        "--termination-log",
        TERMINATION_MESSAGE_PATH,
    ];
    let mut mounts = vec![
        mount("job", JOB_MOUNT, true),
        mount("images", IMAGES_MOUNT, false),
        mount("base", BASE_DISK_MOUNT, true),
    ];
    let mut volumes = vec![
        job_secret_volume(job),
        claim_volume("images", images_claim(job, config), false),
        claim_volume("base", &config.base_disk_claim, true),
    ];
    if let Some(claim) = &config.package_cache_claim {
        args.extend(["--package-cache", PACKAGE_CACHE_MOUNT]);
        mounts.push(mount("packages", PACKAGE_CACHE_MOUNT, false));
        volumes.push(claim_volume("packages", claim, false));
    }
    let container = runner_container(
        config,
        "runner",
        &args,
        mounts,
        Some(ResourceRequirements {
            requests: Some(requests),
            limits: Some(limits),
            ..Default::default()
        }),
    );
    let mut pod = one_shot_pod(
        job,
        runner_pod_name(&job.name_any()),
        component::RUNNER,
        config,
        container,
        volumes,
        run_deadline(description, config),
    );
    if let Some(spec) = pod.spec.as_mut()
        && !job.spec.runner.node_selector.is_empty()
    {
        spec.node_selector = Some(job.spec.runner.node_selector.clone());
    }
    pod
}

/// The Pod that removes a deleted job's directory from the images volume
/// (`vm-runner clean --dir /images/<namespace>/<name>`).
pub fn cleanup_pod(job: &ImageJob, config: &RunnerConfig) -> Pod {
    let namespace = job.namespace().unwrap_or_default();
    let dir = format!(
        "{IMAGES_MOUNT}/{}",
        urls::job_dir(&namespace, &job.name_any())
    );
    let container = runner_container(
        config,
        "cleanup",
        &[CLEAN_SUBCOMMAND, "--dir", &dir],
        vec![mount("images", IMAGES_MOUNT, false)],
        None,
    );
    one_shot_pod(
        job,
        cleanup_pod_name(&job.name_any()),
        component::CLEANUP,
        config,
        container,
        vec![claim_volume("images", images_claim(job, config), false)],
        CLEANUP_DEADLINE_SECONDS,
    )
}

#[cfg(test)]
#[path = "pod_tests.rs"]
mod tests;
