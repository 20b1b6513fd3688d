//! What the chart renders: the objects each configuration needs, each valid for Kubernetes
//! 1.37, the CRD exactly as `crdgen` makes it, NOTES that say what to do next, and a rollout
//! when credentials given as values change.

use img_crd::ImageJob;
use kube::CustomResourceExt;
use serde_json::{Value, json};

use crate::helm::{Values, numbers_as_floats, tool};
use crate::lint::value_sets;

/// `kind/name` lists, sorted.
fn names(list: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = list.iter().map(|s| (*s).to_owned()).collect();
    v.sort();
    v
}

/// What the defaults make: the CRD, the operator (two replicas, a PDB, its RBAC and metrics
/// Service), the web frontend (RBAC, Service) and the three claims.
const DEFAULT_OBJECTS: [&str; 19] = [
    "ClusterRole/img-operator",
    "ClusterRole/img-web",
    "ClusterRoleBinding/img-operator",
    "ClusterRoleBinding/img-web",
    "CustomResourceDefinition/imagejobs.img.meego.com",
    "Deployment/img-operator",
    "Deployment/img-web",
    "PersistentVolumeClaim/img-base-disk",
    "PersistentVolumeClaim/img-images",
    "PersistentVolumeClaim/img-package-cache",
    "PodDisruptionBudget/img-operator",
    "Role/img-operator-leader",
    "Role/img-web",
    "RoleBinding/img-operator-leader",
    "RoleBinding/img-web",
    "Service/img-operator-metrics",
    "Service/img-web",
    "ServiceAccount/img-operator",
    "ServiceAccount/img-web",
];

#[test]
fn each_configuration_renders_the_objects_it_needs() {
    let Some(tool) = tool("each_configuration_renders_the_objects_it_needs") else {
        return;
    };
    assert_eq!(
        tool.render(&Values::defaults()).names(),
        names(&DEFAULT_OBJECTS)
    );
    // Everything on: the Ingress, the notification Secret (SMTP login given as values; the
    // AMQP URL comes from an existing Secret), ServiceMonitors, the AMQP ingress Role.
    let mut full = DEFAULT_OBJECTS.to_vec();
    full.extend([
        "Ingress/img-web",
        "Secret/img-notify",
        "ServiceMonitor/img-operator",
        "ServiceMonitor/img-web",
        "Role/img-operator-amqp-ingress",
        "RoleBinding/img-operator-amqp-ingress",
    ]);
    assert_eq!(
        tool.render(&Values::ci("full-values.yaml")).names(),
        names(&full)
    );
    // One namespace: the job rules become a Role there; no web, CRD or claims.
    let one = tool.render(&Values::ci("watch-namespace-values.yaml"));
    assert_eq!(
        one.names(),
        names(&[
            "Deployment/img-operator",
            "Role/img-operator",
            "Role/img-operator-leader",
            "RoleBinding/img-operator",
            "RoleBinding/img-operator-leader",
            "Service/img-operator-metrics",
            "ServiceAccount/img-operator",
        ])
    );
    assert_eq!(
        one.get("Role", "img-operator")["metadata"]["namespace"],
        "builds"
    );
}

#[test]
fn every_rendered_object_is_valid_for_kubernetes_1_37() {
    let Some(tool) = tool("every_rendered_object_is_valid_for_kubernetes_1_37") else {
        return;
    };
    for (what, values) in value_sets() {
        let rendered = tool.render(&values);
        for verdict in tool.validate(&rendered.values()) {
            verdict.assert_valid(what);
            // kubernetes-validate knows every built-in kind. The ServiceMonitor is
            // prometheus-operator's CRD, whose schema is not available here: wiring.rs checks
            // that it selects the right Service and port, and apply.rs that a server takes it.
            assert!(
                verdict.how == "kubernetes" || verdict.kind == "ServiceMonitor",
                "{what}: {} {} was not checked ({})",
                verdict.kind,
                verdict.name,
                verdict.how
            );
        }
    }
}

#[test]
fn the_charts_crd_is_crdgens_with_the_charts_labels() {
    let Some(tool) = tool("the_charts_crd_is_crdgens") else {
        return;
    };
    let generated = serde_json::to_value(ImageJob::crd()).unwrap();
    let rendered = tool.render(&Values::defaults());
    let mut crd = rendered
        .get("CustomResourceDefinition", "imagejobs.img.meego.com")
        .clone();
    let meta = crd["metadata"].as_object_mut().unwrap();
    let labels = meta.remove("labels").unwrap();
    assert_eq!(labels["app.kubernetes.io/name"], "img");
    // Kept through `helm uninstall` by default: deleting it would delete every ImageJob.
    assert_eq!(
        meta.remove("annotations"),
        Some(json!({"helm.sh/resource-policy": "keep"}))
    );
    assert!(
        numbers_as_floats(&crd) == numbers_as_floats(&generated),
        "the chart's CRD is not crdgen's: run scripts/gen-crd"
    );

    let not_kept = tool.render(&Values::defaults().with(json!({"crds": {"keep": false}})));
    let crd = not_kept.get("CustomResourceDefinition", "imagejobs.img.meego.com");
    assert_eq!(crd["metadata"].get("annotations"), None);
    let without = tool.render(&Values::defaults().with(json!({"crds": {"install": false}})));
    assert!(without.of_kind("CustomResourceDefinition").is_empty());
}

#[test]
fn the_notes_say_what_to_do_next() {
    let Some(tool) = tool("the_notes_say_what_to_do_next") else {
        return;
    };
    let notes = tool.render(&Values::defaults()).notes;
    for expected in [
        "kubectl -n img-system rollout status deployment/img-operator",
        "get lease img-operator",
        "into the claim img-base-disk",
        "\"claimName\":\"img-base-disk\"",
        "set runner.kvmResource",
        "kubectl -n img-system apply -f manifests/examples/imagejob-template.yaml",
        "port-forward service/img-web 8080:80",
        "Authentication is off",
        "publicUrl is not set",
    ] {
        assert!(
            notes.contains(expected),
            "NOTES lack {expected:?}:\n{notes}"
        );
    }
    let notes = tool.render(&Values::ci("full-values.yaml")).notes;
    assert!(notes.contains("https://img.example.org/"), "{notes}");
    assert!(notes.contains("get lease img-operator-leader"), "{notes}");
    for absent in [
        "port-forward",
        "Authentication is off",
        "publicUrl is not set",
        "TCG",
    ] {
        assert!(!notes.contains(absent), "{absent:?} in:\n{notes}");
    }
}

/// The operator Pod template's annotations with `values`.
fn operator_pod_annotations(tool: &crate::helm::Tool, values: &Values) -> Value {
    tool.render(values).get("Deployment", "img-operator")["spec"]["template"]["metadata"]
        ["annotations"]
        .clone()
}

#[test]
fn the_operator_rolls_when_credentials_given_as_values_change() {
    let Some(tool) = tool("the_operator_rolls_when_credentials_change") else {
        return;
    };
    let full = Values::ci("full-values.yaml");
    let before = operator_pod_annotations(&tool, &full);
    let after = operator_pod_annotations(
        &tool,
        &full
            .clone()
            .with(json!({"notifications": {"smtp": {"password": "rotated"}}})),
    );
    assert!(before["checksum/notify"].is_string(), "{before}");
    assert_ne!(before["checksum/notify"], after["checksum/notify"]);
    assert_eq!(before["example.org/team"], "builds", "podAnnotations kept");
    // Nothing of the chart's own to follow: no checksum.
    assert_eq!(
        operator_pod_annotations(&tool, &Values::defaults()),
        Value::Null
    );
}

#[test]
fn a_private_mail_ca_is_mounted_where_the_operator_reads_it() {
    let Some(tool) = tool("a_private_mail_ca_is_mounted_where_the_operator_reads_it") else {
        return;
    };
    let smtp = json!({"enabled": true, "host": "smtp.example.org", "tls": "tls"});
    let plain = tool.render(&Values::defaults().with(json!({"notifications": {"smtp": smtp}})));
    let pod = &plain.get("Deployment", "img-operator")["spec"]["template"]["spec"];
    assert_eq!(pod["volumes"], Value::Null, "no CA, no volume");

    let mut with_ca = smtp.clone();
    with_ca["caConfigMap"] = json!("mail-ca");
    with_ca["caKey"] = json!("corp-root.pem");
    let rendered =
        tool.render(&Values::defaults().with(json!({"notifications": {"smtp": with_ca}})));
    let pod = &rendered.get("Deployment", "img-operator")["spec"]["template"]["spec"];
    let container = &pod["containers"][0];
    let file = container["env"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "IMG_SMTP_CA_FILE")
        .expect("IMG_SMTP_CA_FILE is set")["value"]
        .as_str()
        .unwrap()
        .to_owned();
    let mount = &container["volumeMounts"][0];
    assert_eq!(mount["readOnly"], true);
    let volume = &pod["volumes"][0];
    assert_eq!(volume["name"], mount["name"]);
    assert_eq!(volume["configMap"]["name"], "mail-ca");
    let item = &volume["configMap"]["items"][0];
    assert_eq!(
        file,
        format!(
            "{}/{}",
            mount["mountPath"].as_str().unwrap(),
            item["path"].as_str().unwrap()
        ),
        "the variable names the mounted file"
    );
    assert_eq!(item["key"], "corp-root.pem");
}
