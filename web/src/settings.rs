//! How a deployment configures the frontend (from `img-web`'s command line).

use crate::auth::AuthMode;

/// The frontend's settings, shared by every handler.
#[derive(Debug, Clone)]
pub struct Settings {
    /// This frontend's public base URL (for links in JSON and e-mail), if configured.
    pub public_url: Option<String>,
    /// Where new jobs go unless they name a namespace.
    pub namespace: String,
    /// Who the user is.
    pub auth: AuthMode,
    /// The kickstarter template ConfigMap the submit form offers platforms of (in the job's
    /// namespace); `None`: the example template built into IMG.
    pub template_config_map: Option<String>,
    /// Repositories the operator appends to overlaid platforms (so previews match).
    pub overlay_repos: Vec<String>,
    /// The largest request body accepted (uploads included), in bytes.
    pub max_upload: usize,
}

impl Settings {
    /// Settings for a single-user laptop: no authentication, the built-in template.
    pub fn local(namespace: &str) -> Settings {
        Settings {
            public_url: None,
            namespace: namespace.to_owned(),
            auth: AuthMode::Off,
            template_config_map: None,
            overlay_repos: Vec::new(),
            max_upload: DEFAULT_MAX_UPLOAD,
        }
    }
}

/// The default request body limit: a kickstart (at most 1 MiB) and the form around it.
pub const DEFAULT_MAX_UPLOAD: usize = 2 * 1024 * 1024;
