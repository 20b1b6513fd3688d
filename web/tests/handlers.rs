//! Handler tests with `oneshot`: downloads (Range, Content-Length, hostile paths) and the
//! JSON job list over a store filled by hand.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod common;

use axum::http::StatusCode;
use common::{get, header_of, job, state};
use img_crd::Phase;
use img_web::app::router;

#[tokio::test]
async fn downloads_serve_ranges_and_refuse_escapes() {
    let dir = tempfile::tempdir().unwrap();
    let images = dir.path().join("images");
    std::fs::create_dir_all(images.join("team/nb")).unwrap();
    std::fs::write(images.join("team/nb/nb-sda.raw"), b"0123456789").unwrap();
    std::fs::write(dir.path().join("secret"), b"top secret").unwrap();
    std::os::unix::fs::symlink(dir.path().join("secret"), images.join("team/nb/link.raw")).unwrap();
    let app = router(state(&images, Vec::new()));

    let (status, headers, body) = get(app.clone(), "/images/team/nb/nb-sda.raw", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header_of(&headers, "content-length"), Some("10"));
    assert_eq!(header_of(&headers, "accept-ranges"), Some("bytes"));
    assert_eq!(body, b"0123456789");

    let (status, headers, body) =
        get(app.clone(), "/images/team/nb/nb-sda.raw", Some("bytes=2-5")).await;
    assert_eq!(status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(header_of(&headers, "content-length"), Some("4"));
    assert_eq!(header_of(&headers, "content-range"), Some("bytes 2-5/10"));
    assert_eq!(body, b"2345");

    for (uri, expected) in [
        ("/images/team/nb/..%2F..%2Fsecret", StatusCode::BAD_REQUEST),
        ("/images/%2e%2e/nb/nb-sda.raw", StatusCode::BAD_REQUEST),
        ("/images/team/nb/.hidden", StatusCode::BAD_REQUEST),
        ("/images/team/nb/link.raw", StatusCode::NOT_FOUND),
        ("/images/team/nb/missing.raw", StatusCode::NOT_FOUND),
    ] {
        let (status, _, body) = get(app.clone(), uri, None).await;
        assert_eq!(status, expected, "{uri}");
        assert!(!body.starts_with(b"top secret"), "{uri}");
    }
}

#[tokio::test]
async fn the_job_list_is_filtered_and_ordered() {
    let dir = tempfile::tempdir().unwrap();
    let app = router(state(
        dir.path(),
        vec![
            job("done", Phase::Succeeded, None),
            job("second", Phase::Queued, Some(2)),
            job("first", Phase::Queued, Some(1)),
            job("building", Phase::Running, None),
        ],
    ));
    let (status, _, body) = get(app.clone(), "/api/v1/jobs", None).await;
    assert_eq!(status, StatusCode::OK);
    let page: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let names: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["building", "first", "second", "done"]);
    assert_eq!(page["total"], 4);
    let (_, _, body) = get(
        app.clone(),
        "/api/v1/jobs?phase=queued&perPage=1&page=2",
        None,
    )
    .await;
    let page: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(page["items"][0]["name"], "second");
    assert_eq!(page["items"][0]["queuePosition"], 2);
    let (status, _, body) = get(app.clone(), "/api/v1/jobs/team/first", None).await;
    assert_eq!(status, StatusCode::OK);
    let one: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(one["summary"]["phase"], "Queued");
    let (status, _, _) = get(app, "/api/v1/jobs/team/nope", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
