//! The loopback API server checked with kube-rs, the client the operator uses: errors, status
//! and generation, patches, lists and paging, and watches that resume, relist and filter.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use img_tests::apiserver::Config;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, DeleteParams, ListParams, ObjectMeta, Patch, PatchParams, PostParams};
use kube::runtime::watcher::{self, Event};
use kube::{Error, ResourceExt};
use serde_json::json;
use support::{Widget, WidgetStatus, eventually, setup, setup_with, widget};

fn api_error(e: Error) -> Box<kube::core::Status> {
    match e {
        Error::Api(s) => s,
        other => panic!("expected an API error, got {other:?}"),
    }
}

fn cm(name: &str) -> ConfigMap {
    ConfigMap {
        metadata: ObjectMeta {
            name: Some(name.to_owned()),
            ..ObjectMeta::default()
        },
        data: Some(BTreeMap::from([("k".to_owned(), "v".to_owned())])),
        ..ConfigMap::default()
    }
}

#[tokio::test]
async fn errors_come_back_as_status_with_the_real_reasons() {
    let (_server, client) = setup().await;
    let cms: Api<ConfigMap> = Api::default_namespaced(client.clone());

    let e = api_error(cms.get("missing").await.unwrap_err());
    assert!(e.is_not_found());
    assert_eq!(
        (e.code, e.message.as_str()),
        (404, "configmaps \"missing\" not found")
    );

    cms.create(&PostParams::default(), &cm("a")).await.unwrap();
    let e = api_error(
        cms.create(&PostParams::default(), &cm("a"))
            .await
            .unwrap_err(),
    );
    assert!(e.is_already_exists() && e.code == 409);

    let mut stale = cms.get("a").await.unwrap();
    let mut fresh = stale.clone();
    fresh.data = Some(BTreeMap::from([("k".to_owned(), "v2".to_owned())]));
    cms.replace("a", &PostParams::default(), &fresh)
        .await
        .unwrap();
    stale.data = Some(BTreeMap::from([("k".to_owned(), "v3".to_owned())]));
    let e = api_error(
        cms.replace("a", &PostParams::default(), &stale)
            .await
            .unwrap_err(),
    );
    assert!(e.is_conflict(), "{e:?}");

    let e = api_error(
        cms.create(&PostParams::default(), &cm("Not_Valid"))
            .await
            .unwrap_err(),
    );
    assert!(e.is_invalid() && e.code == 422, "{e:?}");

    // A custom resource may not be updated without a resourceVersion.
    let widgets: Api<Widget> = Api::default_namespaced(client);
    widgets
        .create(&PostParams::default(), &widget("w", 1))
        .await
        .unwrap();
    let mut w = widgets.get("w").await.unwrap();
    w.metadata.resource_version = None;
    let e = api_error(
        widgets
            .replace("w", &PostParams::default(), &w)
            .await
            .unwrap_err(),
    );
    assert!(e.is_invalid(), "{e:?}");

    // Unknown namespaces and unknown kinds are 404s too.
    let elsewhere: Api<ConfigMap> = Api::namespaced(widgets.clone().into_client(), "nowhere");
    let e = api_error(
        elsewhere
            .create(&PostParams::default(), &cm("x"))
            .await
            .unwrap_err(),
    );
    assert_eq!(e.message, "namespaces \"nowhere\" not found");
}

#[tokio::test]
async fn status_is_a_subresource_and_generation_follows_the_spec() {
    let (_server, client) = setup().await;
    let widgets: Api<Widget> = Api::default_namespaced(client);
    let mut w = widget("w", 1);
    w.status = Some(WidgetStatus {
        phase: Some("Ignored".into()),
    });
    let created = widgets.create(&PostParams::default(), &w).await.unwrap();
    assert_eq!(created.status, None, "status is dropped on create");
    assert_eq!(created.metadata.generation, Some(1));
    assert!(created.metadata.uid.is_some() && created.metadata.creation_timestamp.is_some());

    // Status through the main resource is ignored; through /status only status changes.
    let mut w = created.clone();
    w.status = Some(WidgetStatus {
        phase: Some("Main".into()),
    });
    w.metadata.labels = Some(BTreeMap::from([("a".into(), "b".into())]));
    let w = widgets
        .replace("w", &PostParams::default(), &w)
        .await
        .unwrap();
    assert_eq!(w.status, None);
    assert_eq!(
        w.metadata.generation,
        Some(1),
        "a label change is not a spec change"
    );
    assert_eq!(w.labels().get("a").map(String::as_str), Some("b"));

    let mut s = w.clone();
    s.status = Some(WidgetStatus {
        phase: Some("Ready".into()),
    });
    s.spec.size = 99;
    let s = widgets
        .replace_status("w", &PostParams::default(), &s)
        .await
        .unwrap();
    assert_eq!(s.status.unwrap().phase.as_deref(), Some("Ready"));
    assert_eq!(s.spec.size, 1, "/status ignores the spec");
    assert_eq!(s.metadata.generation, Some(1));

    let p = widgets
        .patch(
            "w",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"size": 2}})),
        )
        .await
        .unwrap();
    assert_eq!(p.metadata.generation, Some(2));

    // A no-op write does not bump the resourceVersion.
    let again = widgets
        .patch(
            "w",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"size": 2}})),
        )
        .await
        .unwrap();
    assert_eq!(again.resource_version(), p.resource_version());
}

#[tokio::test]
async fn json_patch_test_operations_guard_writes() {
    let (_server, client) = setup().await;
    let widgets: Api<Widget> = Api::default_namespaced(client);
    widgets
        .create(&PostParams::default(), &widget("w", 1))
        .await
        .unwrap();
    let ok = json_patch::Patch(
        serde_json::from_value(json!([
            {"op": "test", "path": "/spec/size", "value": 1},
            {"op": "replace", "path": "/spec/size", "value": 5},
        ]))
        .unwrap(),
    );
    let w = widgets
        .patch("w", &PatchParams::default(), &Patch::Json::<()>(ok))
        .await
        .unwrap();
    assert_eq!(w.spec.size, 5);
    let failing = json_patch::Patch(
        serde_json::from_value(json!([
            {"op": "test", "path": "/spec/size", "value": 1},
            {"op": "replace", "path": "/spec/size", "value": 6},
        ]))
        .unwrap(),
    );
    let e = api_error(
        widgets
            .patch("w", &PatchParams::default(), &Patch::Json::<()>(failing))
            .await
            .unwrap_err(),
    );
    assert_eq!((e.code, e.reason.as_str()), (422, "Invalid"));
    assert_eq!(widgets.get("w").await.unwrap().spec.size, 5);
    // Strategic merge patch is not for custom resources, as on the real server.
    let e = api_error(
        widgets
            .patch(
                "w",
                &PatchParams::default(),
                &Patch::Strategic(json!({"spec": {"size": 7}})),
            )
            .await
            .unwrap_err(),
    );
    assert_eq!(e.code, 415);
}

#[tokio::test]
async fn lists_page_over_a_consistent_snapshot() {
    let (_server, client) = setup().await;
    let cms: Api<ConfigMap> = Api::default_namespaced(client);
    for i in 0..120 {
        cms.create(&PostParams::default(), &cm(&format!("c{i:03}")))
            .await
            .unwrap();
    }
    let first = cms.list(&ListParams::default().limit(50)).await.unwrap();
    assert_eq!(first.items.len(), 50);
    assert_eq!(first.metadata.remaining_item_count, Some(70));
    let token = first.metadata.continue_.clone().unwrap();
    // Changes after the first page do not show up in the following pages.
    cms.delete("c100", &DeleteParams::default()).await.unwrap();
    cms.create(&PostParams::default(), &cm("c999"))
        .await
        .unwrap();
    let mut names: Vec<String> = first.items.iter().map(ResourceExt::name_any).collect();
    let mut token = Some(token);
    while let Some(t) = token {
        let page = cms
            .list(&ListParams::default().limit(50).continue_token(&t))
            .await
            .unwrap();
        names.extend(page.items.iter().map(ResourceExt::name_any));
        token = page.metadata.continue_.filter(|c| !c.is_empty());
    }
    let expected: Vec<String> = (0..120).map(|i| format!("c{i:03}")).collect();
    assert_eq!(names, expected);
    // Selectors.
    let mut labelled = cm("labelled");
    labelled.metadata.labels = Some(BTreeMap::from([("app".into(), "img".into())]));
    cms.create(&PostParams::default(), &labelled).await.unwrap();
    let only = cms
        .list(&ListParams::default().labels("app=img"))
        .await
        .unwrap();
    assert_eq!(only.items.len(), 1);
    let by_name = cms
        .list(&ListParams::default().fields("metadata.name=c007"))
        .await
        .unwrap();
    assert_eq!(by_name.items[0].name_any(), "c007");
    let e = api_error(
        cms.list(&ListParams::default().fields("data.k=v"))
            .await
            .unwrap_err(),
    );
    assert_eq!(
        (e.code, e.message.as_str()),
        // ConfigMaps have no field-selector conversion: the real server's generic text.
        (
            400,
            "\"data.k\" is not a known field selector: only \"metadata.name\", \"metadata.namespace\""
        )
    );
}

/// Reads watcher events until `want` objects have been applied after the initial list.
async fn applied_names<S>(stream: &mut S, want: usize) -> Vec<String>
where
    S: futures::Stream<Item = Result<Event<ConfigMap>, watcher::Error>> + Unpin,
{
    let mut names = Vec::new();
    while names.len() < want {
        let event = tokio::time::timeout(Duration::from_secs(10), stream.try_next())
            .await
            .expect("watch event in time")
            .unwrap()
            .expect("stream continues");
        if let Event::Apply(o) = event {
            names.push(o.name_any());
        }
    }
    names
}

#[tokio::test]
async fn the_watcher_resumes_after_a_dropped_connection_without_gaps_or_repeats() {
    let (server, client) = setup().await;
    let cms: Api<ConfigMap> = Api::default_namespaced(client);
    cms.create(&PostParams::default(), &cm("before"))
        .await
        .unwrap();
    let mut stream = watcher::watcher(cms.clone(), watcher::Config::default()).boxed();
    loop {
        match stream.try_next().await.unwrap().unwrap() {
            Event::InitDone => break,
            Event::InitApply(o) => assert_eq!(o.name_any(), "before"),
            _ => {}
        }
    }
    let mut seen = Vec::new();
    for round in 0..3 {
        // The stream is not polled while the connection is cut and objects change, so the
        // watcher can only catch up by resuming from its resourceVersion.
        server.cut_watches();
        for i in 0..4 {
            cms.create(&PostParams::default(), &cm(&format!("r{round}-{i}")))
                .await
                .unwrap();
        }
        seen.extend(applied_names(&mut stream, 4).await);
    }
    let expected: Vec<String> = (0..3)
        .flat_map(|r| (0..4).map(move |i| format!("r{r}-{i}")))
        .collect();
    assert_eq!(seen, expected);
    // Nothing more is pending: no duplicates arrive.
    let extra = tokio::time::timeout(Duration::from_millis(300), stream.try_next()).await;
    assert!(extra.is_err(), "unexpected extra event: {extra:?}");
}

#[tokio::test]
async fn the_watcher_relists_after_410_gone() {
    let (server, client) = setup_with(Config {
        history: 5,
        ..Config::default()
    })
    .await;
    let cms: Api<ConfigMap> = Api::default_namespaced(client);
    let mut stream = watcher::watcher(cms.clone(), watcher::Config::default()).boxed();
    while !matches!(stream.try_next().await.unwrap().unwrap(), Event::InitDone) {}
    server.cut_watches();
    // More changes than the history keeps: resuming is impossible, the server answers 410.
    for i in 0..10 {
        cms.create(&PostParams::default(), &cm(&format!("c{i}")))
            .await
            .unwrap();
    }
    let mut relisted = Vec::new();
    let mut gone = false;
    loop {
        let next = tokio::time::timeout(Duration::from_secs(10), stream.next())
            .await
            .expect("event in time")
            .expect("stream continues");
        // The watcher reports the 410 once, then relists on the next poll.
        let event = match next {
            Err(watcher::Error::WatchError(s)) if s.code == 410 && s.reason == "Expired" => {
                gone = true;
                continue;
            }
            other => other.unwrap(),
        };
        match event {
            Event::Init => relisted.clear(),
            Event::InitApply(o) => relisted.push(o.name_any()),
            Event::InitDone => break,
            Event::Apply(o) => panic!("resumed instead of relisting: {}", o.name_any()),
            Event::Delete(_) => {}
        }
    }
    assert!(gone, "the server never answered 410 Gone");
    assert_eq!(relisted.len(), 10);
}

#[tokio::test]
async fn watches_with_selectors_see_objects_enter_and_leave_the_selection() {
    let (_server, client) = setup().await;
    let cms: Api<ConfigMap> = Api::default_namespaced(client);
    let params = kube::api::WatchParams::default().labels("app=img");
    let mut events = cms.watch(&params, "0").await.unwrap().boxed();
    cms.create(&PostParams::default(), &cm("x")).await.unwrap();
    cms.patch(
        "x",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"labels": {"app": "img"}}})),
    )
    .await
    .unwrap();
    cms.patch(
        "x",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"labels": {"app": "other"}}})),
    )
    .await
    .unwrap();
    let mut kinds = Vec::new();
    while kinds.len() < 2 {
        match events.try_next().await.unwrap().unwrap() {
            kube::core::WatchEvent::Added(o) => kinds.push(("ADDED", o.name_any())),
            kube::core::WatchEvent::Modified(o) => kinds.push(("MODIFIED", o.name_any())),
            kube::core::WatchEvent::Deleted(o) => kinds.push(("DELETED", o.name_any())),
            kube::core::WatchEvent::Bookmark(_) => {}
            kube::core::WatchEvent::Error(e) => panic!("{e:?}"),
        }
    }
    assert_eq!(
        kinds,
        [("ADDED", "x".to_owned()), ("DELETED", "x".to_owned())]
    );
}

#[tokio::test]
async fn bookmarks_and_streaming_lists() {
    let (_server, client) = setup_with(Config {
        bookmark_interval: Duration::from_millis(200),
        ..Config::default()
    })
    .await;
    let cms: Api<ConfigMap> = Api::default_namespaced(client);
    cms.create(&PostParams::default(), &cm("a")).await.unwrap();
    let params = kube::api::WatchParams {
        bookmarks: true,
        ..kube::api::WatchParams::default()
    };
    let mut events = cms.watch(&params, "0").await.unwrap().boxed();
    let mut bookmark = false;
    for _ in 0..5 {
        if let kube::core::WatchEvent::Bookmark(b) = events.try_next().await.unwrap().unwrap() {
            assert!(!b.metadata.resource_version.is_empty());
            bookmark = true;
            break;
        }
    }
    assert!(bookmark, "no bookmark within five events");
    // kube-rs's streaming-list mode (sendInitialEvents) ends its initial list on the
    // bookmark annotated k8s.io/initial-events-end.
    let mut stream =
        watcher::watcher(cms.clone(), watcher::Config::default().streaming_lists()).boxed();
    let mut initial = Vec::new();
    loop {
        match stream.try_next().await.unwrap().unwrap() {
            Event::InitApply(o) => initial.push(o.name_any()),
            Event::InitDone => break,
            _ => {}
        }
    }
    assert_eq!(initial, ["a"]);
}

#[tokio::test]
async fn watch_timeouts_end_the_stream() {
    let (_server, client) = setup().await;
    let cms: Api<ConfigMap> = Api::default_namespaced(client);
    let params = kube::api::WatchParams::default().timeout(1);
    let mut events = cms.watch(&params, "0").await.unwrap().boxed();
    let ended = tokio::time::timeout(Duration::from_secs(5), async {
        while events.try_next().await.unwrap().is_some() {}
    })
    .await;
    assert!(ended.is_ok(), "the watch outlived its timeoutSeconds");
    let _ = eventually(1, || async { Some(()) }).await;
}
