//! The web frontend's paths through its JSON API: submit a kickstart, preview and submit a
//! template job from a template ConfigMap, cancel, retry, delete, clear. The frontend's client
//! (and its watch of the jobs) presents the frontend's ServiceAccount; an operator with the
//! test's own, unrecorded client moves the jobs along.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use http_body_util::BodyExt as _;
use img_crd::Phase;
use img_tests::apiserver::Access;
use img_web::app::{AppState, router};
use img_web::settings::Settings;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, PostParams};
use serde_json::{Value, json};
use tower::ServiceExt as _;

use crate::env::{Env, kickstart};

/// Sends one API request to the frontend; the status and the JSON body.
async fn call(
    app: &axum::Router,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = Request::builder().method(method).uri(path);
    if body.is_some() {
        request = request.header("content-type", "application/json");
    }
    let body = body.map_or_else(Body::empty, |b| Body::from(b.to_string()));
    let response = app
        .clone()
        .oneshot(request.body(body).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

/// Submits `body`; the new job's name.
async fn submit(app: &axum::Router, body: Value) -> String {
    let (status, job) = call(app, Method::POST, "/api/v1/jobs", Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{job}");
    job["summary"]["name"].as_str().unwrap().to_owned()
}

/// Runs the frontend as `user`, putting jobs into `namespace`; returns the server's record.
pub(crate) async fn run(user: &str, namespace: &str) -> Vec<Access> {
    let env = Env::start().await;
    env.namespace(namespace).await;
    let _operator = env.operator(&["--max-running", "4"]).await;
    let example = crate::helm::parse_stream(&crate::helm::read(
        "manifests/examples/imagejob-template-configmap.yaml",
    ));
    let template: ConfigMap = serde_json::from_value(example[0].clone()).unwrap();
    let template_name = template.metadata.name.clone().unwrap();
    Api::<ConfigMap>::namespaced(env.client.clone(), namespace)
        .create(&PostParams::default(), &template)
        .await
        .unwrap();

    let client = crate::client_as(&env.server, user).await;
    let (reader, watch) = img_web::store::watch_jobs(client.clone());
    let watch = tokio::spawn(watch);
    let state = AppState::new(
        env.images_dir(namespace),
        reader.clone(),
        client,
        Settings::local(namespace),
    );
    reader.wait_until_ready().await.unwrap();
    let app = router(state);

    let built = submit(&app, json!({"kickstart": kickstart("succeed")})).await;
    let hanging = submit(&app, json!({"kickstart": kickstart("hang")})).await;
    let preview = json!({"platform": "SERVER", "template": template_name, "overlay": "gcc"});
    let (status, shown) = call(&app, Method::POST, "/api/v1/preview", Some(preview.clone())).await;
    assert_eq!(status, StatusCode::OK, "{shown}");
    let templated = submit(&app, preview).await;
    env.wait_phase(namespace, &built, Phase::Succeeded).await;
    env.wait_phase(namespace, &hanging, Phase::Running).await;

    let job = |name: &str| format!("/api/v1/jobs/{namespace}/{name}");
    let (status, _) = call(
        &app,
        Method::POST,
        &format!("{}/cancel", job(&hanging)),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    env.wait_phase(namespace, &hanging, Phase::Cancelled).await;
    let (status, retried) = call(
        &app,
        Method::POST,
        &format!("{}/retry", job(&hanging)),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{retried}");
    let retried = retried["summary"]["name"].as_str().unwrap().to_owned();
    let (status, _) = call(&app, Method::DELETE, &job(&retried), None).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    env.wait_gone(namespace, &retried).await;
    env.wait_phase(namespace, &templated, Phase::Succeeded)
        .await;
    let (status, cleared) = call(&app, Method::POST, "/api/v1/clear", None).await;
    assert_eq!(status, StatusCode::OK, "{cleared}");
    assert!(
        cleared["removed"].as_array().is_some_and(|r| r.len() >= 3),
        "{cleared}"
    );
    watch.abort();
    env.server.access_log()
}
