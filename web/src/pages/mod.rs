//! The HTML pages, with the 2010 names: `submit/`, `queue/`, `job/<id>`, `clear/` (and
//! `images/<id>/<file>` in [`crate::files`]). Templates are askama's, compiled in and
//! HTML-escaped by default, so no log line, package name or kickstart can inject markup.

pub mod clear;
pub mod job;
pub mod queue;
pub mod submit;

use askama::Template;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};

use crate::error::ApiError;

/// The error page.
#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    user: &'a str,
    status: String,
    message: String,
}

/// An error shown as a page.
#[derive(Debug)]
pub struct PageError(pub ApiError);

impl From<ApiError> for PageError {
    fn from(e: ApiError) -> PageError {
        PageError(e)
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let status = self.0.status();
        let page = ErrorPage {
            user: "",
            status: status.to_string(),
            message: self.0.to_string(),
        };
        (status, render(&page)).into_response()
    }
}

/// A template rendered into a response (a template bug is a 500, never a panic).
pub fn render(t: &impl Template) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "the page could not be rendered",
            )
                .into_response()
        }
    }
}

/// `GET /`: the queue.
pub async fn index() -> Redirect {
    Redirect::to("/queue/")
}

macro_rules! static_file {
    ($name:ident, $file:literal, $type:literal) => {
        /// A static file, compiled in.
        pub async fn $name() -> Response {
            (
                [
                    (header::CONTENT_TYPE, $type),
                    (header::CACHE_CONTROL, "max-age=300"),
                ],
                include_str!(concat!("../../static/", $file)),
            )
                .into_response()
        }
    };
}

static_file!(css, "img.css", "text/css; charset=utf-8");
static_file!(job_js, "job.js", "text/javascript; charset=utf-8");
static_file!(queue_js, "queue.js", "text/javascript; charset=utf-8");

/// A byte count for people: `1.4 GiB`.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// How long ago `rfc3339` was, briefly: `40s`, `12m`, `3h`, `5d`.
pub fn age(rfc3339: Option<&str>, now: jiff::Timestamp) -> String {
    let Some(then) = rfc3339.and_then(|t| t.parse::<jiff::Timestamp>().ok()) else {
        return String::new();
    };
    let s = now.as_second().saturating_sub(then.as_second()).max(0);
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m", s / 60),
        3600..86400 => format!("{}h", s / 3600),
        _ => format!("{}d", s / 86400),
    }
}

/// A duration for people: `7s`, `3m 12s`, `1h 5m`.
pub fn took(seconds: i64) -> String {
    match seconds.max(0) {
        s @ 0..60 => format!("{s}s"),
        s @ 60..3600 => format!("{}m {}s", s / 60, s % 60),
        s => format!("{}h {}m", s / 3600, s % 3600 / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_ages_read_well() {
        assert_eq!(human_size(512), "512 B");
        assert_eq!(human_size(3 * 1024 * 1024 / 2), "1.5 MiB");
        let now: jiff::Timestamp = "2026-11-25T12:00:00Z".parse().expect("ts");
        assert_eq!(age(Some("2026-11-25T11:59:20Z"), now), "40s");
        assert_eq!(age(Some("2026-11-25T09:00:00Z"), now), "3h");
        assert_eq!(age(Some("2026-11-20T12:00:00Z"), now), "5d");
        assert_eq!(age(None, now), "");
        assert_eq!(took(192), "3m 12s");
    }
}
