//! References between the rendered objects resolve: Services select the Pods of a Deployment
//! and name its ports, ServiceMonitors select a Service and name its ports, bindings name
//! Roles and ServiceAccounts of the release, Pods use the release's ServiceAccounts, claims and
//! Secrets. A reference may also name an object the values say exists already
//! (`existingSecret`, `create: false` claims).

use serde_json::Value;

use crate::helm::{Rendered, Values, tool};

/// Whether `labels` has every pair of `selector`.
fn selects(selector: &Value, labels: &Value) -> bool {
    selector
        .as_object()
        .is_some_and(|s| !s.is_empty() && s.iter().all(|(k, v)| labels[k] == *v))
}

fn namespace(object: &Value) -> &str {
    object["metadata"]["namespace"].as_str().unwrap_or_default()
}

fn name(object: &Value) -> &str {
    object["metadata"]["name"].as_str().unwrap_or_default()
}

/// Whether `kind/name` is rendered in `ns`, or listed in `external`.
fn exists(r: &Rendered, external: &[&str], kind: &str, ns: &str, wanted: &str) -> bool {
    external.contains(&format!("{kind}/{wanted}").as_str())
        || r.of_kind(kind)
            .iter()
            .any(|o| name(o) == wanted && namespace(o) == ns)
}

/// The names of a container's ports.
fn port_names(container: &Value) -> Vec<&str> {
    container["ports"]
        .as_array()
        .map(|ps| ps.iter().filter_map(|p| p["name"].as_str()).collect())
        .unwrap_or_default()
}

fn check_services(r: &Rendered) {
    for svc in r.of_kind("Service") {
        let backends: Vec<&Value> = r
            .of_kind("Deployment")
            .into_iter()
            .filter(|d| {
                selects(
                    &svc["spec"]["selector"],
                    &d["spec"]["template"]["metadata"]["labels"],
                )
            })
            .collect();
        assert_eq!(
            backends.len(),
            1,
            "Service {} selects {} Deployments",
            name(svc),
            backends.len()
        );
        let containers = backends[0]["spec"]["template"]["spec"]["containers"]
            .as_array()
            .unwrap();
        for port in svc["spec"]["ports"].as_array().unwrap() {
            let target = port["targetPort"].as_str().unwrap();
            assert!(
                containers.iter().any(|c| port_names(c).contains(&target)),
                "Service {} targets port {target}, which no container has",
                name(svc)
            );
        }
    }
    for monitor in r.of_kind("ServiceMonitor") {
        let services: Vec<&Value> = r
            .of_kind("Service")
            .into_iter()
            .filter(|s| {
                selects(
                    &monitor["spec"]["selector"]["matchLabels"],
                    &s["metadata"]["labels"],
                )
            })
            .collect();
        assert_eq!(
            services.len(),
            1,
            "ServiceMonitor {} selects {} Services",
            name(monitor),
            services.len()
        );
        let ns = &monitor["spec"]["namespaceSelector"]["matchNames"];
        assert!(
            ns.as_array()
                .unwrap()
                .iter()
                .any(|n| n == namespace(services[0]))
        );
        for endpoint in monitor["spec"]["endpoints"].as_array().unwrap() {
            let port = endpoint["port"].as_str().unwrap();
            assert!(
                services[0]["spec"]["ports"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|p| p["name"] == port),
                "ServiceMonitor {} scrapes port {port}, which Service {} lacks",
                name(monitor),
                name(services[0])
            );
            assert_eq!(endpoint["path"], "/metrics");
        }
    }
}

fn check_rbac(r: &Rendered) {
    for kind in ["RoleBinding", "ClusterRoleBinding"] {
        for binding in r.of_kind(kind) {
            let role = &binding["roleRef"];
            let role_kind = role["kind"].as_str().unwrap();
            let role_ns = if role_kind == "Role" {
                namespace(binding)
            } else {
                ""
            };
            assert!(
                exists(r, &[], role_kind, role_ns, role["name"].as_str().unwrap()),
                "{kind} {} refers to a missing {role_kind}",
                name(binding)
            );
            for subject in binding["subjects"].as_array().unwrap() {
                assert_eq!(subject["kind"], "ServiceAccount");
                let ns = subject["namespace"].as_str().unwrap();
                let sa = subject["name"].as_str().unwrap();
                assert!(
                    exists(r, &[], "ServiceAccount", ns, sa),
                    "{kind} {}: no ServiceAccount {ns}/{sa}",
                    name(binding)
                );
            }
        }
    }
}

fn check_pods(r: &Rendered, external: &[&str]) {
    for deployment in r.of_kind("Deployment") {
        let ns = namespace(deployment);
        let pod = &deployment["spec"]["template"]["spec"];
        let sa = pod["serviceAccountName"].as_str().unwrap();
        assert!(
            exists(r, external, "ServiceAccount", ns, sa),
            "{}: no ServiceAccount {sa}",
            name(deployment)
        );
        for volume in pod["volumes"].as_array().into_iter().flatten() {
            if let Some(claim) = volume["persistentVolumeClaim"]["claimName"].as_str() {
                assert!(
                    exists(r, external, "PersistentVolumeClaim", ns, claim),
                    "{}: no claim {claim}",
                    name(deployment)
                );
            }
        }
        for container in pod["containers"].as_array().unwrap() {
            for env in container["env"].as_array().into_iter().flatten() {
                let secret = &env["valueFrom"]["secretKeyRef"];
                let Some(secret_name) = secret["name"].as_str() else {
                    continue;
                };
                let key = secret["key"].as_str().unwrap();
                if external.contains(&format!("Secret/{secret_name}").as_str()) {
                    continue;
                }
                let found = r
                    .of_kind("Secret")
                    .into_iter()
                    .find(|s| name(s) == secret_name && namespace(s) == ns);
                let found = found
                    .unwrap_or_else(|| panic!("{}: no Secret {secret_name}", name(deployment)));
                assert!(
                    found["stringData"].get(key).is_some() || found["data"].get(key).is_some(),
                    "{}: Secret {secret_name} has no key {key}",
                    name(deployment)
                );
            }
        }
    }
}

#[test]
fn references_between_rendered_objects_resolve() {
    let Some(tool) = tool("references_between_rendered_objects_resolve") else {
        return;
    };
    let sets: [(Values, &[&str]); 3] = [
        (Values::defaults(), &[]),
        // The AMQP URL is in an existing Secret.
        (Values::ci("full-values.yaml"), &["Secret/img-amqp"]),
        (Values::ci("watch-namespace-values.yaml"), &[]),
    ];
    for (values, external) in sets {
        let r = tool.render(&values);
        check_services(&r);
        check_rbac(&r);
        check_pods(&r, external);
    }
}
