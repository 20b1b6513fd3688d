//! Test builders for the runner objects: a job `team/nb`, its description, a runner config.

use img_crd::runner::{JOB_DESCRIPTION_VERSION, JobDescription};
use img_crd::{ImageJob, ImageJobSpec, ImageType};

use crate::config::RunnerConfig;

/// A runner configuration with the defaults and a KVM device resource.
pub(super) fn config() -> RunnerConfig {
    RunnerConfig {
        image: "runner:1".into(),
        image_pull_policy: Some("IfNotPresent".into()),
        command: vec!["vm-runner".into()],
        images_claim: "img-images".into(),
        base_disk_claim: "img-base-disk".into(),
        package_cache_claim: None,
        kubevirt_base_disk_claim: "img-base-disk-kubevirt".into(),
        base_disk: "base.qcow2".into(),
        cpus: 2,
        memory_mib: 2048,
        timeout_seconds: 3600,
        deadline_grace_seconds: 120,
        kvm_resource: Some("devices.kubevirt.io/kvm".into()),
        supplemental_groups: vec![36],
        service_account: None,
    }
}

/// The job `team/nb` with uid `u-1`.
pub(super) fn job() -> ImageJob {
    let mut job = ImageJob::new("nb", ImageJobSpec::default());
    job.metadata.namespace = Some("team".into());
    job.metadata.uid = Some("u-1".into());
    job
}

/// The description of [`job`]: raw, 4 CPUs, 1 GiB, 600 s.
pub(super) fn description() -> JobDescription {
    JobDescription {
        version: JOB_DESCRIPTION_VERSION,
        namespace: "team".into(),
        name: "nb".into(),
        uid: "u-1".into(),
        legacy_id: "u-1".into(),
        image_type: ImageType::Raw,
        kickstart: "%packages\n%end\n".into(),
        template: None,
        base_disk: "base.qcow2".into(),
        output_dir: "team/nb".into(),
        timeout_seconds: 600,
        cpus: 4,
        memory_mib: 1024,
    }
}
