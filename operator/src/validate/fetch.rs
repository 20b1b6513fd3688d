//! Reading a job's source: the spec's own text, a key of a ConfigMap or Secret, or a
//! template ConfigMap (or the example template built into IMG).

use std::collections::BTreeMap;

use img_crd::ImageJobSpec;
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::{Api, Client};

use crate::error::Result;

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

/// What [`fetch`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fetched {
    /// The source.
    Found(SourceText),
    /// A referenced object or key does not exist (yet): the job waits for it. The message
    /// names what is missing.
    Missing(String),
}

/// Reads the source of a job in `namespace`. Expects [`super::check_spec`] to have passed.
pub async fn fetch(client: &Client, namespace: &str, spec: &ImageJobSpec) -> Result<Fetched> {
    let source = &spec.source;
    if let Some(text) = &source.kickstart {
        return Ok(Fetched::Found(SourceText::Kickstart {
            bytes: text.as_bytes().to_vec(),
            file: "spec.source.kickstart".to_owned(),
            in_spec: true,
        }));
    }
    if let Some(from) = &source.kickstart_from {
        if let Some(r) = &from.config_map_key_ref {
            let api: Api<ConfigMap> = Api::namespaced(client.clone(), namespace);
            let Some(cm) = api.get_opt(&r.name).await? else {
                return Ok(Fetched::Missing(format!(
                    "ConfigMap {:?} not found",
                    r.name
                )));
            };
            return Ok(match config_map_bytes(&cm, &r.key) {
                Some(bytes) => Fetched::Found(SourceText::Kickstart {
                    bytes,
                    file: format!("configmap/{}/{}", r.name, r.key),
                    in_spec: false,
                }),
                None => Fetched::Missing(format!("ConfigMap {:?} has no key {:?}", r.name, r.key)),
            });
        }
        if let Some(r) = &from.secret_key_ref {
            let api: Api<Secret> = Api::namespaced(client.clone(), namespace);
            let Some(secret) = api.get_opt(&r.name).await? else {
                return Ok(Fetched::Missing(format!("Secret {:?} not found", r.name)));
            };
            let value = secret
                .data
                .as_ref()
                .and_then(|d| d.get(&r.key))
                .map(|b| b.0.clone());
            return Ok(match value {
                Some(bytes) => Fetched::Found(SourceText::Kickstart {
                    bytes,
                    file: format!("secret/{}/{}", r.name, r.key),
                    in_spec: false,
                }),
                None => Fetched::Missing(format!("Secret {:?} has no key {:?}", r.name, r.key)),
            });
        }
    }
    let Some(template) = &source.template else {
        return Ok(Fetched::Missing("spec.source names no source".to_owned()));
    };
    let Some(name) = &template.config_map else {
        return Ok(Fetched::Found(builtin_template()));
    };
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), namespace);
    Ok(match api.get_opt(name).await? {
        None => Fetched::Missing(format!("template ConfigMap {name:?} not found")),
        Some(cm) => Fetched::Found(template_from_config_map(name, &cm)),
    })
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

fn config_map_bytes(cm: &ConfigMap, key: &str) -> Option<Vec<u8>> {
    if let Some(text) = cm.data.as_ref().and_then(|d| d.get(key)) {
        return Some(text.as_bytes().to_vec());
    }
    cm.binary_data
        .as_ref()
        .and_then(|d| d.get(key))
        .map(|b| b.0.clone())
}
