//! The Helm chart and the plain manifests, checked by independent tools: Helm itself lints and
//! renders the chart (default, full example and one-namespace values), kubernetes-validate
//! checks every object against the Kubernetes 1.37 schemas (custom resources against their
//! CRD), the real kubectl builds the kustomizations and applies the render to the loopback API
//! server, and the operator starts from the rendered Deployment and leads. manifests/base must
//! be the chart's render (`scripts/gen-manifests`), and the Argo CD and Flux health checks in
//! the chart's README must say what they claim about ImageJobs.
//!
//! The Python side is `tests/python/img_chart.py`, run by `$IMG_TEST_PYTHON`; without it the
//! tests skip with a message (outside CI).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

#[path = "../support/mod.rs"]
mod support;

#[path = "../support/helm.rs"]
mod helm;

mod apply;
mod examples;
mod health;
mod lint;
mod manifests;
mod render;
mod security;
mod wiring;
