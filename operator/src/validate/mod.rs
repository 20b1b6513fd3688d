//! Admission: a job's spec and source are checked before it may queue. The checks are pure
//! ([`check_spec`], [`accept`]); only [`fetch`] talks to the API server, to read a referenced
//! ConfigMap or Secret.

mod accept;
mod fetch;
mod spec;

pub use accept::{Accepted, accept};
pub use fetch::{
    CONFIGURATIONS_KEY, Fetched, PATH_SEPARATOR_IN_KEYS, REPOSITORIES_KEY, SourceText,
    builtin_template, fetch, template_from_config_map,
};
pub use spec::check_spec;

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
