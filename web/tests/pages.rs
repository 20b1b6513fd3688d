//! The HTML pages and the rest of the JSON API with `oneshot`, over a store filled by hand:
//! escaping of hostile text, the submit form (preview, errors at fields and lines, CSRF,
//! size limits, non-UTF-8 uploads), the job page and its log, the queue, clear, auth, metrics
//! and the OpenAPI document's routes.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod common;

use std::collections::BTreeSet;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::{TOKEN, form_post, get, header_of, job, send, state, state_with};
use img_crd::{Artifact, ImageJob, KickstartRecord, Phase, Stage, StageOutcome, StageRecord};
use img_web::app::router;
use img_web::auth::AuthMode;
use img_web::settings::Settings;
use img_web::view::SUBMITTER;

fn text(body: &[u8]) -> String {
    String::from_utf8_lossy(body).into_owned()
}

fn hostile_job() -> ImageJob {
    let mut j = job("evil", Phase::Succeeded, None);
    j.metadata.annotations = Some(
        [(
            SUBMITTER.to_owned(),
            "<script>alert('s')</script>".to_owned(),
        )]
        .into_iter()
        .collect(),
    );
    let status = j.status.as_mut().unwrap();
    status.kickstart = Some(KickstartRecord {
        text: Some("%packages\n<img src=x onerror=alert(1)>\n%end\n".into()),
        ..Default::default()
    });
    status.reason = Some("BuildFailed".into());
    status.message = Some("no package '<b>bold</b>'".into());
    status.stages = vec![StageRecord {
        name: Stage::Clone,
        started_at: None,
        finished_at: None,
        outcome: Some(StageOutcome::Succeeded),
        message: Some("<i>cloned</i>".into()),
    }];
    status.artifacts = vec![Artifact {
        name: "evil.raw".into(),
        size: 3 * 1024 * 1024,
        sha256: "ab".repeat(32),
        url: None,
    }];
    j
}

#[tokio::test]
async fn pages_escape_logs_kickstarts_and_names() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("team/evil")).unwrap();
    std::fs::write(
        dir.path().join("team/evil/evil.log"),
        "building\n<script>alert('log')</script>\n\u{1b}[31mred\r\n",
    )
    .unwrap();
    let app = router(state(dir.path(), vec![hostile_job()]));

    let (status, headers, body) = get(app.clone(), "/job/team/evil", None).await;
    assert_eq!(status, StatusCode::OK);
    let page = text(&body);
    assert!(!page.contains("<script>alert"), "{page}");
    assert!(!page.contains("<img src=x"), "{page}");
    assert!(!page.contains("<b>bold"), "{page}");
    assert!(
        page.contains("&#60;script&#62;alert(&#39;log&#39;)&#60;/script&#62;"),
        "{page}"
    );
    assert!(page.contains("&#60;img src=x onerror=alert(1)&#62;"));
    assert!(page.contains("3.0 MiB") && page.contains(&"ab".repeat(32)));
    assert!(page.contains("href=\"/images/team/evil/evil.raw\""));
    assert!(page.contains("BuildFailed"));
    assert!(
        header_of(&headers, "set-cookie").is_some_and(|c| c.contains("SameSite=Strict")),
        "{headers:?}"
    );

    let (status, _, body) = get(app.clone(), "/queue/", None).await;
    assert_eq!(status, StatusCode::OK);
    let page = text(&body);
    assert!(page.contains("team/evil") && !page.contains("<script>alert"));
}

#[tokio::test]
async fn job_ids_are_checked_before_use() {
    let dir = tempfile::tempdir().unwrap();
    let app = router(state(dir.path(), vec![job("ok", Phase::Queued, Some(1))]));
    for (uri, want) in [
        ("/job/team/..%2F..%2Fetc", StatusCode::BAD_REQUEST),
        ("/job/Team/ok", StatusCode::BAD_REQUEST),
        ("/job/team/nope", StatusCode::NOT_FOUND),
        ("/api/v1/jobs/team/..%2Fx/log", StatusCode::BAD_REQUEST),
        ("/job/team/%3Cscript%3E", StatusCode::BAD_REQUEST),
        ("/api/v1/jobs/team/%3Cscript%3E", StatusCode::BAD_REQUEST),
    ] {
        let (status, headers, body) = get(app.clone(), uri, None).await;
        assert_eq!(status, want, "{uri}");
        // Pages escape what they echo; the API answers JSON, which no browser renders.
        let html = header_of(&headers, "content-type").is_some_and(|t| t.starts_with("text/html"));
        assert!(!html || !text(&body).contains("<script>"), "{uri}");
    }
}

#[tokio::test]
async fn the_form_offers_the_template_and_previews_with_the_overlay() {
    let dir = tempfile::tempdir().unwrap();
    let app = router(state(dir.path(), Vec::new()));
    let (status, _, body) = get(app.clone(), "/submit/", None).await;
    assert_eq!(status, StatusCode::OK);
    let page = text(&body);
    assert!(page.contains("<option value=\"MINIMAL\""), "{page}");
    assert!(page.contains("name=\"csrf\""));

    let preview = |overlay: &'static str| {
        send(
            app.clone(),
            form_post(
                "/submit/",
                &[
                    ("csrf", None, TOKEN.as_bytes()),
                    ("source", None, b"template"),
                    ("platform", None, b"MINIMAL"),
                    ("overlay", None, overlay.as_bytes()),
                    ("imagetype", None, b"raw"),
                    ("action", None, b"preview"),
                ],
            ),
        )
    };
    let (status, _, body) = preview("less,-nano,<script>x</script>").await;
    let page = text(&body);
    // A package name with markup is refused at the overlay field, never shown live.
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{page}");
    assert!(page.contains("data-field=\"overlay\""), "{page}");
    assert!(!page.contains("<script>x"), "{page}");
    let (status2, _, body2) = preview("less,-nano").await;
    let preview = text(&body2);
    assert_eq!(status2, StatusCode::OK, "{preview}");
    assert!(preview.contains("id=\"preview\""), "{preview}");
    assert!(preview.contains("<li>less</li>"), "{preview}");
    assert!(!preview.contains("<li>nano</li>"), "{preview}");
}

#[tokio::test]
async fn form_errors_sit_at_their_fields_with_lines() {
    let dir = tempfile::tempdir().unwrap();
    let app = router(state(dir.path(), Vec::new()));
    // Submits the form with the token, `action=submit` and `extra`.
    let submit = |extra: Vec<(&'static str, Option<&'static str>, Vec<u8>)>| {
        let mut fields = vec![
            ("csrf", None, TOKEN.as_bytes().to_vec()),
            ("action", None, b"submit".to_vec()),
        ];
        fields.extend(extra);
        let fields: Vec<(&str, Option<&str>, &[u8])> = fields
            .iter()
            .map(|(a, b, c)| (*a, *b, c.as_slice()))
            .collect();
        send(app.clone(), form_post("/submit/", &fields))
    };

    // A kickstart with an unterminated section: the line is named.
    let (status, _, body) = submit(vec![
        ("source", None, b"kickstart".to_vec()),
        ("imagetype", None, b"raw".to_vec()),
        ("kickstart", None, b"lang C\n%post\necho hi\n".to_vec()),
    ])
    .await;
    let page = text(&body);
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{page}");
    assert!(page.contains("data-field=\"kickstart\">line 2:"), "{page}");

    // An overlay naming a platform that is not there, and a bad address.
    let (status, _, body) = submit(vec![
        ("source", None, b"template".to_vec()),
        ("platform", None, b"NO-SUCH".to_vec()),
        ("overlay", None, b"gcc".to_vec()),
        ("email", None, b"nobody".to_vec()),
    ])
    .await;
    let page = text(&body);
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("data-field=\"email\""), "{page}");

    let (status, _, body) = submit(vec![
        ("source", None, b"template".to_vec()),
        ("platform", None, b"NO-SUCH".to_vec()),
        ("overlay", None, b"gcc".to_vec()),
    ])
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        text(&body).contains("data-field=\"platform\""),
        "{}",
        text(&body)
    );

    // A non-UTF-8 upload.
    let (status, _, body) = submit(vec![
        ("source", None, b"kickstart".to_vec()),
        ("ksfile", Some("latin1.ks"), b"lang C\n# caf\xe9\n".to_vec()),
    ])
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        text(&body).contains("latin1.ks: not UTF-8 text (invalid byte at offset 12)"),
        "{}",
        text(&body)
    );
}

#[tokio::test]
async fn forms_need_the_token_and_uploads_have_a_limit() {
    let dir = tempfile::tempdir().unwrap();
    let app = router(state(dir.path(), Vec::new()));
    // No token, a wrong token, a foreign origin.
    let (status, _, _) = send(
        app.clone(),
        form_post("/submit/", &[("source", None, b"template")]),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let wrong = "f".repeat(64);
    let (status, _, _) = send(
        app.clone(),
        form_post("/submit/", &[("csrf", None, wrong.as_bytes())]),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let mut foreign = form_post("/submit/", &[("csrf", None, TOKEN.as_bytes())]);
    foreign
        .headers_mut()
        .insert(header::ORIGIN, "http://evil.example".parse().unwrap());
    let (status, _, _) = send(app.clone(), foreign).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, _) = send(
        app.clone(),
        Request::post("/clear/")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from("csrf=nope"))
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // 50 MB: refused with 413 and a message that says why.
    let big = vec![b'#'; 50 * 1024 * 1024];
    let (status, _, body) = send(
        app.clone(),
        form_post(
            "/submit/",
            &[
                ("csrf", None, TOKEN.as_bytes()),
                ("ksfile", Some("huge.ks"), &big),
            ],
        ),
    )
    .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(text(&body).contains("larger than"), "{}", text(&body));
    let (status, _, _) = send(
        app,
        Request::post("/api/v1/preview")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(big))
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn the_json_api_previews_and_refuses_plainly() {
    let dir = tempfile::tempdir().unwrap();
    let app = router(state(dir.path(), Vec::new()));
    let post = |body: &str, json: bool| {
        let mut r = Request::post("/api/v1/preview");
        if json {
            r = r.header(header::CONTENT_TYPE, "application/json");
        }
        r.body(Body::from(body.to_owned())).unwrap()
    };
    let (status, _, body) = send(
        app.clone(),
        post(
            r#"{"platform":"MINIMAL","overlay":"less","imageType":"raw"}"#,
            true,
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{}", text(&body));
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["imageType"], "raw");
    assert!(v["kickstart"].as_str().unwrap().contains("\nless\n"));

    let (status, _, body) = send(app.clone(), post(r#"{"platform":"MINIMAL"}"#, false)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(text(&body).contains("application/json"));
    let (status, _, body) = send(app.clone(), post(r#"{"kickstart": 5}"#, true)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(text(&body).contains("line 1"), "{}", text(&body));
    let (status, _, body) = send(
        app.clone(),
        post(
            r#"{"kickstart":"lang C\n%packages\n","imageType":"raw"}"#,
            true,
        ),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["errors"][0]["field"], "kickstart");
    assert_eq!(v["errors"][0]["line"], 2, "{v}");
}

#[tokio::test]
async fn logs_are_read_from_offsets_and_streamed_to_the_end() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("team/done")).unwrap();
    std::fs::write(dir.path().join("team/done/done.log"), "one\ntwo\r\nthr").unwrap();
    std::fs::create_dir_all(dir.path().join("team/busy")).unwrap();
    std::fs::write(dir.path().join("team/busy/busy.log"), "one\npart").unwrap();
    let app = router(state(
        dir.path(),
        vec![
            job("done", Phase::Succeeded, None),
            job("busy", Phase::Running, None),
        ],
    ));
    let (status, headers, body) = get(app.clone(), "/api/v1/jobs/team/busy/log", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, b"one\n");
    assert_eq!(header_of(&headers, "x-img-log-offset"), Some("4"));
    assert_eq!(header_of(&headers, "x-img-job-finished"), Some("false"));
    let (_, headers, body) = get(app.clone(), "/api/v1/jobs/team/done/log?offset=4", None).await;
    assert_eq!(body, b"two\r\nthr");
    assert_eq!(header_of(&headers, "x-img-log-offset"), Some("12"));
    assert_eq!(header_of(&headers, "x-img-job-finished"), Some("true"));

    // A finished job's stream ends: its events, then `end`.
    let mut req = Request::get("/api/v1/jobs/team/done/log/stream")
        .body(Body::empty())
        .unwrap();
    req.headers_mut()
        .insert("last-event-id", "4".parse().unwrap());
    let (status, headers, body) = send(app.clone(), req).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        header_of(&headers, "content-type"),
        Some("text/event-stream")
    );
    let events = text(&body);
    assert!(
        events.contains("event: log\nid: 12\ndata: two\ndata: thr\n\n"),
        "{events:?}"
    );
    assert!(events.contains("event: end\ndata: Succeeded"), "{events:?}");
    assert!(!events.contains("data: one"), "{events:?}");
}

#[tokio::test]
async fn clear_takes_finished_unpinned_jobs_only() {
    let dir = tempfile::tempdir().unwrap();
    let mut pinned = job("keep", Phase::Succeeded, None);
    pinned.spec.pinned = true;
    let app = router(state(
        dir.path(),
        vec![
            job("old", Phase::Failed, None),
            job("busy", Phase::Running, None),
            pinned,
        ],
    ));
    let (status, _, body) = get(app, "/clear/", None).await;
    assert_eq!(status, StatusCode::OK);
    let page = text(&body);
    let listed = page
        .split("<ul id=\"clearable\">")
        .nth(1)
        .and_then(|s| s.split("</ul>").next())
        .unwrap_or_default();
    assert!(listed.contains("team/old"), "{page}");
    assert!(
        !listed.contains("team/keep") && !listed.contains("team/busy"),
        "{page}"
    );
}

#[tokio::test]
async fn behind_a_proxy_the_user_header_is_required() {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = Settings::local("default");
    settings.auth = AuthMode::Proxy {
        header: "x-forwarded-user".parse().unwrap(),
        admins: BTreeSet::new(),
    };
    let mut theirs = job("theirs", Phase::Running, None);
    theirs.metadata.annotations = Some(
        [(SUBMITTER.to_owned(), "ann".to_owned())]
            .into_iter()
            .collect(),
    );
    let app = router(state_with(dir.path(), vec![theirs], settings));
    let (status, _, _) = get(app.clone(), "/queue/", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let as_user = |uri: &str, user: &str| {
        Request::post(uri)
            .header("x-forwarded-user", user)
            .body(Body::empty())
            .unwrap()
    };
    let (status, _, body) = send(
        app.clone(),
        as_user("/api/v1/jobs/team/theirs/cancel", "bob"),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(text(&body).contains("submitted by ann"), "{}", text(&body));
    let req = Request::get("/queue/?mine=true")
        .header("x-forwarded-user", "bob")
        .body(Body::empty())
        .unwrap();
    let (status, _, body) = send(app, req).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!text(&body).contains("team/theirs"));
}

#[tokio::test]
async fn metrics_and_every_documented_route_answer() {
    let dir = tempfile::tempdir().unwrap();
    let app = router(state(dir.path(), vec![job("a", Phase::Queued, Some(1))]));
    let (_, _, _) = get(app.clone(), "/queue/", None).await;
    let (status, _, body) = get(app.clone(), "/metrics", None).await;
    assert_eq!(status, StatusCode::OK);
    let m = text(&body);
    assert!(
        m.contains(
            "img_web_http_requests_total{route=\"/queue/\",method=\"GET\",status=\"200\"} 1"
        ),
        "{m}"
    );
    assert!(m.contains("img_web_jobs{phase=\"Queued\"} 1"), "{m}");

    let (_, _, body) = get(app.clone(), "/api/openapi.json", None).await;
    let doc: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            let uri = path
                .replace("{ns}", "team")
                .replace("{name}", "a")
                .replace("{file}", "a.raw");
            let req = Request::builder()
                .method(method.to_uppercase().as_str())
                .uri(&uri)
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from("{}"))
                .unwrap();
            if uri.ends_with("/stream") {
                // A running job's stream does not end: the status is enough.
                let resp = tower::ServiceExt::oneshot(app.clone(), req).await.unwrap();
                assert_eq!(resp.status(), StatusCode::OK, "{uri}");
                checked += 1;
                continue;
            }
            let (status, _, body) = send(app.clone(), req).await;
            assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {uri}");
            // axum's own 404 for an unknown route has an empty body; ours say what is missing.
            assert!(
                status != StatusCode::NOT_FOUND || !body.is_empty(),
                "{method} {uri} is not routed"
            );
            checked += 1;
        }
    }
    assert!(checked >= 15, "{checked}");
}
