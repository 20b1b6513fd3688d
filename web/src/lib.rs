//! The IMG web frontend and JSON API (axum) on top of `ImageJob` resources: the 2010 pages
//! (`submit/`, `queue/`, `job/<id>`, `images/<id>/<file>`, `clear/`), the JSON API under
//! `/api/v1` that `imgctl` uses, `/metrics` and `/healthz`.

pub mod api;
pub mod app;
pub mod auth;
pub mod csrf;
pub mod error;
pub mod files;
pub mod imgctl;
pub mod jobs;
pub mod list;
pub mod logs;
pub mod metrics;
pub mod pages;
pub mod settings;
pub mod store;
pub mod submit;
pub mod view;
