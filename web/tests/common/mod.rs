//! What the handler tests share: jobs made by hand, a state over them with no API server,
//! and requests answered with `oneshot`.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used)]

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt as _;
use img_crd::{ImageJob, ImageJobSpec, ImageJobStatus, Phase, Source};
use img_web::app::AppState;
use img_web::settings::Settings;
use kube::runtime::reflector;
use kube::runtime::watcher::Event;
use tower::ServiceExt as _;

pub fn job(name: &str, phase: Phase, position: Option<u32>) -> ImageJob {
    let mut j = ImageJob::new(
        name,
        ImageJobSpec {
            source: Source {
                kickstart: Some("lang C\n".into()),
                ..Default::default()
            },
            ..Default::default()
        },
    );
    j.metadata.namespace = Some("team".into());
    j.metadata.uid = Some(format!("uid-{name}"));
    j.status = Some(ImageJobStatus {
        phase: Some(phase),
        queue_position: position,
        ..Default::default()
    });
    j
}

pub fn state(images: &std::path::Path, jobs: Vec<ImageJob>) -> AppState {
    state_with(images, jobs, Settings::local("default"))
}

/// A state over `jobs` with `settings`.
pub fn state_with(images: &std::path::Path, jobs: Vec<ImageJob>, settings: Settings) -> AppState {
    let (reader, mut writer) = reflector::store();
    for j in jobs {
        writer.apply_watcher_event(&Event::Apply(j));
    }
    // No API server: these handlers only read the store.
    let config = kube::Config::new("http://127.0.0.1:9".parse().unwrap());
    AppState::new(
        images.to_owned(),
        reader,
        kube::Client::try_from(config).unwrap(),
        settings,
    )
}

pub async fn get(
    app: axum::Router,
    uri: &str,
    range: Option<&str>,
) -> (StatusCode, Vec<(String, String)>, Vec<u8>) {
    let mut req = Request::get(uri);
    if let Some(r) = range {
        req = req.header(header::RANGE, r);
    }
    send(app, req.body(Body::empty()).unwrap()).await
}

pub fn header_of<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// Answers `req`: status, headers, body.
pub async fn send(
    app: axum::Router,
    req: Request<Body>,
) -> (StatusCode, Vec<(String, String)>, Vec<u8>) {
    let resp = app.oneshot(req).await.unwrap();
    let status = resp.status();
    let headers = resp
        .headers()
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or_default().to_owned()))
        .collect();
    let body = resp
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec();
    (status, headers, body)
}

/// The CSRF token every form test uses (as cookie and field).
pub const TOKEN: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

/// A multipart body of `fields` (name, file name, bytes), with its boundary.
pub fn multipart(fields: &[(&str, Option<&str>, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "XyZzY-boundary-1234".to_owned();
    let mut body = Vec::new();
    for (name, file, value) in fields {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        match file {
            Some(f) => body.extend_from_slice(
                format!(
                    "Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\nContent-Type: text/plain\r\n\r\n"
                )
                .as_bytes(),
            ),
            None => body.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
            ),
        }
        body.extend_from_slice(value);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (boundary, body)
}

/// A form post of `fields` to `uri` with the test token's cookie.
pub fn form_post(uri: &str, fields: &[(&str, Option<&str>, &[u8])]) -> Request<Body> {
    let (boundary, body) = multipart(fields);
    Request::post(uri)
        .header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={boundary}"),
        )
        .header(header::COOKIE, format!("img_csrf={TOKEN}"))
        .header(header::HOST, "img.test")
        .body(Body::from(body))
        .unwrap()
}
