//! The operator against the loopback API server in kubelet mode, with the fake runner
//! (`img-fake-runner`) standing in for vm-runner: the life of a job, the queue, cancellation,
//! timeouts, deletion and cleanup, invalid sources, restarts and two replicas.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

#[path = "../support/mod.rs"]
mod support;

#[path = "../support/world.rs"]
mod env;
mod invalid;
mod kubectl;
mod kubevirt;
mod lifecycle;
mod queue;
mod replicas;
