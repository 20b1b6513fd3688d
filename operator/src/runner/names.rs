//! Names and ownership of the objects made for a job.

use img_crd::ImageJob;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::Resource;

/// The runner (or KubeVirt driver) Pod of a job.
pub fn runner_pod_name(job_name: &str) -> String {
    format!("{job_name}-runner")
}

/// The Pod that removes a deleted job's files.
pub fn cleanup_pod_name(job_name: &str) -> String {
    format!("{job_name}-cleanup")
}

/// The Secret holding the job description (kickstarts may hold passwords, so not a ConfigMap).
pub fn job_secret_name(job_name: &str) -> String {
    format!("{job_name}-job")
}

/// The controller reference to `job` that the objects made for it carry, so garbage
/// collection removes them with it and the controller sees their changes.
pub fn owner_reference(job: &ImageJob) -> Option<OwnerReference> {
    job.controller_owner_ref(&())
}
