//! RBAC: the chart's rules for the operator's and the web frontend's ServiceAccounts are
//! exactly what their code uses. Each program runs against the loopback API server with a
//! client that presents its ServiceAccount's user name; the server records every request it
//! makes with the attributes RBAC authorizes (verb, API group, resource, subresource,
//! namespace, name), and [`policy::Policy`] compares them with the rules the rendered chart
//! (`ci/full-values.yaml`, everything on) binds to that ServiceAccount, in both directions:
//! every request must be allowed, and every permission must have been used. The failure
//! message lists both differences.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

#[path = "../support/mod.rs"]
mod support;

#[path = "../support/world.rs"]
mod env;

#[path = "../support/helm.rs"]
mod helm;

mod ingress;
mod operator;
mod policy;
mod web;

use kube::Client;
use kube::config::{KubeConfigOptions, Kubeconfig};

/// The namespace the chart is rendered into for these tests: the world's own `default`, where
/// the operators' Lease lives (`world::Env` starts operators with `--lease-namespace default`).
const RELEASE_NAMESPACE: &str = "default";

/// The namespace AMQP jobs are created in, which is also the ingress scenario's.
const AMQP_INGRESS: &str = "amqp-ingress";

/// The values the chart is checked with: every part on, with the AMQP ingress namespace the
/// ingress scenario's.
fn values() -> helm::Values {
    helm::Values::ci("full-values.yaml")
        .with(serde_json::json!({"notifications": {"amqp": {"ingressNamespace": AMQP_INGRESS}}}))
}

/// A kube-rs client whose requests the server records as `user`'s.
async fn client_as(server: &img_tests::apiserver::ApiServer, user: &str) -> Client {
    let kubeconfig = Kubeconfig::from_yaml(&server.kubeconfig_for(user)).unwrap();
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .unwrap();
    Client::try_from(config).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_operators_rules_are_exactly_what_it_uses() {
    let Some(tool) = helm::tool("the_operators_rules_are_exactly_what_it_uses") else {
        return;
    };
    let rendered = tool.render_in(&values(), RELEASE_NAMESPACE);
    let policy = policy::Policy::for_service_account(&rendered, RELEASE_NAMESPACE, "img-operator");
    let world = operator::World::start(policy.user()).await;
    world.run(&rendered).await;
    let comparison = policy.compare(&world.env.server.access_log());
    comparison.assert_exact("the operator");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_web_frontends_rules_are_exactly_what_it_uses() {
    let Some(tool) = helm::tool("the_web_frontends_rules_are_exactly_what_it_uses") else {
        return;
    };
    let rendered = tool.render_in(&values(), RELEASE_NAMESPACE);
    let policy = policy::Policy::for_service_account(&rendered, RELEASE_NAMESPACE, "img-web");
    let log = web::run(policy.user(), RELEASE_NAMESPACE).await;
    let comparison = policy.compare(&log);
    comparison.assert_exact("the web frontend");
}
