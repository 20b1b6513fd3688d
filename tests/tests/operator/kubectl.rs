//! What a user does with kubectl: apply the example ImageJobs, watch the columns, wait for
//! the Succeeded condition.

use std::process::Command;

use img_tests::kubectl::kubectl_binary;

use crate::env::Env;

fn kubectl(env: &Env, args: &[&str]) -> String {
    let config = env.path("kubeconfig");
    std::fs::write(&config, env.server.kubeconfig()).unwrap();
    let out = Command::new(kubectl_binary())
        .env("KUBECONFIG", &config)
        .env("HOME", env.dir.path())
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "kubectl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test]
async fn kubectl_applies_an_example_and_waits_for_it_to_succeed() {
    let env = Env::start().await;
    let _operator = env.operator(&[]).await;
    let example = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../manifests/examples/imagejob-kickstart.yaml"
    );
    let env = std::sync::Arc::new(env);
    let e = env.clone();
    let out = tokio::task::spawn_blocking(move || {
        kubectl(&e, &["apply", "-f", example]);
        kubectl(
            &e,
            &[
                "wait",
                "--for=condition=Succeeded",
                "imagejob/minimal-raw",
                "--timeout=60s",
            ],
        );
        kubectl(&e, &["get", "ij"])
    })
    .await
    .unwrap();
    let mut lines = out.lines();
    let header: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    assert_eq!(header, ["NAME", "PHASE", "TYPE", "QUEUE", "URL", "AGE"]);
    let row: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    assert_eq!(
        &row[..4],
        [
            "minimal-raw",
            "Succeeded",
            "raw",
            "http://img.test/images/default/minimal-raw/minimal-raw.raw"
        ],
        "{out}"
    );
}
