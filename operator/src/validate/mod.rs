//! Admission: a job's spec and source are checked before it may queue. The checks are pure
//! ([`check_spec`], and [`accept`] from `img_crd::admission`, shared with the web frontend);
//! only [`fetch`] talks to the API server, to read a referenced ConfigMap or Secret.

mod fetch;
mod spec;

pub use fetch::{Fetched, fetch};
pub use img_crd::admission::{
    Accepted, CONFIGURATIONS_KEY, PATH_SEPARATOR_IN_KEYS, REPOSITORIES_KEY, Rejection, SourceText,
    accept, builtin_template, template_from_config_map,
};
pub use spec::check_spec;
