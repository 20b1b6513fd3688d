//! The example ImageJobs: one for each kind of source, and each accepted by the operator's own
//! admission (the kickstart read, the template rendered for its platform with the overlay) —
//! with the ConfigMaps and Secrets its file ships.

use std::collections::BTreeSet;

use img_crd::admission::{SourceText, accept, builtin_template, template_from_config_map};
use img_crd::{ImageJob, ImageJobSpec, Source, TemplateSource};
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use serde_json::Value;

use crate::helm::{parse_stream, read, workspace};

/// What kind of source a job names.
fn source_kind(spec: &ImageJobSpec) -> &'static str {
    let s = &spec.source;
    match (&s.kickstart, &s.kickstart_from, &s.template) {
        (Some(_), _, _) => "inline kickstart",
        (_, Some(from), _) if from.config_map_key_ref.is_some() => "kickstart in a ConfigMap",
        (_, Some(_), _) => "kickstart in a Secret",
        (_, _, Some(t)) if t.config_map.is_some() => "template in a ConfigMap",
        (_, _, Some(_)) => "built-in template",
        _ => "none",
    }
}

/// The source text of `job`, from the objects of its own file.
fn source_text(job: &ImageJob, objects: &[Value]) -> SourceText {
    let find = |kind: &str, name: &str| {
        objects
            .iter()
            .find(|o| o["kind"] == kind && o["metadata"]["name"] == name)
            .unwrap_or_else(|| panic!("the file has no {kind} {name}"))
            .clone()
    };
    let s: &Source = &job.spec.source;
    if let Some(ks) = &s.kickstart {
        return SourceText::Kickstart {
            bytes: ks.clone().into_bytes(),
            file: "spec.source.kickstart".into(),
            in_spec: true,
        };
    }
    if let Some(from) = &s.kickstart_from {
        let text = if let Some(r) = &from.config_map_key_ref {
            let cm: ConfigMap = serde_json::from_value(find("ConfigMap", &r.name)).unwrap();
            cm.data.unwrap()[&r.key].clone()
        } else {
            let r = from.secret_key_ref.as_ref().unwrap();
            let secret: Secret = serde_json::from_value(find("Secret", &r.name)).unwrap();
            secret.string_data.unwrap()[&r.key].clone()
        };
        return SourceText::Kickstart {
            bytes: text.into_bytes(),
            file: "example".into(),
            in_spec: false,
        };
    }
    match s.template.as_ref().and_then(|t| t.config_map.as_ref()) {
        Some(name) => {
            let cm: ConfigMap = serde_json::from_value(find("ConfigMap", name)).unwrap();
            template_from_config_map(name, &cm)
        }
        None => builtin_template(),
    }
}

#[test]
fn every_example_is_accepted_and_every_source_kind_has_one() {
    let dir = workspace().join("manifests/examples");
    let mut kinds = BTreeSet::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        let objects = parse_stream(&read(format!("manifests/examples/{file}")));
        let jobs: Vec<ImageJob> = objects
            .iter()
            .filter(|o| o["kind"] == "ImageJob")
            .map(|o| serde_json::from_value(o.clone()).unwrap())
            .collect();
        assert_eq!(jobs.len(), 1, "{file}: one ImageJob per example");
        let job = &jobs[0];
        kinds.insert(source_kind(&job.spec));
        if let Err(rejected) = accept(&job.spec, source_text(job, &objects), &[]) {
            panic!("{file}: {}: {}", rejected.reason, rejected.message);
        }
    }
    assert_eq!(
        kinds,
        BTreeSet::from([
            "built-in template",
            "inline kickstart",
            "kickstart in a ConfigMap",
            "kickstart in a Secret",
            "template in a ConfigMap",
        ])
    );
}

#[test]
fn every_platform_of_the_overlays_template_renders() {
    let cm: ConfigMap = ConfigMap {
        data: Some(
            [
                ("configurations.yaml", "configurations"),
                ("repos.yaml", "repos"),
            ]
            .into_iter()
            .map(|(key, file)| {
                (
                    key.to_owned(),
                    read(format!("manifests/overlays/example/templates/{file}.yaml")),
                )
            })
            .collect(),
        ),
        ..Default::default()
    };
    for platform in ["SERVER", "NETBOOK"] {
        let spec = ImageJobSpec {
            source: Source {
                template: Some(TemplateSource {
                    config_map: Some("site-templates".into()),
                    platform: platform.into(),
                    overlay: Some("gcc,-nano".into()),
                    ..Default::default()
                }),
                ..Default::default()
            },
            ..Default::default()
        };
        let accepted = accept(&spec, template_from_config_map("site-templates", &cm), &[])
            .unwrap_or_else(|r| panic!("{platform}: {}: {}", r.reason, r.message));
        assert!(accepted.kickstart.contains("gcc"), "{}", accepted.kickstart);
    }
}
