//! The `ImageJob` custom resource and the job/result contract between the operator and
//! `vm-runner`.
//!
//! Laid out by the workspace issue; the types arrive with the CRD/operator issue.
