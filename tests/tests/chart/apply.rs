//! The rendered chart on a (loopback) API server: the real kubectl applies it and every object
//! is there as rendered; then the operator, configured exactly as the rendered Deployment
//! configures its container (arguments and environment, Secret references resolved from the
//! rendered Secret), starts against it, becomes ready and takes the leader Lease.

use std::ffi::OsStr;
use std::time::Duration;

use clap::{ArgAction, CommandFactory, Parser};
use img_tests::kubectl::Kubectl;
use k8s_openapi::api::coordination::v1::Lease;
use kube::Api;
use serde_json::{Value, json};

use crate::helm::{NAMESPACE, Rendered, Values, key, tool, yaml_stream};

/// The namespaces the full example values put objects in.
const NAMESPACES: [&str; 2] = [NAMESPACE, "img-builds"];

/// A stand-in for prometheus-operator's ServiceMonitor CRD, which is not available here: the
/// server must serve the kind for kubectl to apply one.
fn servicemonitor_crd() -> Value {
    json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "servicemonitors.monitoring.coreos.com"},
        "spec": {
            "group": "monitoring.coreos.com",
            "scope": "Namespaced",
            "names": {"plural": "servicemonitors", "singular": "servicemonitor", "kind": "ServiceMonitor"},
            "versions": [{"name": "v1", "served": true, "storage": true,
                "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}]
        }
    })
}

/// The first place where `stored` lacks what `rendered` says, if any.
fn missing(rendered: &Value, stored: &Value, path: &str) -> Option<String> {
    match (rendered, stored) {
        (Value::Object(r), Value::Object(s)) => r.iter().find_map(|(k, v)| match s.get(k) {
            Some(sv) => missing(v, sv, &format!("{path}.{k}")),
            None => Some(format!("{path}.{k}")),
        }),
        (Value::Array(r), Value::Array(s)) if r.len() == s.len() => r
            .iter()
            .zip(s)
            .enumerate()
            .find_map(|(i, (rv, sv))| missing(rv, sv, &format!("{path}[{i}]"))),
        _ => (rendered != stored).then(|| format!("{path}: {rendered} != {stored}")),
    }
}

/// `object` as a server stores it: a Secret's write-only `stringData` becomes `data`.
fn as_stored(object: &Value) -> Value {
    use base64::Engine as _;
    let mut object = object.clone();
    if object["kind"] == "Secret"
        && let Some(Value::Object(strings)) =
            object.as_object_mut().and_then(|o| o.remove("stringData"))
    {
        for (k, v) in strings {
            let text = v.as_str().unwrap();
            let encoded = base64::engine::general_purpose::STANDARD.encode(text);
            object["data"][k] = Value::String(encoded);
        }
    }
    object
}

#[tokio::test]
async fn kubectl_applies_the_rendered_chart_and_every_object_is_created() {
    let Some(tool) = tool("kubectl_applies_the_rendered_chart") else {
        return;
    };
    let rendered = tool.render(&Values::ci("full-values.yaml"));
    let k = Kubectl::start().await;
    let mut setup: Vec<Value> = NAMESPACES
        .iter()
        .map(|ns| json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}))
        .collect();
    setup.push(servicemonitor_crd());
    k.apply(&yaml_stream(&setup)).await;

    let out = k.apply(&rendered.yaml()).await;
    assert_eq!(
        out.lines().filter(|l| l.ends_with(" created")).count(),
        rendered.objects.len(),
        "{out}"
    );
    let got = k
        .ok_with(&["get", "-f", "-", "-o", "json"], &rendered.yaml())
        .await;
    let got: Value = serde_json::from_str(&got).unwrap();
    let stored = got["items"].as_array().unwrap();
    assert_eq!(stored.len(), rendered.objects.len());
    for (object, stored) in rendered.values().iter().zip(stored) {
        assert_eq!(key(object), key(stored));
        let object = &as_stored(object);
        // Nothing pruned or changed: a field the server does not know would be gone.
        if let Some(path) = missing(object, stored, "") {
            panic!("{} is stored without {path}", key(object));
        }
    }
}

/// `img-operator`'s command line: its own logging flag and the operator's settings, as in
/// operator/src/main.rs (which is a binary, so its parser cannot be imported).
#[derive(Debug, Parser)]
#[command(name = "img-operator")]
struct OperatorArgs {
    #[arg(long, env = "IMG_LOG_JSON")]
    log_json: bool,
    #[command(flatten)]
    config: img_operator::config::Config,
}

/// The value of a container's env entry, resolved as the kubelet would for a Pod `pod` in
/// the release namespace: literal values, the Pod's own fields, and keys of rendered Secrets.
fn env_value(entry: &Value, pod: &str, rendered: &Rendered) -> String {
    if let Some(v) = entry["value"].as_str() {
        return v.to_owned();
    }
    let from = &entry["valueFrom"];
    match from["fieldRef"]["fieldPath"].as_str() {
        Some("metadata.namespace") => return NAMESPACE.to_owned(),
        Some("metadata.name") => return pod.to_owned(),
        Some(other) => panic!("unexpected fieldRef {other}"),
        None => {}
    }
    let secret = &from["secretKeyRef"];
    let name = secret["name"].as_str().expect("a secretKeyRef");
    let data = &rendered.get("Secret", name)["stringData"];
    data[secret["key"].as_str().unwrap()]
        .as_str()
        .unwrap_or_else(|| panic!("Secret {name} lacks {}", secret["key"]))
        .to_owned()
}

/// The operator's command line for the container `container` of the rendered Deployment: its
/// arguments, then each `IMG_*` variable as the flag that reads it. Every variable must be one
/// the operator reads (RUST_LOG is read by its logger).
fn operator_argv(container: &Value, pod: &str, rendered: &Rendered) -> Vec<String> {
    let command = OperatorArgs::command();
    let mut argv = vec!["img-operator".to_owned()];
    for arg in container["args"].as_array().into_iter().flatten() {
        argv.push(arg.as_str().unwrap().to_owned());
    }
    for entry in container["env"].as_array().unwrap() {
        let name = entry["name"].as_str().unwrap();
        if name == "RUST_LOG" {
            continue;
        }
        let value = env_value(entry, pod, rendered);
        let arg = command
            .get_arguments()
            .find(|a| a.get_env() == Some(OsStr::new(name)))
            .unwrap_or_else(|| panic!("the chart sets {name}, which img-operator does not read"));
        let long = arg
            .get_long()
            .expect("every operator setting has a long flag");
        if matches!(arg.get_action(), ArgAction::SetTrue) {
            // The chart sets a switch only to turn it on.
            assert_eq!(value, "true", "{name}");
            argv.push(format!("--{long}"));
        } else {
            argv.push(format!("--{long}={value}"));
        }
    }
    argv
}

/// GET `path` from `addr`: the status code.
async fn status_of(addr: std::net::SocketAddr, path: &str) -> Option<u16> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.ok()?;
    let request = format!("GET {path} HTTP/1.0\r\nHost: x\r\n\r\n");
    stream.write_all(request.as_bytes()).await.ok()?;
    let mut text = String::new();
    stream.read_to_string(&mut text).await.ok()?;
    text.split_whitespace().nth(1)?.parse().ok()
}

#[tokio::test]
async fn the_operator_starts_as_the_rendered_deployment_says_and_leads() {
    let Some(tool) = tool("the_operator_starts_as_the_rendered_deployment_says") else {
        return;
    };
    // Defaults plus what takes a Secret reference: the SMTP login, kept in the chart's Secret.
    let rendered = tool.render(&Values::defaults().with(json!({
        "publicUrl": "https://img.example.org",
        "notifications": {"smtp": {"enabled": true, "host": "smtp.example.org",
            "username": "img", "password": "s3cret"}}
    })));
    let k = Kubectl::start().await;
    let ns = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}});
    k.apply(&yaml_stream(&[ns])).await;
    k.apply(&rendered.yaml()).await;

    let deployment = rendered.get("Deployment", "img-operator");
    let container = &deployment["spec"]["template"]["spec"]["containers"][0];
    let pod = "img-operator-7d9f8b6c5-x2x4q";
    let argv = operator_argv(container, pod, &rendered);
    assert!(
        argv.contains(&"--smtp-password=s3cret".to_owned()),
        "{argv:?}"
    );
    let mut args = OperatorArgs::try_parse_from(&argv).unwrap_or_else(|e| panic!("{argv:?}: {e}"));
    assert!(args.log_json);
    // A Pod serves its endpoints on every interface; here the port must be a free one.
    assert!(args.config.admin_addr.ip().is_unspecified());
    args.config.admin_addr = "127.0.0.1:0".parse().unwrap();
    let lease_name = args.config.leader.lease_name.clone();

    let client = crate::support::client(k.server()).await;
    let operator = img_operator::run::Operator::start(client.clone(), args.config)
        .await
        .expect("the operator starts");
    let leases: Api<Lease> = Api::namespaced(client, NAMESPACE);
    let holder = crate::support::eventually(20, || {
        let leases = leases.clone();
        let name = lease_name.clone();
        async move {
            let lease = leases.get_opt(&name).await.unwrap()?;
            lease.spec?.holder_identity
        }
    })
    .await;
    assert_eq!(holder, pod, "the Pod's name (POD_NAME) holds the Lease");
    assert_eq!(status_of(operator.admin_addr, "/readyz").await, Some(200));
    assert_eq!(status_of(operator.admin_addr, "/healthz").await, Some(200));
    tokio::time::timeout(Duration::from_secs(20), operator.shutdown())
        .await
        .expect("the operator stops")
        .expect("cleanly");
}

/// The names of the variables `container` sets.
fn env_names(container: &Value) -> Vec<String> {
    container["env"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn every_variable_the_chart_sets_is_read_by_its_program() {
    let Some(tool) = tool("every_variable_the_chart_sets_is_read_by_its_program") else {
        return;
    };
    // Everything on: AMQP, SMTP, KubeVirt, a KVM resource, and extraEnv.
    let rendered = tool.render(&Values::ci("full-values.yaml"));
    let operator = OperatorArgs::command();
    let container = |name: &str| {
        rendered.get("Deployment", name)["spec"]["template"]["spec"]["containers"][0].clone()
    };
    for name in env_names(&container("img-operator")) {
        assert!(
            name == "RUST_LOG"
                || operator
                    .get_arguments()
                    .any(|a| a.get_env() == Some(OsStr::new(&name))),
            "the chart gives the operator {name}, which it does not read"
        );
    }
    // img-web's parser lives in its binary (web/src/main.rs): its flags' variables are there.
    let web_main = crate::helm::read("web/src/main.rs");
    for name in env_names(&container("img-web")) {
        assert!(
            name == "RUST_LOG" || web_main.contains(&format!("env = \"{name}\"")),
            "the chart gives the web frontend {name}, which it does not read"
        );
    }
}
