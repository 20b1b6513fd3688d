//! Kickstarter configuration files: loading, merging a configuration with what it inherits,
//! and the repository list.

pub(crate) mod mer;
mod merge;
mod repos;
mod template;

pub use merge::{LIST_KEYS, Merged, Note, merge};
pub use repos::{Repository, load_repositories, repositories_in};
pub(crate) use template::expect_map;
pub use template::{Entry, Template};
