//! Reading a job's source from the API: the spec's own text, a key of a ConfigMap or Secret,
//! or a template ConfigMap (or the example template built into IMG).

use img_crd::ImageJobSpec;
use img_crd::admission::{SourceText, builtin_template, template_from_config_map};
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::{Api, Client};

use crate::error::Result;

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

fn config_map_bytes(cm: &ConfigMap, key: &str) -> Option<Vec<u8>> {
    if let Some(text) = cm.data.as_ref().and_then(|d| d.get(key)) {
        return Some(text.as_bytes().to_vec());
    }
    cm.binary_data
        .as_ref()
        .and_then(|d| d.get(key))
        .map(|b| b.0.clone())
}
