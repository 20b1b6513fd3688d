//! The `ImageJob` custom resource and the job/result contract between the operator and
//! `vm-runner`.
//!
//! This crate is laid out by the workspace issue; its types arrive with the CRD/operator issue
//! (see `../ARCHITECTURE` notes in the top-level README).
