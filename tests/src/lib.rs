//! Workspace-level test support: the loopback Kubernetes API server and shared fixtures.
//!
//! Laid out by the workspace issue; the API server arrives with its own issue.
