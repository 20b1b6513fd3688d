//! The chart's Pods meet the `restricted` Pod Security Standard (non-root, no privilege
//! escalation, no capabilities, the runtime's seccomp profile), keep their root file systems
//! read-only, are sized, and are probed on their health endpoints.

use serde_json::Value;

use crate::helm::{Values, tool};

/// What the restricted standard and this chart require of one Deployment's Pod.
fn check_pod(deployment: &Value) -> Vec<String> {
    let name = deployment["metadata"]["name"].as_str().unwrap_or_default();
    let pod = &deployment["spec"]["template"]["spec"];
    let mut problems = Vec::new();
    let mut require = |ok: bool, what: &str| {
        if !ok {
            problems.push(format!("{name}: {what}"));
        }
    };
    let psc = &pod["securityContext"];
    require(psc["runAsNonRoot"] == true, "runAsNonRoot");
    require(
        psc["runAsUser"].as_i64().is_some_and(|u| u > 0),
        "a non-zero runAsUser",
    );
    require(
        psc["seccompProfile"]["type"] == "RuntimeDefault",
        "the RuntimeDefault seccomp profile",
    );
    require(
        pod["hostNetwork"].is_null() && pod["hostPID"].is_null(),
        "no host namespaces",
    );
    for c in pod["containers"].as_array().unwrap() {
        let sc = &c["securityContext"];
        require(
            sc["allowPrivilegeEscalation"] == false,
            "allowPrivilegeEscalation: false",
        );
        require(
            sc["readOnlyRootFilesystem"] == true,
            "a read-only root file system",
        );
        require(
            sc["privileged"].is_null() || sc["privileged"] == false,
            "not privileged",
        );
        require(
            sc["capabilities"]["drop"]
                .as_array()
                .is_some_and(|d| d.iter().any(|c| c == "ALL")),
            "capabilities dropped",
        );
        require(sc["capabilities"]["add"].is_null(), "no capabilities added");
        let res = &c["resources"];
        require(
            !res["requests"]["cpu"].is_null() && !res["requests"]["memory"].is_null(),
            "cpu and memory requests",
        );
        require(!res["limits"]["memory"].is_null(), "a memory limit");
        for probe in ["livenessProbe", "readinessProbe"] {
            let port = c[probe]["httpGet"]["port"].as_str();
            let named = port.is_some_and(|p| {
                c["ports"]
                    .as_array()
                    .is_some_and(|ps| ps.iter().any(|q| q["name"] == p))
            });
            require(named, &format!("an HTTP {probe} on a named container port"));
        }
        for mount in c["volumeMounts"].as_array().into_iter().flatten() {
            // The frontend only reads the images volume; writing is the runner's business.
            require(
                mount["readOnly"] == true,
                &format!("mount {} read-only", mount["mountPath"]),
            );
        }
    }
    problems
}

#[test]
fn every_pod_is_restricted_read_only_sized_and_probed() {
    let Some(tool) = tool("every_pod_is_restricted_read_only_sized_and_probed") else {
        return;
    };
    for values in [Values::defaults(), Values::ci("full-values.yaml")] {
        let rendered = tool.render(&values);
        let problems: Vec<String> = rendered
            .of_kind("Deployment")
            .into_iter()
            .flat_map(check_pod)
            .collect();
        assert!(problems.is_empty(), "{problems:#?}");
    }
    // The check is not vacuous: a root container with a writable root fails it.
    let loose = tool.render(&Values::defaults().with(serde_json::json!({
        "web": {"securityContext": {"readOnlyRootFilesystem": false}, "podSecurityContext": {"runAsNonRoot": false}}
    })));
    let problems = check_pod(loose.get("Deployment", "img-web"));
    assert_eq!(problems.len(), 2, "{problems:?}");
}
