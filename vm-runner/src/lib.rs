//! One image build end to end on one machine: clone the base disk copy-on-write, boot it in
//! QEMU, drive it over SSH (kickstarter, then the image creator), collect the artifacts,
//! tear everything down — and the image creator itself ([`creator`]), which the base disk
//! carries as `mic`/`mic-image-creator`.

pub mod accel;
pub mod artifacts;
pub mod basedisk;
pub mod bootcheck;
pub mod cli;
pub mod command;
pub mod creator;
pub mod joblog;
pub mod local;
pub mod overlay;
pub mod run;
pub mod settings;
pub mod share;
pub mod signals;
pub mod ssh;
pub mod stages;
pub mod vm;
