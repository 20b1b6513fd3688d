//! What runs a build: the job description, the runner Pod (QEMU inside), the KubeVirt
//! alternative, the cleanup Pod, and reading a finished Pod's result. Object building is pure;
//! the reconciler creates what these functions return.

mod description;
#[cfg(test)]
mod fixtures;
pub mod kubevirt;
mod names;
mod pod;
mod result;

pub use description::{describe, timeout_seconds};
pub use names::{cleanup_pod_name, job_secret_name, owner_reference, runner_pod_name};
pub use pod::{cleanup_pod, images_claim, job_secret, runner_pod};
pub use result::{Finished, Observed, observe};
