//! The kickstart domain of IMG: kickstarter YAML templates rendered into kickstart files
//! byte for byte as the original tool wrote them, IMG overlays on those templates, and (in
//! [`ks`]) a kickstart reader and validator used before any job is queued.
//!
//! The crate has no Kubernetes or network dependency; the operator, the runner and the web
//! frontend stand on it.
//!
//! ```
//! use kickstarter::{Dialect, MemFiles, Options, Template, generate, load_repositories};
//!
//! let template = Template::parse(br#"
//! Default: {Active: True, Language: en_US.UTF-8, Keyboard: us, Timezone: UTC,
//!           RootPass: meego, DefaultUser: meego, DefaultUserPass: meego,
//!           PartSize: 1900, FileSystem: ext3, SaveRepos: False}
//! NETBOOK: {Groups: [MeeGo Core]}
//! Configurations:
//!   - {Name: Netbook, FileName: netbook, Platform: NETBOOK, Repos: [core]}
//! "#, "configurations.yaml")?;
//! let repos = load_repositories(
//!     b"Repositories: [{Name: core, Url: 'http://repo/core/'}]",
//!     "repos.yaml",
//!     &Default::default(),
//! )?;
//! let run = generate(&template, &repos, &MemFiles::new(), &Options::default())?;
//! assert_eq!(run.outputs[0].path, "netbook.ks");
//! assert!(run.outputs[0].contents.contains("repo --name=core --baseurl=http://repo/core/ \n"));
//! # Ok::<(), kickstarter::Error>(())
//! ```

pub mod config;
pub mod dialect;
mod error;
pub mod example;
pub mod files;
mod generate;
pub mod index;
pub mod ks;
pub mod overlay;
pub mod platform;
pub mod render;
pub mod yaml;

pub use config::{Note, Repository, Template, load_repositories};
pub use dialect::Dialect;
pub use error::{Error, Result};
pub use files::{DirFiles, Files, MemFiles};
pub use generate::{Generated, Options, Output, generate};
