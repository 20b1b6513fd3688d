//! The KubeVirt runner: a VirtualMachineInstance booted from a copy-on-write overlay of the
//! base disk, a Service that reaches its SSH port, and a small driver Pod that runs
//! `vm-runner drive` against it (kickstarter and the image creator run inside the VM, the
//! driver collects the image onto the images volume and writes the same
//! [`RunResult`](img_crd::runner::RunResult) termination message as the QEMU runner Pod).
//!
//! Each job gets a fresh ed25519 key pair: the private half goes into the job Secret (for
//! the driver only), the public half into the VM's cloud-init user data. Everything here is
//! pure; the reconciler creates what [`kubevirt_objects`] returns.

use std::collections::BTreeMap;
use std::fmt;

use img_crd::ImageJob;
use img_crd::labels::component;
use img_crd::runner::{
    DRIVE_SUBCOMMAND, IMAGES_MOUNT, JOB_FILE, JOB_MOUNT, JobDescription, TERMINATION_MESSAGE_PATH,
};
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::{
    Pod, ResourceRequirements, Secret, Service, ServicePort, ServiceSpec,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kube::ResourceExt;
use kube::api::{ApiResource, DynamicObject};
use serde_json::json;
use ssh_key::rand_core::OsRng;
use ssh_key::{Algorithm, LineEnding, PrivateKey};

use super::names::{job_secret_name, runner_pod_name};
use super::pod::{
    claim_volume, images_claim, job_secret_volume, labels, meta, mount, one_shot_pod, run_deadline,
    runner_container,
};
use crate::config::RunnerConfig;

/// The key of the driver's SSH private key (OpenSSH format) in the job Secret, next to
/// [`JOB_FILE`]. The QEMU runner's Secret has no such key.
pub const SSH_KEY_FILE: &str = "id_ed25519";

/// The SSH port the Service exposes and the VM's sshd listens on.
pub const SSH_PORT: i32 = 22;

/// How long KubeVirt lets the guest shut down before it kills it. The VM is thrown away after
/// every build; the grace only lets the guest flush pending writes to the images volume when
/// a build is cancelled.
pub const VM_TERMINATION_GRACE_SECONDS: i64 = 10;

/// The VMI's names for its devices and volumes (a disk or filesystem refers to the volume of
/// the same name). The filesystem's name is also the virtiofs tag the guest mounts.
const BASE_VOLUME: &str = "base";
const CLOUD_INIT_VOLUME: &str = "cloudinit";
const IMAGES_VOLUME: &str = "images";
const POD_NETWORK: &str = "default";

/// Settings of the KubeVirt runner that [`RunnerConfig`] does not (yet) carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KubevirtSettings {
    /// The PersistentVolumeClaim (per namespace) holding the VM base disk as KubeVirt wants
    /// it: `disk.img`, raw, at the root of a filesystem-mode claim, or a block-mode claim. The
    /// VM boots from an ephemeral copy-on-write overlay over it, so the claim is only read
    /// (ReadOnlyMany lets concurrent builds on several nodes share it).
    pub base_disk_claim: String,
}

/// A job's SSH key pair, in OpenSSH encodings.
#[derive(Clone, PartialEq, Eq)]
pub struct SshKeys {
    /// The private key (`-----BEGIN OPENSSH PRIVATE KEY-----`, unencrypted).
    pub private_openssh: String,
    /// The public key as an `authorized_keys` line (`ssh-ed25519 AAAA… comment`).
    pub public_openssh: String,
}

// Keeps the private key out of logs and panic messages.
impl fmt::Debug for SshKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SshKeys")
            .field("private_openssh", &"<redacted>")
            .field("public_openssh", &self.public_openssh)
            .finish()
    }
}

/// A fresh ed25519 key pair from the operating system's random source: one per job, so a
/// key that leaks opens only one throw-away VM.
pub fn generate_ssh_keys() -> Result<SshKeys, ssh_key::Error> {
    let mut key = PrivateKey::random(&mut OsRng, Algorithm::Ed25519)?;
    key.set_comment("img-operator");
    Ok(SshKeys {
        private_openssh: key.to_openssh(LineEnding::LF)?.to_string(),
        public_openssh: key.public_key().to_openssh()?,
    })
}

/// What the KubeVirt runner of one job consists of.
#[derive(Debug, Clone)]
pub struct KubevirtObjects {
    /// The job Secret: [`JOB_FILE`] and [`SSH_KEY_FILE`], mounted into the driver Pod.
    pub secret: Secret,
    /// The `kubevirt.io/v1` VirtualMachineInstance that builds the image.
    pub vmi: DynamicObject,
    /// The ClusterIP Service in front of the VM's SSH port.
    pub service: Service,
    /// The driver Pod, named like the QEMU runner Pod so the operator follows it the same way.
    pub driver: Pod,
}

/// The API resource of KubeVirt's VirtualMachineInstance, for `Api::namespaced_with`.
pub fn vmi_api_resource() -> ApiResource {
    ApiResource {
        group: "kubevirt.io".to_owned(),
        version: "v1".to_owned(),
        api_version: "kubevirt.io/v1".to_owned(),
        kind: "VirtualMachineInstance".to_owned(),
        plural: "virtualmachineinstances".to_owned(),
    }
}

/// The VirtualMachineInstance of a job (within the 63 characters of a label value and a host
/// name for the longest job names).
pub fn vmi_name(job_name: &str) -> String {
    format!("{job_name}-vm")
}

/// The Service in front of a job's VM.
pub fn ssh_service_name(job_name: &str) -> String {
    format!("{job_name}-ssh")
}

/// The DNS name under which the driver reaches the VM of `job`: `<service>.<namespace>.svc`.
pub fn ssh_host(job: &ImageJob) -> String {
    format!(
        "{}.{}.svc",
        ssh_service_name(&job.name_any()),
        job.namespace().unwrap_or_default()
    )
}

/// The objects that run `job` in KubeVirt, described by `description`, with the key pair
/// `keys` (see [`generate_ssh_keys`]).
pub fn kubevirt_objects(
    job: &ImageJob,
    description: &JobDescription,
    config: &RunnerConfig,
    settings: &KubevirtSettings,
    keys: &SshKeys,
) -> Result<KubevirtObjects, serde_json::Error> {
    Ok(KubevirtObjects {
        secret: job_secret(job, description, keys)?,
        vmi: vmi(job, description, config, settings, keys)?,
        service: service(job),
        driver: driver_pod(job, description, config),
    })
}

/// The job Secret of a KubeVirt job. It holds the private key, so only the driver Pod mounts
/// it; the VM gets the public key alone, through cloud-init.
fn job_secret(
    job: &ImageJob,
    description: &JobDescription,
    keys: &SshKeys,
) -> serde_json::Result<Secret> {
    // The same encoding as the QEMU runner's Secret: `vm-runner` reads either.
    let json = serde_json::to_vec_pretty(description)?;
    Ok(Secret {
        metadata: meta(job, job_secret_name(&job.name_any()), component::DRIVER),
        data: Some(BTreeMap::from([
            (JOB_FILE.to_owned(), ByteString(json)),
            (
                SSH_KEY_FILE.to_owned(),
                ByteString(keys.private_openssh.clone().into_bytes()),
            ),
        ])),
        immutable: Some(true),
        ..Default::default()
    })
}

/// The cloud-init NoCloud user data: the driver's public key for root (the image creator
/// needs root, and `disable_root: false` makes cloud-init install the key for root as well
/// as for the image's default user without the "log in as …" forced command), and the
/// images filesystem mounted at the same path as in the driver Pod, so
/// [`JobDescription::output_dir`] (relative to it) means the same directory on both sides.
fn user_data(public_key: &str) -> serde_json::Result<String> {
    let config = json!({
        "ssh_authorized_keys": [public_key],
        "disable_root": false,
        // bootcmd runs early on every boot, before sshd accepts the driver.
        "bootcmd": [
            ["mkdir", "-p", IMAGES_MOUNT],
            ["mount", "-t", "virtiofs", IMAGES_VOLUME, IMAGES_MOUNT],
        ],
    });
    // JSON is YAML: writing the cloud-config as JSON needs no YAML emitter and no hand-made
    // quoting.
    Ok(format!(
        "#cloud-config\n{}\n",
        serde_json::to_string_pretty(&config)?
    ))
}

/// The VirtualMachineInstance. Field names follow KubeVirt's `kubevirt.io/v1` API
/// (`VirtualMachineInstanceSpec`, `DomainSpec`, `Devices`, `Volume`).
fn vmi(
    job: &ImageJob,
    description: &JobDescription,
    config: &RunnerConfig,
    settings: &KubevirtSettings,
    keys: &SshKeys,
) -> serde_json::Result<DynamicObject> {
    let memory = format!("{}Mi", description.memory_mib);
    let mut spec = json!({
        "domain": {
            "cpu": { "cores": description.cpus },
            "memory": { "guest": memory },
            // Requests like the QEMU runner Pod's, so both runners are scheduled alike
            // (KubeVirt adds its own overhead to the virt-launcher Pod).
            "resources": {
                "requests": { "cpu": description.cpus.to_string(), "memory": memory }
            },
            "devices": {
                "disks": [
                    { "name": BASE_VOLUME, "bootOrder": 1, "disk": { "bus": "virtio" } },
                    { "name": CLOUD_INIT_VOLUME, "disk": { "bus": "virtio" } },
                ],
                "filesystems": [
                    { "name": IMAGES_VOLUME, "virtiofs": {} },
                ],
                "interfaces": [
                    { "name": POD_NETWORK, "masquerade": {} },
                ],
                // The guest's entropy from the host: key generation and package signature
                // checks would otherwise stall in a fresh VM.
                "rng": {},
            },
        },
        "networks": [
            { "name": POD_NETWORK, "pod": {} },
        ],
        // virtiofs and a local overlay make the VM unmigratable; a drained node ends the
        // build (the job fails) instead of blocking the drain.
        "evictionStrategy": "None",
        "terminationGracePeriodSeconds": VM_TERMINATION_GRACE_SECONDS,
        "volumes": [
            {
                "name": BASE_VOLUME,
                // KubeVirt's copy-on-write overlay over the claim: writes go to a local
                // image that dies with the VM, the base disk is never changed (the
                // analogue of `qemu-img create -b` in the QEMU runner).
                "ephemeral": {
                    "persistentVolumeClaim": {
                        "claimName": settings.base_disk_claim,
                        "readOnly": true,
                    },
                },
            },
            {
                "name": CLOUD_INIT_VOLUME,
                "cloudInitNoCloud": { "userData": user_data(&keys.public_openssh)? },
            },
            {
                "name": IMAGES_VOLUME,
                "persistentVolumeClaim": { "claimName": images_claim(job, config) },
            },
        ],
    });
    // The build VM is the heavy part of a KubeVirt job: the job's node selector places it.
    if !job.spec.runner.node_selector.is_empty() {
        spec["nodeSelector"] = serde_json::to_value(&job.spec.runner.node_selector)?;
    }
    let metadata = meta(job, vmi_name(&job.name_any()), component::VM);
    let mut vmi = DynamicObject::new(&vmi_name(&job.name_any()), &vmi_api_resource());
    vmi.metadata = metadata;
    vmi.data = json!({ "spec": spec });
    Ok(vmi)
}

/// The Service the driver reaches the VM's sshd through. KubeVirt copies a VMI's labels to
/// its virt-launcher Pod, and masquerade binding forwards the Pod's ports to the guest, so
/// selecting the VMI's labels (unique through the job's uid) selects this job's VM alone.
fn service(job: &ImageJob) -> Service {
    Service {
        metadata: meta(job, ssh_service_name(&job.name_any()), component::VM),
        spec: Some(ServiceSpec {
            type_: Some("ClusterIP".to_owned()),
            selector: Some(labels(job, component::VM)),
            ports: Some(vec![ServicePort {
                name: Some("ssh".to_owned()),
                protocol: Some("TCP".to_owned()),
                port: SSH_PORT,
                target_port: Some(IntOrString::Int(SSH_PORT)),
                ..Default::default()
            }]),
            // The driver waits for sshd itself; the name should resolve as soon as the
            // virt-launcher Pod has an address, whatever KubeVirt's readiness says.
            publish_not_ready_addresses: Some(true),
            ..Default::default()
        }),
        status: None,
    }
}

/// The driver Pod: `vm-runner drive` with the job description, the private key and the
/// images volume. No base disk, no KVM: the VM is KubeVirt's.
fn driver_pod(job: &ImageJob, description: &JobDescription, config: &RunnerConfig) -> Pod {
    let job_file = format!("{JOB_MOUNT}/{JOB_FILE}");
    let key_file = format!("{JOB_MOUNT}/{SSH_KEY_FILE}");
    let host = ssh_host(job);
    // SSH, copying and checksumming: a fraction of a CPU and little memory (page cache of
    // the copied image is reclaimable).
    let requests = BTreeMap::from([
        ("cpu".to_owned(), Quantity("100m".to_owned())),
        ("memory".to_owned(), Quantity("128Mi".to_owned())),
    ]);
    let limits = BTreeMap::from([("memory".to_owned(), Quantity("512Mi".to_owned()))]);
    let container = runner_container(
        config,
        "driver",
        &[
            DRIVE_SUBCOMMAND,
            "--job",
            &job_file,
            "--ssh-host",
            &host,
            "--ssh-key",
            &key_file,
            "--images",
            IMAGES_MOUNT,
            "--termination-log",
            TERMINATION_MESSAGE_PATH,
        ],
        vec![
            mount("job", JOB_MOUNT, true),
            mount("images", IMAGES_MOUNT, false),
        ],
        Some(ResourceRequirements {
            requests: Some(requests),
            limits: Some(limits),
            ..Default::default()
        }),
    );
    one_shot_pod(
        job,
        runner_pod_name(&job.name_any()),
        component::DRIVER,
        config,
        container,
        vec![
            job_secret_volume(job),
            claim_volume("images", images_claim(job, config), false),
        ],
        run_deadline(description, config),
    )
}

#[cfg(test)]
#[path = "kubevirt_tests.rs"]
mod tests;
