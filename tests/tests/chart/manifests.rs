//! manifests/: the kustomize base is the chart rendered (`scripts/gen-manifests`), and every
//! kustomization and example is valid for Kubernetes 1.37 (ImageJobs against their CRD).

use std::path::Path;
use std::process::Command;

use img_crd::ImageJob;
use kube::CustomResourceExt;
use serde_json::{Value, json};

use crate::helm::{self, Values, parse_stream, tool, workspace};

/// `kubectl kustomize <dir>` with the real kubectl (its built-in kustomize).
fn kustomize(dir: &str) -> Vec<Value> {
    let out = Command::new(img_tests::kubectl::kubectl_binary())
        .arg("kustomize")
        .arg(workspace().join(dir))
        .output()
        .expect("kubectl runs");
    assert!(
        out.status.success(),
        "kubectl kustomize {dir}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    parse_stream(&String::from_utf8(out.stdout).unwrap())
}

#[test]
fn manifests_base_is_the_chart_rendered() {
    let Some(tool) = tool("manifests_base_is_the_chart_rendered") else {
        return;
    };
    let stale = tool.stale_manifests();
    assert!(
        stale.is_empty(),
        "manifests/base differs from the chart in {stale:?}: run scripts/gen-manifests"
    );
    // Through kustomize too: the base holds every object of the chart (its CRD from
    // manifests/crd) and its namespace, without Helm's labels.
    let chart = tool.render(&Values::defaults().with(json!({"crds": {"install": false}})));
    let base = kustomize("manifests/base");
    let mut expected = chart.names();
    expected.push("CustomResourceDefinition/imagejobs.img.meego.com".into());
    expected.push("Namespace/img-system".into());
    expected.sort();
    let mut got: Vec<String> = base.iter().map(helm::key).collect();
    got.sort();
    assert_eq!(got, expected);
    for object in &base {
        let labels = &object["metadata"]["labels"];
        assert!(
            labels.get("helm.sh/chart").is_none()
                && labels.get("app.kubernetes.io/managed-by").is_none(),
            "{}: Helm's labels in plain manifests",
            helm::key(object)
        );
    }
}

#[test]
fn the_crd_kustomization_is_crdgens() {
    if tool("the_crd_kustomization_is_crdgens").is_none() {
        return;
    }
    let crd = kustomize("manifests/crd");
    let generated = serde_json::to_value(ImageJob::crd()).unwrap();
    assert_eq!(crd.len(), 1);
    assert!(
        helm::numbers_as_floats(&crd[0]) == helm::numbers_as_floats(&generated),
        "manifests/crd is not crdgen's CRD: run scripts/gen-crd"
    );
}

/// The objects of every file in manifests/examples.
fn examples() -> Vec<(String, Vec<Value>)> {
    let dir = workspace().join("manifests/examples");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, parse_stream(&std::fs::read_to_string(p).unwrap()))
        })
        .collect()
}

#[test]
fn every_kustomization_and_example_is_valid_for_kubernetes_1_37() {
    let Some(tool) = tool("every_kustomization_and_example_is_valid") else {
        return;
    };
    let crd = serde_json::to_value(ImageJob::crd()).unwrap();
    let mut sets: Vec<(String, Vec<Value>)> = [
        "manifests/crd",
        "manifests/base",
        "manifests/overlays/example",
    ]
    .into_iter()
    .map(|dir| (dir.to_owned(), kustomize(dir)))
    .collect();
    sets.extend(examples());
    for (what, mut objects) in sets {
        assert!(!objects.is_empty(), "{what} is empty");
        // Custom resources are checked against the CRD's schema.
        objects.push(crd.clone());
        for verdict in tool.validate(&objects) {
            verdict.assert_valid(&what);
            assert_ne!(
                verdict.how, "none",
                "{what}: {} {} was not checked",
                verdict.kind, verdict.name
            );
        }
    }
    // The CRD check is not vacuous.
    let bad = json!({"apiVersion": "img.meego.com/v1alpha1", "kind": "ImageJob",
        "metadata": {"name": "bad"}, "spec": {"source": {"kickstart": 7}}});
    let verdicts = tool.validate(&[bad, crd]);
    assert_eq!(verdicts[0].how, "crd");
    assert!(
        verdicts[0].errors[0].contains("spec/source/kickstart"),
        "{:?}",
        verdicts[0]
    );
}

#[test]
fn the_example_overlay_changes_what_it_says() {
    if tool("the_example_overlay_changes_what_it_says").is_none() {
        return;
    }
    let objects = kustomize("manifests/overlays/example");
    let find = |kind: &str, name: &str| {
        objects
            .iter()
            .find(|o| o["kind"] == kind && o["metadata"]["name"] == name)
            .unwrap_or_else(|| panic!("no {kind} {name}"))
    };
    for o in objects
        .iter()
        .filter(|o| !o["metadata"]["namespace"].is_null())
    {
        assert_eq!(o["metadata"]["namespace"], "img-site", "{}", helm::key(o));
    }
    let binding = find("ClusterRoleBinding", "img-operator");
    assert_eq!(binding["subjects"][0]["namespace"], "img-site");
    let env = &find("Deployment", "img-web")["spec"]["template"]["spec"]["containers"][0]["env"];
    let var = |name: &str| {
        env.as_array()
            .unwrap()
            .iter()
            .find(|e| e["name"] == name)
            .map(|e| e["value"].clone())
    };
    assert_eq!(var("IMG_TEMPLATE_CONFIGMAP"), Some(json!("site-templates")));
    assert_eq!(
        var("IMG_PUBLIC_URL"),
        Some(json!("https://img.example.org"))
    );
    let template = find("ConfigMap", "site-templates");
    assert!(
        template["data"]["configurations.yaml"]
            .as_str()
            .unwrap()
            .contains("SERVER:")
    );
    assert_eq!(
        find("PersistentVolumeClaim", "img-images")["spec"]["resources"]["requests"]["storage"],
        "500Gi"
    );
    assert!(
        Path::new(&workspace().join("manifests/overlays/example/templates/repos.yaml")).exists()
    );
}
