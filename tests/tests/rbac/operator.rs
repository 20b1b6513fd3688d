//! The operator's paths, each in a namespace of its own, run together against one loopback API
//! server in kubelet mode (`img-fake-runner` standing in for vm-runner), by an operator whose
//! requests carry its ServiceAccount's name. To cover a new path, write an `async fn(&World,
//! &str)` that drives a job through it (the `&str` is its namespace) and add it to
//! [`scenarios`].

use std::future::Future;
use std::pin::Pin;

use img_crd::{ImageJobSpec, KeyRef, KickstartFrom, Phase, RunnerKind, Source, TemplateSource};
use img_operator::run::Operator;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::api::{Api, DeleteParams, DynamicObject, Patch, PatchParams, PostParams};
use serde_json::json;

use crate::env::{Env, kickstart, spec};
use crate::helm::Rendered;

/// The world the scenarios share: the API server, the test's own client (`env.client`, whose
/// requests are not recorded), the fake runner's record, and the operator's user (a scenario
/// that needs an operator of its own makes its client with `crate::client_as(server, user)`).
pub(crate) struct World {
    pub(crate) env: Env,
    pub(crate) user: String,
}

impl World {
    /// A world for an operator running as `user`, with KubeVirt's API (a stand-in) installed.
    pub(crate) async fn start(user: &str) -> World {
        let env = Env::start().await;
        env.install_kubevirt_api().await;
        World {
            env,
            user: user.to_owned(),
        }
    }

    /// The operator's settings: the world's (fake runner, short Lease, quick rechecks), the
    /// Lease the rendered Deployment names, and one running job per namespace (so a second
    /// job in a namespace queues).
    fn config(&self, rendered: &Rendered, identity: &str) -> img_operator::config::Config {
        let container = &rendered.get("Deployment", "img-operator")["spec"]["template"]["spec"]["containers"]
            [0];
        let lease = container["env"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["name"] == "IMG_LEASE_NAME")
            .and_then(|e| e["value"].as_str())
            .expect("the Deployment names its Lease");
        self.env.config(&[
            "--lease-name",
            lease,
            "--identity",
            identity,
            "--max-running",
            "16",
            "--max-running-per-namespace",
            "1",
        ])
    }

    /// Runs the operator as the world's user through leader election and every scenario: operator `a`
    /// makes the Lease and leads, `b` stands by, `a` stops and releases the Lease, `b` takes
    /// it over, renews it while the scenarios run together (each in its own namespace), and
    /// releases it at the end.
    pub(crate) async fn run(&self, rendered: &Rendered) {
        let client = crate::client_as(&self.env.server, &self.user).await;
        let leases: Api<Lease> = Api::namespaced(self.env.client.clone(), crate::RELEASE_NAMESPACE);
        let holder = |wanted: &'static str| {
            let leases = leases.clone();
            let config = self.config(rendered, wanted);
            async move {
                crate::support::eventually(30, || {
                    let leases = leases.clone();
                    let name = config.leader.lease_name.clone();
                    async move {
                        let lease = leases.get_opt(&name).await.unwrap()?;
                        (lease.spec?.holder_identity.as_deref() == Some(wanted)).then_some(())
                    }
                })
                .await;
            }
        };
        let a = Operator::start(client.clone(), self.config(rendered, "a"))
            .await
            .unwrap();
        holder("a").await;
        let b = Operator::start(client, self.config(rendered, "b"))
            .await
            .unwrap();
        a.shutdown().await.unwrap();
        holder("b").await;

        let scenarios = scenarios();
        for s in &scenarios {
            self.env.namespace(s.name).await;
        }
        futures::future::join_all(scenarios.iter().map(|s| (s.run)(self, s.name))).await;
        b.shutdown().await.unwrap();
    }
}

type Run = for<'a> fn(&'a World, &'a str) -> Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

/// One path through the operator.
pub(crate) struct Scenario {
    /// What it exercises; also its namespace (a DNS label).
    pub(crate) name: &'static str,
    /// Drives it to its end.
    pub(crate) run: Run,
}

macro_rules! scenario {
    ($name:literal, $f:ident) => {
        Scenario {
            name: $name,
            run: |w, ns| Box::pin($f(w, ns)),
        }
    };
}

/// Every path the RBAC test runs. Leader election (make the Lease, stand by, hand over, renew,
/// release) runs around all of them ([`World::run`]).
pub(crate) fn scenarios() -> Vec<Scenario> {
    vec![
        scenario!("success", success),
        scenario!("failure", failure),
        scenario!("cancel-queued-and-running", cancel_queued_and_running),
        scenario!("delete-running", delete_running),
        scenario!("ttl", ttl),
        scenario!("configmap-late", configmap_late),
        scenario!("secret-kickstart", secret_kickstart),
        scenario!("template-configmap", template_configmap),
        scenario!("kubevirt", kubevirt),
        scenario!("invalid-twice-then-fixed", invalid_twice_then_fixed),
        Scenario {
            name: crate::AMQP_INGRESS,
            run: |w, ns| Box::pin(crate::ingress::amqp_ingress(w, ns)),
        },
    ]
}

/// A job that builds and succeeds: finalizer, job Secret, runner Pod, status, events.
async fn success(w: &World, ns: &str) {
    w.env.create(ns, "ok", spec("succeed")).await;
    let job = w.env.wait_phase(ns, "ok", Phase::Succeeded).await;
    assert!(!job.status.unwrap().artifacts.is_empty());
}

async fn failure(w: &World, ns: &str) {
    w.env.create(ns, "bad", spec("fail")).await;
    w.env.wait_phase(ns, "bad", Phase::Failed).await;
}

/// One job runs (the namespace may run one at a time), the next waits; both are cancelled.
async fn cancel_queued_and_running(w: &World, ns: &str) {
    w.env.create(ns, "running", spec("hang")).await;
    w.env.wait_phase(ns, "running", Phase::Running).await;
    w.env.create(ns, "waiting", spec("succeed")).await;
    w.env.wait_phase(ns, "waiting", Phase::Queued).await;
    let cancel = Patch::Merge(json!({"spec": {"cancel": true}}));
    let jobs = w.env.jobs(ns);
    for name in ["waiting", "running"] {
        jobs.patch(name, &PatchParams::default(), &cancel)
            .await
            .unwrap();
        w.env.wait_phase(ns, name, Phase::Cancelled).await;
    }
}

/// Deleting a running job stops its runner and removes its files with a cleanup Pod.
async fn delete_running(w: &World, ns: &str) {
    w.env.create(ns, "doomed", spec("hang")).await;
    w.env.wait_phase(ns, "doomed", Phase::Running).await;
    let log = w.env.images_dir(ns).join(format!("{ns}/doomed/doomed.log"));
    crate::support::eventually(30, || {
        let log = log.clone();
        async move { log.exists().then_some(()) }
    })
    .await;
    w.env
        .jobs(ns)
        .delete("doomed", &DeleteParams::default())
        .await
        .unwrap();
    w.env.wait_gone(ns, "doomed").await;
    assert!(
        w.env
            .records()
            .iter()
            .any(|l| l.starts_with("clean ") && l.ends_with(&format!("/{ns}/doomed"))),
        "a cleanup Pod ran"
    );
}

/// A finished job is deleted by the operator after its TTL.
async fn ttl(w: &World, ns: &str) {
    let mut s = spec("succeed");
    s.ttl_seconds_after_finished = Some(1);
    w.env.create(ns, "brief", s).await;
    w.env.wait_gone(ns, "brief").await;
}

fn from_config_map(name: &str, key: &str) -> ImageJobSpec {
    ImageJobSpec {
        source: Source {
            kickstart_from: Some(KickstartFrom {
                config_map_key_ref: Some(KeyRef {
                    name: name.into(),
                    key: key.into(),
                }),
                secret_key_ref: None,
            }),
            ..Default::default()
        },
        ..Default::default()
    }
}

/// A job whose ConfigMap is missing waits (Pending), and builds once the ConfigMap appears.
async fn configmap_late(w: &World, ns: &str) {
    w.env
        .create(ns, "late", from_config_map("late-ks", "ks"))
        .await;
    w.env.wait_phase(ns, "late", Phase::Pending).await;
    let cm: ConfigMap = serde_json::from_value(json!({
        "metadata": {"name": "late-ks"},
        "data": {"ks": kickstart("succeed")},
    }))
    .unwrap();
    Api::<ConfigMap>::namespaced(w.env.client.clone(), ns)
        .create(&PostParams::default(), &cm)
        .await
        .unwrap();
    w.env.wait_phase(ns, "late", Phase::Succeeded).await;
}

/// A kickstart kept in a Secret.
async fn secret_kickstart(w: &World, ns: &str) {
    let secret: Secret = serde_json::from_value(json!({
        "metadata": {"name": "ks"},
        "stringData": {"server.ks": kickstart("succeed")},
    }))
    .unwrap();
    Api::<Secret>::namespaced(w.env.client.clone(), ns)
        .create(&PostParams::default(), &secret)
        .await
        .unwrap();
    let mut s = from_config_map("", "");
    s.source.kickstart_from = Some(KickstartFrom {
        config_map_key_ref: None,
        secret_key_ref: Some(KeyRef {
            name: "ks".into(),
            key: "server.ks".into(),
        }),
    });
    w.env.create(ns, "secret", s).await;
    w.env.wait_phase(ns, "secret", Phase::Succeeded).await;
}

/// A template kept in a ConfigMap (the example of manifests/examples).
async fn template_configmap(w: &World, ns: &str) {
    let example = crate::helm::parse_stream(&crate::helm::read(
        "manifests/examples/imagejob-template-configmap.yaml",
    ));
    let cm: ConfigMap = serde_json::from_value(example[0].clone()).unwrap();
    Api::<ConfigMap>::namespaced(w.env.client.clone(), ns)
        .create(&PostParams::default(), &cm)
        .await
        .unwrap();
    let s = ImageJobSpec {
        source: Source {
            template: Some(TemplateSource {
                config_map: cm.metadata.name.clone(),
                platform: "SERVER".into(),
                overlay: Some("gcc".into()),
                ..Default::default()
            }),
            ..Default::default()
        },
        ..Default::default()
    };
    w.env.create(ns, "templated", s).await;
    w.env.wait_phase(ns, "templated", Phase::Succeeded).await;
}

/// A KubeVirt job: its VM, SSH Service and driver Pod, and the VM removed when it ends.
async fn kubevirt(w: &World, ns: &str) {
    let mut s = spec("succeed");
    s.runner.kind = RunnerKind::Kubevirt;
    w.env.create(ns, "vm", s).await;
    w.env.wait_phase(ns, "vm", Phase::Succeeded).await;
    let vmis: Api<DynamicObject> =
        Api::namespaced_with(w.env.client.clone(), ns, &crate::env::vmi_resource());
    crate::support::eventually(30, || {
        let vmis = vmis.clone();
        async move { vmis.get_opt("vm-vm").await.unwrap().is_none().then_some(()) }
    })
    .await;
}

/// An invalid kickstart fails the job; edited into another invalid one it fails again (the
/// same Event, which kube-rs' Recorder then patches as a series instead of creating anew);
/// fixed, it builds.
async fn invalid_twice_then_fixed(w: &World, ns: &str) {
    let invalid = |line: &str| ImageJobSpec {
        source: Source {
            kickstart: Some(format!("lang en_US.UTF-8\n{line}\n")),
            ..Default::default()
        },
        ..Default::default()
    };
    w.env.create(ns, "typo", invalid("part / --size=big")).await;
    w.env.wait_phase(ns, "typo", Phase::Failed).await;
    let jobs = w.env.jobs(ns);
    for (source, check) in [
        (invalid("frobnicate --now"), "frobnicate"),
        (spec("succeed"), ""),
    ] {
        let edit = Patch::Merge(json!({"spec": {"source": source.source}}));
        jobs.patch("typo", &PatchParams::default(), &edit)
            .await
            .unwrap();
        if check.is_empty() {
            w.env.wait_phase(ns, "typo", Phase::Succeeded).await;
        } else {
            w.env
                .wait_for(ns, "typo", "failed again", |j| {
                    j.status
                        .as_ref()
                        .and_then(|s| s.message.as_deref())
                        .is_some_and(|m| m.contains(check))
                })
                .await;
        }
    }
}
