//! The IMG operator: reconciles `ImageJob` resources into runner Pods, keeps the queue and
//! status, and bridges notifications (e-mail, AMQP).

pub mod admin;
pub mod amqp;
pub mod config;
pub mod context;
pub mod controller;
pub mod error;
pub mod lease;
pub mod metrics;
pub mod notify;
pub mod process;
pub mod queue;
pub mod reconcile;
pub mod run;
pub mod runner;
pub mod status;
pub mod validate;
