//! The job description a runner Pod receives.

use img_crd::runner::{JOB_DESCRIPTION_VERSION, JobDescription};
use img_crd::{ImageJob, urls};
use kube::ResourceExt;

use crate::config::RunnerConfig;
use crate::validate::Accepted;

/// The build time limit of `job`, in seconds.
pub fn timeout_seconds(job: &ImageJob, config: &RunnerConfig) -> u64 {
    u64::from(
        job.spec
            .runner
            .timeout_seconds
            .unwrap_or(config.timeout_seconds),
    )
}

/// What the runner is told about `job`, accepted as `accepted`; `legacy_id` is the job's 2010 id.
pub fn describe(
    job: &ImageJob,
    accepted: &Accepted,
    legacy_id: &str,
    config: &RunnerConfig,
) -> JobDescription {
    let namespace = job.namespace().unwrap_or_default();
    let name = job.name_any();
    let base_disk = job
        .spec
        .runner
        .base_disk
        .clone()
        .unwrap_or_else(|| config.base_disk.clone());
    JobDescription {
        version: JOB_DESCRIPTION_VERSION,
        output_dir: urls::job_dir(&namespace, &name),
        namespace,
        name,
        uid: job.uid().unwrap_or_default(),
        legacy_id: legacy_id.to_owned(),
        image_type: accepted.image_type,
        kickstart: accepted.kickstart.clone(),
        template: accepted.template.clone(),
        base_disk,
        timeout_seconds: timeout_seconds(job, config),
        cpus: job.spec.runner.cpus.unwrap_or(config.cpus),
        memory_mib: job.spec.runner.memory_mib.unwrap_or(config.memory_mib),
    }
}
