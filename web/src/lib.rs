//! The IMG web frontend and JSON API (axum) on top of `ImageJob` resources, and (to come)
//! the `imgctl` client. Work in progress on this branch: the JSON job list and downloads.

pub mod app;
pub mod files;
pub mod list;
pub mod submit;
pub mod view;
