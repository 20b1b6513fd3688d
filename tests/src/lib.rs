//! Workspace-level test support. Its centrepiece is [`apiserver`], a loopback Kubernetes API
//! server that behaves like the real one where the operator, kubectl and kube-rs depend on it,
//! checked with those real clients in this crate's tests.

pub mod apiserver;
pub mod browser;
pub mod kubectl;
pub mod package_cache;
pub mod services;
