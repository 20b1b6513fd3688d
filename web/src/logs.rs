//! Build logs: read from the job's directory on the images volume while the runner writes
//! them. `GET /api/v1/jobs/{ns}/{name}/log?offset=N` returns the bytes from `N` (for `imgctl
//! logs -f`); `…/log/stream` is a server-sent event stream whose event ids are byte offsets,
//! so a reconnecting browser (`Last-Event-ID`) or a reloaded page (`?offset=`) goes on where
//! it was, with no line shown twice.

use std::convert::Infallible;
use std::io::{Read as _, Seek as _, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::Duration;

use axum::extract::{Path as UrlPath, Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::Stream;
use img_crd::{ImageJob, urls};
use serde::Deserialize;

use crate::app::AppState;
use crate::error::ApiError;
use crate::jobs::find;

/// The most a single read or event carries.
pub const CHUNK: usize = 64 * 1024;
/// How often a stream looks for new lines.
const POLL: Duration = Duration::from_millis(400);

/// Header: the offset just past the bytes returned (ask from there next time).
pub const OFFSET_HEADER: &str = "x-img-log-offset";
/// Header: `true` once the job has ended (no more lines will come).
pub const FINISHED_HEADER: &str = "x-img-job-finished";

/// The log file of `job` below `images`.
pub fn path(images: &Path, job: &ImageJob) -> PathBuf {
    let ns = job.metadata.namespace.as_deref().unwrap_or_default();
    let name = job.metadata.name.as_deref().unwrap_or_default();
    // The names were checked by `find`; the file name is ours, not the status's.
    images.join(ns).join(name).join(urls::log_file(name))
}

/// Bytes of `path` from `offset`: at most [`CHUNK`], and only whole lines unless `all`
/// (a job that has ended has no more of its last line to come). A log not written yet reads
/// as empty.
pub fn read_from(path: &Path, offset: u64, all: bool) -> std::io::Result<Vec<u8>> {
    let mut file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    file.seek(SeekFrom::Start(offset))?;
    let mut buf = Vec::new();
    file.take(CHUNK as u64).read_to_end(&mut buf)?;
    if !all && buf.len() < CHUNK {
        match buf.iter().rposition(|&b| b == b'\n') {
            Some(end) => buf.truncate(end + 1),
            None => buf.clear(),
        }
    }
    Ok(buf)
}

/// Log bytes as event text: invalid UTF-8 replaced, and carriage returns (progress bars)
/// made line ends, as SSE data may not carry them.
pub fn as_text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .replace("\r\n", "\n")
        .replace('\r', "\n")
}

/// Where to start reading.
#[derive(Debug, Default, Deserialize)]
pub struct OffsetQuery {
    /// Byte offset (default 0).
    pub offset: Option<u64>,
}

fn finished(job: &ImageJob) -> bool {
    job.status
        .as_ref()
        .and_then(|s| s.phase)
        .is_some_and(|p| p.is_finished())
}

/// `GET /api/v1/jobs/{ns}/{name}/log`.
pub async fn get_log(
    State(state): State<AppState>,
    UrlPath((ns, name)): UrlPath<(String, String)>,
    Query(q): Query<OffsetQuery>,
) -> Result<Response, ApiError> {
    let job = find(&state, &ns, &name)?;
    let done = finished(&job);
    let offset = q.offset.unwrap_or(0);
    let bytes = read_from(&path(&state.images, &job), offset, done)
        .map_err(|e| ApiError::Upstream(format!("reading the log: {e}")))?;
    let end = offset + bytes.len() as u64;
    // Finished means: ended, and nothing left past what this answer carries.
    let drained = done && bytes.len() < CHUNK;
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    headers.insert(OFFSET_HEADER, HeaderValue::from(end));
    headers.insert(
        FINISHED_HEADER,
        HeaderValue::from_static(if drained { "true" } else { "false" }),
    );
    Ok(response)
}

/// `GET /api/v1/jobs/{ns}/{name}/log/stream`: events `log` (id = offset after its text) and a
/// last `end` (data = the final phase).
pub async fn stream_log(
    State(state): State<AppState>,
    UrlPath((ns, name)): UrlPath<(String, String)>,
    Query(q): Query<OffsetQuery>,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let job = find(&state, &ns, &name)?;
    let resumed = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let start = resumed.or(q.offset).unwrap_or(0);
    let file = path(&state.images, &job);
    let stopping = state.stopping.subscribe();
    let stream = futures::stream::unfold((start, false), move |(offset, ended)| {
        let state = state.clone();
        let file = file.clone();
        let (ns, name) = (ns.clone(), name.clone());
        let mut stopping = stopping.clone();
        async move {
            if ended {
                return None;
            }
            loop {
                let job = find(&state, &ns, &name).ok();
                let done = job.as_deref().is_none_or(finished);
                let bytes = read_from(&file, offset, done).unwrap_or_default();
                if !bytes.is_empty() {
                    let next = offset + bytes.len() as u64;
                    let event = Event::default()
                        .event("log")
                        .id(next.to_string())
                        .data(as_text(&bytes));
                    return Some((Ok(event), (next, false)));
                }
                if done {
                    let phase = job
                        .and_then(|j| j.status.as_ref().and_then(|s| s.phase))
                        .map_or("Deleted", |p| p.as_str());
                    let event = Event::default().event("end").data(phase);
                    return Some((Ok(event), (offset, true)));
                }
                if *stopping.borrow() {
                    return None;
                }
                tokio::select! {
                    () = tokio::time::sleep(POLL) => {}
                    _ = stopping.changed() => return None,
                }
            }
        }
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_whole_lines_until_the_end() {
        let dir = tempfile::tempdir().expect("tempdir");
        let f = dir.path().join("j.log");
        assert!(read_from(&f, 0, false).expect("absent").is_empty());
        std::fs::write(&f, "one\ntwo\nthr").expect("write");
        assert_eq!(read_from(&f, 0, false).expect("read"), b"one\ntwo\n");
        assert_eq!(read_from(&f, 4, false).expect("read"), b"two\n");
        assert!(read_from(&f, 8, false).expect("read").is_empty());
        assert_eq!(read_from(&f, 8, true).expect("read"), b"thr");
        assert!(read_from(&f, 100, true).expect("past the end").is_empty());
    }

    #[test]
    fn text_is_safe_for_events() {
        assert_eq!(as_text(b"50%\r100%\r\nok\xff\n"), "50%\n100%\nok\u{fffd}\n");
    }
}
