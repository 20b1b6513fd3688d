//! What an ingress message becomes: an ImageJob named after its id (so a redelivered message
//! finds the job it already made), and for a kickstarter configuration a template ConfigMap
//! beside it. Pure.

use std::collections::BTreeMap;

use img_crd::admission::{
    CONFIGURATIONS_KEY, PATH_SEPARATOR_IN_KEYS, REPOSITORIES_KEY, SourceText,
};
use img_crd::{ImageJob, ImageJobSpec, Notify, Source, TemplateSource, labels};
use k8s_openapi::api::core::v1::ConfigMap;
use kickstarter::Dialect;
use kickstarter::platform::{TemplateText, active_configurations};
use kube::api::ObjectMeta;
use sha2::{Digest, Sha256};

use crate::amqp::messages::{Ingress, IngressSource, LegacyId, Refusal};
use crate::amqp::topology::{IMAGE_QUEUE, KICKSTARTER_QUEUE};

/// The prefix of the names of jobs made from messages.
const NAME_PREFIX: &str = "amqp-";
/// Hex digits of the id's hash in a job name: names stay unique when ids differ only in
/// characters a name cannot hold.
const HASH_DIGITS: usize = 10;

/// The ImageJob name for message id `id`: `amqp-<id as a name>-<hash>`, at most
/// [`labels::MAX_JOB_NAME`] characters, the same for every delivery of the message.
pub fn job_name(id: &LegacyId) -> String {
    let text = id.as_text();
    let hash = hex::encode(Sha256::digest(text.as_bytes()));
    let room = labels::MAX_JOB_NAME - NAME_PREFIX.len() - 1 - HASH_DIGITS;
    let mut slug = String::new();
    for c in text.chars() {
        let c = c.to_ascii_lowercase();
        let c = if c.is_ascii_alphanumeric() { c } else { '-' };
        if !(c == '-' && (slug.is_empty() || slug.ends_with('-'))) {
            slug.push(c);
        }
        if slug.len() == room {
            break;
        }
    }
    let slug = slug.trim_end_matches('-');
    let mut name = NAME_PREFIX.to_owned();
    if !slug.is_empty() {
        name.push_str(slug);
        name.push('-');
    }
    name.push_str(&hash[..HASH_DIGITS]);
    name
}

/// The name of the template ConfigMap of job `job`.
pub fn template_name(job: &str) -> String {
    format!("{job}-template")
}

/// The ImageJob for `message` in `namespace`. `template` names the configuration a
/// kickstarter message builds (see [`choose_configuration`]).
pub fn image_job(message: &Ingress, namespace: &str, template: Option<&Chosen>) -> ImageJob {
    let name = job_name(&message.id);
    let (queue, source) = match (&message.source, template) {
        (IngressSource::Kickstart(ks), _) => (
            IMAGE_QUEUE,
            Source {
                kickstart: Some(ks.clone()),
                ..Default::default()
            },
        ),
        (IngressSource::Config(_), chosen) => (
            KICKSTARTER_QUEUE,
            Source {
                template: Some(TemplateSource {
                    config_map: Some(template_name(&name)),
                    platform: chosen.map(|c| c.platform.clone()).unwrap_or_default(),
                    configuration: chosen.map(|c| c.file_name.clone()),
                    ..Default::default()
                }),
                ..Default::default()
            },
        ),
    };
    let mut annotations = BTreeMap::from([
        (
            labels::SUBMITTER.to_owned(),
            message.email.clone().unwrap_or_else(|| "amqp".to_owned()),
        ),
        (labels::AMQP_QUEUE.to_owned(), queue.to_owned()),
    ]);
    if message.id.is_number() {
        annotations.insert(labels::LEGACY_ID_NUMERIC.to_owned(), "true".to_owned());
    }
    ImageJob {
        metadata: ObjectMeta {
            name: Some(name),
            namespace: Some(namespace.to_owned()),
            labels: Some(BTreeMap::from([(
                labels::ORIGIN.to_owned(),
                labels::ORIGIN_AMQP.to_owned(),
            )])),
            annotations: Some(annotations),
            ..Default::default()
        },
        spec: ImageJobSpec {
            image_type: Some(message.image_type),
            source,
            notify: Notify {
                email: message.email.iter().cloned().collect(),
                amqp: true,
            },
            legacy_id: Some(message.id.as_text()),
            ..Default::default()
        },
        status: None,
    }
}

/// The configuration a kickstarter message builds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chosen {
    /// Its platform section.
    pub platform: String,
    /// Its `FileName`.
    pub file_name: String,
}

/// The one configuration `config` writes, completed by `base`'s repositories and companion
/// files (the deployment's template). A configuration that cannot be rendered, or that writes
/// no kickstart or several, is refused: one message builds one image.
pub fn choose_configuration(
    config: &str,
    base: &SourceText,
    id: &LegacyId,
) -> Result<Chosen, Refusal> {
    let refuse = |reason: String| Refusal::new(reason, Some(id.clone()));
    let (repositories, files) = base_files(base);
    let text = TemplateText {
        configurations: config,
        repositories,
        files,
    };
    let found = active_configurations(text, Dialect::default())
        .map_err(|e| refuse(format!("field \"config\": {e}")))?;
    match found.as_slice() {
        [one] if !one.platform.is_empty() => Ok(Chosen {
            platform: one.platform.clone(),
            file_name: one.file_name.clone(),
        }),
        [one] => Err(refuse(format!(
            "field \"config\": configuration {:?} names no Platform",
            one.file_name
        ))),
        [] => Err(refuse(
            "field \"config\": no active configuration; there is nothing to build".to_owned(),
        )),
        many => Err(refuse(format!(
            "field \"config\": {} active configurations ({}); a message builds one image, so \
             mark the others Active: False",
            many.len(),
            many.iter()
                .map(|c| c.file_name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

fn base_files(base: &SourceText) -> (&str, &BTreeMap<String, String>) {
    static NONE: BTreeMap<String, String> = BTreeMap::new();
    match base {
        SourceText::Template {
            repositories,
            files,
            ..
        } => (repositories, files),
        SourceText::Kickstart { .. } => ("", &NONE),
    }
}

/// The template ConfigMap of `job`: the message's configuration with `base`'s repositories
/// and companion files, in the layout template ConfigMaps have.
pub fn template_config_map(job: &ImageJob, config: &str, base: &SourceText) -> ConfigMap {
    let (repositories, files) = base_files(base);
    let mut data = BTreeMap::from([
        (CONFIGURATIONS_KEY.to_owned(), config.to_owned()),
        (REPOSITORIES_KEY.to_owned(), repositories.to_owned()),
    ]);
    for (path, text) in files {
        data.insert(path.replace('/', PATH_SEPARATOR_IN_KEYS), text.clone());
    }
    let name = job.metadata.name.clone().unwrap_or_default();
    ConfigMap {
        metadata: ObjectMeta {
            name: Some(template_name(&name)),
            namespace: job.metadata.namespace.clone(),
            labels: Some(BTreeMap::from([
                (labels::ORIGIN.to_owned(), labels::ORIGIN_AMQP.to_owned()),
                (labels::JOB.to_owned(), name),
                (labels::MANAGED_BY.to_owned(), labels::OPERATOR.to_owned()),
            ])),
            ..Default::default()
        },
        data: Some(data),
        ..Default::default()
    }
}

#[cfg(test)]
#[path = "build_tests.rs"]
mod tests;
