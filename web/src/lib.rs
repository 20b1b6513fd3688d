//! The IMG web frontend and JSON API (axum) on top of `ImageJob` resources. So far: the job
//! list, job details, job creation with kickstart checks, and downloads from the images
//! volume; the HTML pages, live log tails and the `imgctl` client come next.

pub mod app;
pub mod files;
pub mod list;
pub mod store;
pub mod submit;
pub mod view;
