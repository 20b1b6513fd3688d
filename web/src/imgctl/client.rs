//! The HTTP side of `imgctl`: one `reqwest` client (rustls on ring) for the frontend at
//! `--server`, the user header, timeouts, and the mapping of every way a request can go
//! wrong to a [`Failure`] with its exit code. Answers are kept as the server's JSON (printed
//! as they are with `--output json`) and read through tolerant mirrors of the API's types
//! (unknown fields and new phases or stages do not break an older client).

use std::time::Duration;

use reqwest::header::{HeaderValue, RANGE};
use reqwest::{Method, RequestBuilder, Response};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::imgctl::exit::{Exit, Failure, FieldProblem};
use crate::imgctl::id::JobId;

/// How long connecting to the server may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long an API request may take, answer included (the server gives up after 30 s).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(45);
/// How long a download may go without receiving a byte.
pub const READ_TIMEOUT: Duration = Duration::from_secs(60);
/// The header that names the user to a frontend in authenticating-proxy mode.
pub const USER_HEADER: &str = "x-forwarded-user";

/// A client of one IMG frontend.
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    base: String,
    user: Option<HeaderValue>,
}

/// One read of a job's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogChunk {
    /// The bytes from the asked offset.
    pub bytes: Vec<u8>,
    /// The offset to ask from next.
    pub next: u64,
    /// The job has ended and the log is read to its end.
    pub finished: bool,
}

impl Client {
    /// A client of the frontend at `server` (`http://host:port`, or with a path prefix behind
    /// a reverse proxy), sending `user` as [`USER_HEADER`] when given.
    pub fn new(server: &str, user: Option<&str>) -> Result<Client, Failure> {
        let url = reqwest::Url::parse(server)
            .map_err(|e| Failure::usage(format!("--server {server:?} is not a URL: {e}")))?;
        if !matches!(url.scheme(), "http" | "https")
            || url.host_str().is_none()
            || url.query().is_some()
            || url.fragment().is_some()
            || !url.username().is_empty()
        {
            return Err(Failure::usage(format!(
                "--server {server:?} is not an http(s)://host[:port][/prefix] URL"
            )));
        }
        let base = url.as_str().trim_end_matches('/').to_owned();
        let user = match user {
            None => None,
            Some(u)
                if !u.is_empty() && u.len() <= 253 && u.chars().all(|c| c.is_ascii_graphic()) =>
            {
                Some(HeaderValue::from_str(u).map_err(|e| {
                    Failure::usage(format!("--user {u:?} cannot be sent as a header: {e}"))
                })?)
            }
            Some(u) => {
                return Err(Failure::usage(format!(
                    "--user {u:?} is not a user name (printable ASCII without spaces)"
                )));
            }
        };
        let http = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .read_timeout(READ_TIMEOUT)
            .user_agent(concat!("imgctl/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| {
                Failure::server(format!("cannot set up the HTTP client: {}", chain(&e)))
            })?;
        Ok(Client { http, base, user })
    }

    /// The server's base URL, without a trailing slash.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The absolute URL of `path` (which starts with `/`) on the server.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn request(&self, method: Method, path: &str) -> RequestBuilder {
        let mut request = self.http.request(method, self.url(path));
        if let Some(user) = &self.user {
            request = request.header(USER_HEADER, user.clone());
        }
        request
    }

    /// Sends `request`; a non-2xx answer becomes a [`Failure`].
    async fn send(&self, request: RequestBuilder) -> Result<Response, Failure> {
        let response = request.send().await.map_err(|e| self.network(&e))?;
        if response.status().is_success() {
            Ok(response)
        } else {
            Err(failure_of(response).await)
        }
    }

    /// JSON from a `send`.
    async fn json(&self, request: RequestBuilder) -> Result<serde_json::Value, Failure> {
        let response = self.send(request.timeout(REQUEST_TIMEOUT)).await?;
        let url = response.url().to_string();
        let bytes = response.bytes().await.map_err(|e| self.network(&e))?;
        serde_json::from_slice(&bytes)
            .map_err(|e| Failure::server(format!("{url} did not answer with JSON: {e}")))
    }

    /// `GET path?query` as JSON.
    pub async fn get_json(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<serde_json::Value, Failure> {
        self.json(self.request(Method::GET, path).query(query))
            .await
    }

    /// `POST path` with `body` as JSON (or no body), answered with JSON.
    pub async fn post_json(
        &self,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<serde_json::Value, Failure> {
        let mut request = self.request(Method::POST, path);
        if let Some(body) = body {
            request = request.json(body);
        }
        self.json(request).await
    }

    /// `method path` whose answer carries nothing (cancel, delete: 202).
    pub async fn call(&self, method: Method, path: &str) -> Result<(), Failure> {
        self.send(self.request(method, path).timeout(REQUEST_TIMEOUT))
            .await
            .map(drop)
    }

    /// A job's detail: the server's JSON and its reading.
    pub async fn job(&self, id: &JobId) -> Result<(serde_json::Value, JobDetail), Failure> {
        let value = self.get_json(&id.api_path(), &[]).await?;
        let detail = read(&value, "a job")?;
        Ok((value, detail))
    }

    /// The log of `id` from `offset`.
    pub async fn log(&self, id: &JobId, offset: u64) -> Result<LogChunk, Failure> {
        let path = format!("{}/log", id.api_path());
        let request = self
            .request(Method::GET, &path)
            .query(&[("offset", offset)])
            .timeout(REQUEST_TIMEOUT);
        let response = self.send(request).await?;
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let next = header(crate::logs::OFFSET_HEADER);
        let finished = header(crate::logs::FINISHED_HEADER).as_deref() == Some("true");
        let bytes = response
            .bytes()
            .await
            .map_err(|e| self.network(&e))?
            .to_vec();
        let next = match next {
            Some(n) => n.parse::<u64>().map_err(|_| {
                Failure::server(format!("the log's next offset {n:?} is not a number"))
            })?,
            None => offset + bytes.len() as u64,
        };
        Ok(LogChunk {
            bytes,
            next,
            finished,
        })
    }

    /// Starts downloading `file` of `id` from byte `from` (a Range request when not 0). The
    /// answer is returned whatever its status (the caller handles 206, 200 and 416); only
    /// the connection and the answer's head are timed, not the body.
    pub async fn download(&self, id: &JobId, file: &str, from: u64) -> Result<Response, Failure> {
        let path = format!("/images/{}/{}/{file}", id.namespace, id.name);
        let mut request = self.request(Method::GET, &path);
        if from > 0 {
            request = request.header(RANGE, format!("bytes={from}-"));
        }
        let response = tokio::time::timeout(REQUEST_TIMEOUT, request.send())
            .await
            .map_err(|_| {
                Failure::server(format!(
                    "no answer from {} within {} s",
                    self.url(&path),
                    REQUEST_TIMEOUT.as_secs()
                ))
            })?
            .map_err(|e| self.network(&e))?;
        Ok(response)
    }

    /// A failure for a request that got no (whole) answer.
    pub fn network(&self, e: &reqwest::Error) -> Failure {
        let what = if e.is_connect() {
            format!("cannot connect to {}: {}", self.base, root_cause(e))
        } else if e.is_timeout() {
            format!(
                "{}: no answer in time ({})",
                e.url().map_or(self.base.as_str(), |u| u.as_str()),
                chain(e)
            )
        } else {
            chain(e)
        };
        Failure::server(what)
    }
}

/// `e` with its sources: `a: b: c`.
pub fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let s_text = s.to_string();
        if !text.contains(&s_text) {
            text.push_str(": ");
            text.push_str(&s_text);
        }
        source = s.source();
    }
    text
}

/// The innermost source of `e` (`Connection refused (os error 111)`).
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut last: &(dyn std::error::Error + 'static) = e;
    while let Some(s) = last.source() {
        last = s;
    }
    last.to_string()
}

/// The error body of the API: `{"error", "errors"}`.
#[derive(Debug, Deserialize)]
struct ErrorBody {
    error: String,
    #[serde(default)]
    errors: Vec<FieldProblem>,
}

/// The failure a non-2xx answer stands for: its status decides the exit code; the API's
/// JSON error (or the text the download route sends) the message.
pub async fn failure_of(response: Response) -> Failure {
    let status = response.status();
    let url = response.url().clone();
    let exit = Exit::from_status(status.as_u16());
    let body = tokio::time::timeout(REQUEST_TIMEOUT, response.bytes())
        .await
        .ok()
        .and_then(Result::ok)
        .unwrap_or_default();
    if let Ok(ErrorBody { error, errors }) = serde_json::from_slice::<ErrorBody>(&body) {
        return Failure {
            exit,
            error,
            errors,
        };
    }
    let text = String::from_utf8_lossy(&body);
    let text: String = text.trim().chars().take(500).collect();
    let error = if text.is_empty() {
        format!("{url}: {status}")
    } else {
        format!("{url}: {status}: {text}")
    };
    Failure::new(exit, error)
}

/// `value` read as a `T` (`what` names it in the failure).
pub fn read<T: DeserializeOwned>(value: &serde_json::Value, what: &str) -> Result<T, Failure> {
    T::deserialize(value)
        .map_err(|e| Failure::server(format!("the server's answer is not {what}: {e}")))
}

pub use crate::list::Page as JobPage;
pub use crate::view::JobSummary;

/// What `imgctl` reads of a job (the API's `JobDetail`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobDetail {
    /// The summary.
    pub summary: JobSummary,
    /// The status, once the operator has written one.
    #[serde(default)]
    pub status: Option<JobStatus>,
    /// Links to its page, log and files.
    pub links: JobLinks,
}

/// What `imgctl` reads of an ImageJob status.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobStatus {
    /// A CamelCase word saying why it failed or was cancelled.
    #[serde(default)]
    pub reason: Option<String>,
    /// The explanation.
    #[serde(default)]
    pub message: Option<String>,
    /// The build's stages.
    #[serde(default)]
    pub stages: Vec<StageView>,
}

/// One stage of a build.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StageView {
    /// `clone`, `boot`, `kickstarter`, `build`, `collect`, `cleanup`.
    pub name: String,
    /// When it started.
    #[serde(default)]
    pub started_at: Option<String>,
    /// When it ended.
    #[serde(default)]
    pub finished_at: Option<String>,
    /// `Succeeded`, `Failed`, `Skipped`; absent while it runs.
    #[serde(default)]
    pub outcome: Option<String>,
    /// A note.
    #[serde(default)]
    pub message: Option<String>,
}

/// A job's links.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobLinks {
    /// The job page.
    #[serde(default)]
    pub page: String,
    /// The files to download.
    #[serde(default)]
    pub artifacts: Vec<ArtifactView>,
}

/// One file a build produced.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct ArtifactView {
    /// File name.
    pub name: String,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256, hex.
    pub sha256: String,
    /// Download URL (relative when the frontend has no public URL).
    #[serde(default)]
    pub url: String,
}

/// What `imgctl` reads of a preview (the API's `Prepared`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Preview {
    /// The kickstart it would build.
    pub kickstart: String,
    /// Warnings.
    #[serde(default)]
    pub warnings: Vec<String>,
}

/// The platforms and image types (the API's `Choices`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Choices {
    /// Where the template comes from.
    pub template: String,
    /// Its platforms.
    pub platforms: Vec<String>,
    /// The image types.
    pub image_types: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_urls_are_checked() {
        let c = Client::new("http://127.0.0.1:8080/", None).expect("plain");
        assert_eq!(c.url("/api/v1/jobs"), "http://127.0.0.1:8080/api/v1/jobs");
        let c = Client::new("https://img.example.org/img/", Some("ann")).expect("prefix");
        assert_eq!(c.url("/healthz"), "https://img.example.org/img/healthz");
        for bad in [
            "127.0.0.1:8080",
            "ftp://x",
            "http://x/?q=1",
            "http://x/#f",
            "http://u:p@x/",
            "",
        ] {
            assert_eq!(
                Client::new(bad, None).expect_err(bad).exit,
                Exit::Usage,
                "{bad}"
            );
        }
        for bad in ["", "a b", "ann\r\nX-Admin: 1", "é"] {
            let e = Client::new("http://x", Some(bad)).expect_err(bad);
            assert_eq!(e.exit, Exit::Usage, "{bad:?}");
        }
    }

    #[test]
    fn details_read_tolerantly() {
        let value = serde_json::json!({
            "summary": {"namespace": "default", "name": "j", "phase": "Failed", "stagesDone": 1,
                        "finished": true, "pinned": false, "somethingNew": 1},
            "spec": {},
            "status": {"phase": "Failed", "reason": "BuildFailed", "message": "no package",
                       "stages": [{"name": "teleport", "outcome": "Failed"}]},
            "links": {"page": "/job/default/j", "log": "", "logStream": "", "artifacts": []}
        });
        let d: JobDetail = read(&value, "a job").expect("reads");
        assert_eq!(d.summary.id(), "default/j");
        let status = d.status.expect("status");
        assert_eq!(status.reason.as_deref(), Some("BuildFailed"));
        assert_eq!(status.stages[0].name, "teleport");
        let e = read::<JobDetail>(&serde_json::json!({"x": 1}), "a job").expect_err("junk");
        assert_eq!(e.exit, Exit::Server);
    }
}
