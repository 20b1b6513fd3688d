//! Admission, the part both programs need: which kickstart a job's source builds. A template
//! is rendered for its platform with the overlay applied, the kickstart is read with
//! kickstarter's reader, and the image type is settled — or the job is rejected with a reason
//! and a message naming field, file and line. The operator admits jobs with it; the web
//! frontend runs the same checks before it creates a job and to preview the kickstart. Pure:
//! the source comes in as text (the operator fetches ConfigMaps and Secrets itself).
//!
//! Behind the `admission` feature (it needs `kickstarter`).

mod accept;

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::ConfigMap;

pub use accept::{Accepted, accept};

/// The template file every template ConfigMap must have.
pub const CONFIGURATIONS_KEY: &str = "configurations.yaml";
/// The repositories file (not used by the mer dialect).
pub const REPOSITORIES_KEY: &str = "repos.yaml";
/// How `/` is written in the ConfigMap keys of companion files.
pub const PATH_SEPARATOR_IN_KEYS: &str = "__";

/// A job's source, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceText {
    /// A kickstart.
    Kickstart {
        /// Its bytes, as found.
        bytes: Vec<u8>,
        /// How diagnostics name it (`spec.source.kickstart`, `configmap/ks/netbook.ks`).
        file: String,
        /// Whether it is the spec's own text (then status does not repeat it).
        in_spec: bool,
    },
    /// A kickstarter template.
    Template {
        /// `configurations.yaml`.
        configurations: String,
        /// `repos.yaml` (empty when absent).
        repositories: String,
        /// Companion files by relative path.
        files: BTreeMap<String, String>,
        /// Where it came from, for messages (`ConfigMap netbook-templates`).
        origin: String,
        /// The example template built into IMG (its own dialect applies by default).
        builtin: bool,
    },
}

/// The example template compiled into kickstarter.
pub fn builtin_template() -> SourceText {
    SourceText::Template {
        configurations: kickstarter::example::CONFIGURATIONS.to_owned(),
        repositories: kickstarter::example::REPOS.to_owned(),
        files: kickstarter::example::FILES
            .iter()
            .map(|(path, text)| ((*path).to_owned(), (*text).to_owned()))
            .collect(),
        origin: "the built-in example template".to_owned(),
        builtin: true,
    }
}

/// A template ConfigMap's files: `configurations.yaml`, `repos.yaml`, and every other key as a
/// companion file (`custom__scripts__x.post` → `custom/scripts/x.post`).
pub fn template_from_config_map(name: &str, cm: &ConfigMap) -> SourceText {
    let data = cm.data.clone().unwrap_or_default();
    let mut files = BTreeMap::new();
    let mut configurations = String::new();
    let mut repositories = String::new();
    for (key, value) in data {
        match key.as_str() {
            CONFIGURATIONS_KEY => configurations = value,
            REPOSITORIES_KEY => repositories = value,
            _ => {
                files.insert(key.replace(PATH_SEPARATOR_IN_KEYS, "/"), value);
            }
        }
    }
    SourceText::Template {
        configurations,
        repositories,
        files,
        origin: format!("ConfigMap {name:?}"),
        builtin: false,
    }
}

/// Why a job cannot be built as it stands: the job fails with this reason and message, and is
/// looked at again only when its spec changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// A reason of [`img_crd::conditions::reasons`].
    pub reason: &'static str,
    /// What is wrong and where (field, file and line, or overlay item).
    pub message: String,
}

impl Rejection {
    /// A rejection.
    pub fn new(reason: &'static str, message: impl Into<String>) -> Rejection {
        Rejection {
            reason,
            message: message.into(),
        }
    }
}
