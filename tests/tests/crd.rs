//! The ImageJob CRD: the committed copies match the types, the schema passes the real
//! server's structural rules (as the loopback server implements them) and `kubectl explain`
//! teaches from it, the printer columns show, and the CEL rules mean what their messages say.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::path::PathBuf;

use img_crd::{ImageJob, ImageJobSpec, KeyRef, KickstartFrom, Source, TemplateSource};
use img_tests::kubectl::Kubectl;
use kube::CustomResourceExt;
use kube::core::cel::validate_cel;
use serde::Deserialize as _;

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn read(path: &str) -> String {
    std::fs::read_to_string(workspace().join(path)).unwrap()
}

/// The generated copies: for `kubectl apply -k manifests/crd`, and the file the chart's CRD
/// template wraps (tests/tests/chart/ checks what the chart renders from it).
const COMMITTED: [&str; 2] = [
    "manifests/crd/imagejobs.yaml",
    "charts/img/files/crd-imagejobs.yaml",
];

const EXAMPLES: [&str; 5] = [
    "manifests/examples/imagejob-kickstart.yaml",
    "manifests/examples/imagejob-template.yaml",
    "manifests/examples/imagejob-configmap.yaml",
    "manifests/examples/imagejob-secret.yaml",
    "manifests/examples/imagejob-template-configmap.yaml",
];

#[test]
fn the_committed_crd_matches_the_types() {
    let generated = img_crd::crd_yaml();
    for path in COMMITTED {
        assert!(
            read(path) == generated,
            "{path} is stale: run scripts/gen-crd and commit the result"
        );
    }
}

#[test]
fn the_schema_is_structural() {
    // The loopback server's CRD admission checks the real server's structural-schema rules
    // (types everywhere, no $ref, junctors that only validate, metadata untouched, ...).
    let mut crd = serde_json::to_value(ImageJob::crd()).unwrap();
    img_tests::apiserver::crd::prepare(&mut crd).unwrap();
    // And the check is not vacuous: the same schema with a `$ref` is refused.
    let mut broken = serde_json::to_value(ImageJob::crd()).unwrap();
    broken["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]
        ["priority"] = serde_json::json!({"$ref": "#/definitions/Priority"});
    let (field, _) = img_tests::apiserver::crd::prepare(&mut broken).unwrap_err();
    assert!(field.ends_with("properties[priority].$ref"), "{field}");
}

#[tokio::test]
async fn kubectl_applies_the_crd_explains_it_and_shows_the_columns() {
    let k = Kubectl::start().await;
    let out = k.apply(&img_crd::crd_yaml()).await;
    assert_eq!(
        out.trim(),
        "customresourcedefinition.apiextensions.k8s.io/imagejobs.img.meego.com created"
    );
    let explain = k.ok(&["explain", "imagejob.spec.source"]).await;
    assert!(
        explain.contains("exactly one of `kickstart`, `kickstartFrom`")
            && explain.contains("kickstartFrom\t<Object>"),
        "{explain}"
    );
    let explain = k.ok(&["explain", "ij.spec.imageType"]).await;
    assert!(
        explain.contains("When absent, the type named by"),
        "{explain}"
    );

    for example in EXAMPLES {
        k.apply(&read(example)).await;
    }
    let out = k.ok(&["get", "ij"]).await;
    let header: Vec<&str> = out.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(header, ["NAME", "PHASE", "TYPE", "QUEUE", "URL", "AGE"]);
    let names: Vec<&str> = out
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "minimal-raw",
            "minimal-with-gcc",
            "netbook-server",
            "netbook-vmdk",
            "server-qcow2"
        ]
    );
    let wide = k.ok(&["get", "imagejobs", "-o", "wide"]).await;
    assert!(wide.lines().next().unwrap().contains("REASON"), "{wide}");
}

fn job(name: &str, source: Source) -> ImageJob {
    ImageJob::new(
        name,
        ImageJobSpec {
            source,
            ..Default::default()
        },
    )
}

fn inline() -> Source {
    Source {
        kickstart: Some("%packages\n%end\n".into()),
        ..Default::default()
    }
}

fn messages(job: &ImageJob) -> String {
    validate_cel(job).map_or_else(|e| e.to_string(), |()| String::new())
}

#[test]
fn the_cel_rules_accept_the_examples_and_refuse_what_they_describe() {
    for example in EXAMPLES {
        for doc in serde_yaml::Deserializer::from_str(&read(example)) {
            let value = serde_yaml::Value::deserialize(doc).unwrap();
            if value["kind"] == "ImageJob" {
                let job: ImageJob = serde_yaml::from_value(value).unwrap();
                assert_eq!(messages(&job), "", "{example}");
            }
        }
    }

    assert_eq!(messages(&job("ok", inline())), "");
    let none = job("none", Source::default());
    assert!(
        messages(&none).contains("exactly one of kickstart, kickstartFrom and template"),
        "{}",
        messages(&none)
    );
    let two = job(
        "two",
        Source {
            template: Some(TemplateSource {
                platform: "MINIMAL".into(),
                ..Default::default()
            }),
            ..inline()
        },
    );
    assert!(messages(&two).contains("exactly one of kickstart"));
    let both_refs = job(
        "refs",
        Source {
            kickstart_from: Some(KickstartFrom {
                config_map_key_ref: Some(KeyRef {
                    name: "a".into(),
                    key: "k".into(),
                }),
                secret_key_ref: Some(KeyRef {
                    name: "b".into(),
                    key: "k".into(),
                }),
            }),
            ..Default::default()
        },
    );
    assert!(messages(&both_refs).contains("exactly one of configMapKeyRef and secretKeyRef"));
    let long = job(&"n".repeat(53), inline());
    assert!(messages(&long).contains("at most 52 characters"));
    assert_eq!(messages(&job(&"n".repeat(52), inline())), "");
}
