//! The loopback API server under kube-runtime, as the operator will use it: a `Controller`
//! that owns ConfigMaps, the `finalizer` helper, and garbage collection of owned Pods.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod support;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::{ConfigMap, Container, Pod, PodSpec};
use kube::api::{Api, DeleteParams, ListParams, ObjectMeta, Patch, PatchParams, PostParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::finalizer::{Event as Finalizer, finalizer};
use kube::runtime::watcher;
use kube::{Resource, ResourceExt};
use serde_json::json;
use support::{Widget, eventually, setup, widget};

/// What the test controllers saw.
#[derive(Default)]
struct Log {
    entries: Mutex<Vec<String>>,
}

impl Log {
    fn push(&self, s: String) {
        self.entries.lock().unwrap().push(s);
    }
    fn snapshot(&self) -> Vec<String> {
        self.entries.lock().unwrap().clone()
    }
}

struct Ctx {
    client: kube::Client,
    log: Log,
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct ReconcileError(String);

fn error_policy(_w: Arc<Widget>, _e: &ReconcileError, _c: Arc<Ctx>) -> Action {
    Action::requeue(Duration::from_millis(200))
}

/// Keeps a ConfigMap owned by each widget, with the widget's size in it.
async fn reconcile_owned(w: Arc<Widget>, ctx: Arc<Ctx>) -> Result<Action, ReconcileError> {
    let cms: Api<ConfigMap> = Api::default_namespaced(ctx.client.clone());
    let name = format!("{}-config", w.name_any());
    let current = cms
        .get_opt(&name)
        .await
        .map_err(|e| ReconcileError(e.to_string()))?;
    let seen = current
        .as_ref()
        .and_then(|c| c.data.as_ref())
        .and_then(|d| d.get("size").cloned())
        .unwrap_or_default();
    ctx.log
        .push(format!("reconcile {} size={seen}", w.name_any()));
    let cm = ConfigMap {
        metadata: ObjectMeta {
            name: Some(name.clone()),
            owner_references: Some(vec![w.controller_owner_ref(&()).unwrap()]),
            ..ObjectMeta::default()
        },
        data: Some(BTreeMap::from([(
            "size".to_owned(),
            w.spec.size.to_string(),
        )])),
        ..ConfigMap::default()
    };
    if current.is_none() {
        cms.create(&PostParams::default(), &cm)
            .await
            .map_err(|e| ReconcileError(e.to_string()))?;
    }
    Ok(Action::await_change())
}

#[tokio::test]
async fn a_controller_that_owns_configmaps_reconciles_their_changes() {
    let (_server, client) = setup().await;
    let ctx = Arc::new(Ctx {
        client: client.clone(),
        log: Log::default(),
    });
    let widgets: Api<Widget> = Api::default_namespaced(client.clone());
    let cms: Api<ConfigMap> = Api::default_namespaced(client.clone());
    let controller = Controller::new(widgets.clone(), watcher::Config::default())
        .owns(cms.clone(), watcher::Config::default())
        .run(reconcile_owned, error_policy, ctx.clone())
        .for_each(|_| async {});
    let handle = tokio::spawn(controller);

    widgets
        .create(&PostParams::default(), &widget("w", 3))
        .await
        .unwrap();
    eventually(10, || async { cms.get_opt("w-config").await.unwrap() }).await;
    // A change to the owned object (not to the widget) triggers a reconcile of its owner.
    cms.patch(
        "w-config",
        &PatchParams::default(),
        &Patch::Merge(json!({"data": {"size": "7"}})),
    )
    .await
    .unwrap();
    eventually(10, || async {
        ctx.log
            .snapshot()
            .iter()
            .any(|e| e == "reconcile w size=7")
            .then_some(())
    })
    .await;
    handle.abort();
}

/// Records apply and cleanup through kube-runtime's finalizer helper.
async fn reconcile_finalized(w: Arc<Widget>, ctx: Arc<Ctx>) -> Result<Action, ReconcileError> {
    let widgets: Api<Widget> = Api::default_namespaced(ctx.client.clone());
    finalizer(&widgets, "example.org/cleanup", w, |event| async {
        match event {
            Finalizer::Apply(w) => ctx.log.push(format!("apply {}", w.name_any())),
            Finalizer::Cleanup(w) => ctx.log.push(format!("cleanup {}", w.name_any())),
        }
        Ok::<_, ReconcileError>(Action::await_change())
    })
    .await
    .map_err(|e| ReconcileError(e.to_string()))
}

#[tokio::test]
async fn the_finalizer_helper_runs_apply_then_cleanup() {
    let (_server, client) = setup().await;
    let ctx = Arc::new(Ctx {
        client: client.clone(),
        log: Log::default(),
    });
    let widgets: Api<Widget> = Api::default_namespaced(client.clone());
    let handle = tokio::spawn(
        Controller::new(widgets.clone(), watcher::Config::default())
            .run(reconcile_finalized, error_policy, ctx.clone())
            .for_each(|_| async {}),
    );
    widgets
        .create(&PostParams::default(), &widget("f", 1))
        .await
        .unwrap();
    let with_finalizer = eventually(10, || async {
        let w = widgets.get("f").await.unwrap();
        w.finalizers()
            .contains(&"example.org/cleanup".to_owned())
            .then_some(w)
    })
    .await;
    assert!(with_finalizer.metadata.deletion_timestamp.is_none());
    eventually(10, || async {
        ctx.log
            .snapshot()
            .contains(&"apply f".to_owned())
            .then_some(())
    })
    .await;

    widgets.delete("f", &DeleteParams::default()).await.unwrap();
    // Deleted only once the cleanup has run and removed the finalizer.
    eventually(10, || async {
        widgets.get_opt("f").await.unwrap().is_none().then_some(())
    })
    .await;
    let log = ctx.log.snapshot();
    let apply = log.iter().position(|e| e == "apply f").unwrap();
    let cleanup = log
        .iter()
        .position(|e| e == "cleanup f")
        .expect("cleanup ran");
    assert!(apply < cleanup, "{log:?}");
    handle.abort();
}

fn pod(name: &str, owner: &Widget) -> Pod {
    Pod {
        metadata: ObjectMeta {
            name: Some(name.to_owned()),
            owner_references: Some(vec![owner.controller_owner_ref(&()).unwrap()]),
            ..ObjectMeta::default()
        },
        spec: Some(PodSpec {
            containers: vec![Container {
                name: "main".into(),
                image: Some("busybox".into()),
                ..Container::default()
            }],
            ..PodSpec::default()
        }),
        ..Pod::default()
    }
}

async fn owned_pods(client: &kube::Client, owner: &str) -> (Widget, Api<Pod>) {
    let widgets: Api<Widget> = Api::default_namespaced(client.clone());
    let pods: Api<Pod> = Api::default_namespaced(client.clone());
    let w = widgets
        .create(&PostParams::default(), &widget(owner, 1))
        .await
        .unwrap();
    for i in 0..3 {
        pods.create(&PostParams::default(), &pod(&format!("{owner}-{i}"), &w))
            .await
            .unwrap();
    }
    (w, pods)
}

async fn count(pods: &Api<Pod>, prefix: &str) -> usize {
    pods.list(&ListParams::default())
        .await
        .unwrap()
        .items
        .iter()
        .filter(|p| p.name_any().starts_with(prefix))
        .count()
}

#[tokio::test]
async fn deleting_an_owner_collects_its_pods() {
    let (_server, client) = setup().await;
    let widgets: Api<Widget> = Api::default_namespaced(client.clone());

    // Background (the default): the owner goes at once, the garbage collector follows.
    let (_, pods) = owned_pods(&client, "bg").await;
    widgets
        .delete("bg", &DeleteParams::default())
        .await
        .unwrap();
    assert!(widgets.get_opt("bg").await.unwrap().is_none());
    eventually(10, || async {
        (count(&pods, "bg-").await == 0).then_some(())
    })
    .await;

    // Orphan: the pods stay and lose their owner reference.
    let (_, pods) = owned_pods(&client, "or").await;
    widgets.delete("or", &DeleteParams::orphan()).await.unwrap();
    eventually(10, || async {
        widgets.get_opt("or").await.unwrap().is_none().then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(count(&pods, "or-").await, 3);
    let p = pods.get("or-0").await.unwrap();
    assert!(
        p.owner_references().is_empty(),
        "{:?}",
        p.owner_references()
    );

    // Foreground: the owner waits, visibly deleting, until its pods are gone.
    let (_, pods) = owned_pods(&client, "fg").await;
    let pending = widgets
        .delete("fg", &DeleteParams::foreground())
        .await
        .unwrap();
    let w = pending.left().expect("the owner waits for its dependents");
    assert!(w.metadata.deletion_timestamp.is_some());
    assert!(w.finalizers().contains(&"foregroundDeletion".to_owned()));
    eventually(10, || async {
        widgets.get_opt("fg").await.unwrap().is_none().then_some(())
    })
    .await;
    assert_eq!(count(&pods, "fg-").await, 0);

    // A dependent whose owner does not exist is collected too.
    let mut ghost = widget("ghost", 1);
    ghost.metadata.uid = Some("00000000-0000-0000-0000-000000000000".into());
    pods.create(&PostParams::default(), &pod("orphaned", &ghost))
        .await
        .unwrap();
    eventually(10, || async {
        pods.get_opt("orphaned")
            .await
            .unwrap()
            .is_none()
            .then_some(())
    })
    .await;
}

#[tokio::test]
async fn deleting_a_namespace_takes_its_contents_and_refuses_new_ones() {
    let (_server, client) = setup().await;
    let namespaces: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(client.clone());
    let ns: k8s_openapi::api::core::v1::Namespace =
        serde_json::from_value(json!({"metadata": {"name": "scratch"}})).unwrap();
    namespaces
        .create(&PostParams::default(), &ns)
        .await
        .unwrap();
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "scratch");
    for i in 0..3 {
        let cm: ConfigMap =
            serde_json::from_value(json!({"metadata": {"name": format!("c{i}")}})).unwrap();
        cms.create(&PostParams::default(), &cm).await.unwrap();
    }
    // A finalizer holds one object, and with it the namespace.
    cms.patch(
        "c0",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"finalizers": ["example.org/hold"]}})),
    )
    .await
    .unwrap();
    namespaces
        .delete("scratch", &DeleteParams::default())
        .await
        .unwrap();
    let terminating = eventually(10, || async {
        let n = namespaces.get("scratch").await.unwrap();
        (n.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Terminating")).then_some(n)
    })
    .await;
    assert!(terminating.metadata.deletion_timestamp.is_some());
    let late: ConfigMap = serde_json::from_value(json!({"metadata": {"name": "late"}})).unwrap();
    match cms.create(&PostParams::default(), &late).await.unwrap_err() {
        kube::Error::Api(s) => assert!(s.is_forbidden(), "{s:?}"),
        other => panic!("{other:?}"),
    }
    eventually(10, || async {
        (cms.list(&ListParams::default()).await.unwrap().items.len() == 1).then_some(())
    })
    .await;
    cms.patch(
        "c0",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"finalizers": null}})),
    )
    .await
    .unwrap();
    eventually(10, || async {
        namespaces
            .get_opt("scratch")
            .await
            .unwrap()
            .is_none()
            .then_some(())
    })
    .await;
}
