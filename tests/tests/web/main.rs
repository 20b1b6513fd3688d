//! The web frontend against the loopback API server: jobs created through the JSON API
//! become ImageJobs with their submitter, and the list the frontend serves (from its watch
//! of the API) shows them; `imgctl` against a whole running site (`site.rs`: the API server
//! in kubelet mode, the operator, the fake runner, the frontend on a port); and the pages in
//! headless Chromium (`browser.rs`).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

#[path = "../support/mod.rs"]
mod support;
#[path = "../support/world.rs"]
mod world;

mod browser;
mod imgctl;
mod site;

use std::collections::BTreeMap;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt as _;
use img_crd::ImageJob;
use img_crd::admission::{SourceText, builtin_template};
use img_tests::apiserver::{ApiServer, Config};
use img_web::app::{AppState, router};
use img_web::settings::Settings;
use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, PostParams};
use kube::{CustomResourceExt, ResourceExt};
use tower::ServiceExt as _;

async fn call(app: &axum::Router, req: Request<Body>) -> (StatusCode, serde_json::Value) {
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null),
    )
}

#[tokio::test]
async fn jobs_submitted_through_the_api_are_imagejobs_in_the_list() {
    let server = ApiServer::start(Config::default()).await.unwrap();
    let client = support::client(&server).await;
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    crds.create(&PostParams::default(), &ImageJob::crd())
        .await
        .unwrap();
    let (reader, watch) = img_web::store::watch_jobs(client.clone());
    let watch = tokio::spawn(watch);
    let dir = tempfile::tempdir().unwrap();
    let app = router(AppState::new(
        dir.path().to_owned(),
        reader.clone(),
        client.clone(),
        Settings::local("default"),
    ));

    let submit = |body: serde_json::Value| {
        Request::post("/api/v1/jobs")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
            .unwrap()
    };
    let (status, created) = call(
        &app,
        submit(serde_json::json!({
            "kickstart": "# -*-mic2-options-*- -f raw -*-mic2-options-*-\nlang C\n",
            "email": ["builder@example.org"]
        })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let name = created["summary"]["name"].as_str().unwrap().to_owned();
    assert!(name.starts_with("job-"), "{name}");

    let (status, refused) = call(
        &app,
        submit(serde_json::json!({ "kickstart": "%post\nno end\n", "imageType": "floppy" })),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused["errors"].as_array().unwrap().len() >= 2,
        "{refused}"
    );

    let api: Api<ImageJob> = Api::namespaced(client.clone(), "default");
    let stored = api.get(&name).await.unwrap();
    assert_eq!(
        stored
            .annotations()
            .get(img_web::view::SUBMITTER)
            .map(String::as_str),
        Some("anonymous")
    );
    assert_eq!(stored.spec.notify.email, ["builder@example.org"]);

    // The list comes from the frontend's watch, not from a request to the API.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let (status, page) = call(
            &app,
            Request::get("/api/v1/jobs").body(Body::empty()).unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        if page["total"] == 1 {
            assert_eq!(page["items"][0]["name"], name.as_str());
            assert_eq!(page["items"][0]["submitter"], "anonymous");
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the job never appeared: {page}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // A template ConfigMap named by the submission: its platforms, and jobs that use it.
    let mut cm = ConfigMap::default();
    cm.metadata.name = Some("netbook-templates".into());
    let SourceText::Template {
        configurations,
        repositories,
        files,
        ..
    } = builtin_template()
    else {
        panic!("the built-in template is a template");
    };
    let mut data: BTreeMap<String, String> = files
        .into_iter()
        .map(|(path, text)| (path.replace('/', "__"), text))
        .collect();
    data.insert("configurations.yaml".into(), configurations);
    data.insert("repos.yaml".into(), repositories);
    cm.data = Some(data);
    Api::<ConfigMap>::namespaced(client.clone(), "default")
        .create(&PostParams::default(), &cm)
        .await
        .unwrap();
    let (status, choices) = call(
        &app,
        Request::get("/api/v1/choices?template=netbook-templates")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{choices}");
    assert_eq!(choices["template"], "ConfigMap \"netbook-templates\"");
    assert!(
        choices["platforms"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p == "MINIMAL")
    );
    let (status, created) = call(
        &app,
        submit(serde_json::json!({
            "platform": "MINIMAL", "overlay": "less", "template": "netbook-templates",
            "imageType": "raw"
        })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(
        created["spec"]["source"]["template"]["configMap"],
        "netbook-templates"
    );
    let (status, missing) = call(
        &app,
        submit(serde_json::json!({
            "platform": "MINIMAL", "template": "no-such-templates", "imageType": "raw"
        })),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{missing}");
    assert!(
        missing["error"]
            .as_str()
            .unwrap()
            .contains("no-such-templates")
    );
    watch.abort();
}
