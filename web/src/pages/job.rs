//! `job/<namespace>/<name>`: status, the stage timeline, downloads with size and sha256, the
//! build log with a live tail (`job.js`, server-sent events), the kickstart, and the cancel,
//! retry and delete buttons for its submitter and admins.

use std::io::{Read as _, Seek as _, SeekFrom};

use askama::Template;
use axum::extract::{Form, Path as UrlPath, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use img_crd::{ImageJob, Phase, Stage, StageOutcome, urls};
use kube::ResourceExt as _;

use super::clear::TokenForm;
use super::{PageError, human_size, render, took};
use crate::app::AppState;
use crate::auth::User;
use crate::csrf::{self, CsrfToken};
use crate::jobs::{self, RETRY_OF};
use crate::logs;
use crate::view::SUBMITTER;

/// How much of the log the page itself shows (the end of it); the rest is a download away.
const LOG_SHOWN: u64 = 256 * 1024;

struct StageRow {
    name: &'static str,
    state: &'static str,
    took: Option<String>,
    message: Option<String>,
}

struct ArtifactRow {
    name: String,
    url: String,
    size: u64,
    size_text: String,
    sha256: String,
}

#[derive(Template)]
#[template(path = "job.html")]
struct JobPage {
    user: String,
    csrf: String,
    id: String,
    namespace: String,
    phase: &'static str,
    finished: bool,
    reason: Option<String>,
    message: Option<String>,
    image_type: String,
    source: String,
    submitter: String,
    queue_position: Option<u32>,
    created: String,
    started: Option<String>,
    completed: Option<String>,
    retry_of: Option<String>,
    pinned: bool,
    may_change: bool,
    stages: Vec<StageRow>,
    artifacts: Vec<ArtifactRow>,
    log_file: String,
    log_text: String,
    log_offset: u64,
    log_skipped: u64,
    kickstart: Option<String>,
}

fn stage_rows(job: &ImageJob, phase: Phase) -> Vec<StageRow> {
    let records = job.status.as_ref().map(|s| &s.stages[..]).unwrap_or(&[]);
    Stage::ALL
        .iter()
        .map(|stage| {
            let record = records.iter().find(|r| r.name == *stage);
            let state = match record.and_then(|r| r.outcome) {
                Some(StageOutcome::Succeeded) => "succeeded",
                Some(StageOutcome::Failed) => "failed",
                Some(StageOutcome::Skipped) => "skipped",
                None if record.is_some_and(|r| r.started_at.is_some())
                    && phase == Phase::Running =>
                {
                    "running"
                }
                None if phase.is_finished() => "not-run",
                None => "waiting",
            };
            let took = record.and_then(|r| {
                let (a, b) = (r.started_at.as_ref()?, r.finished_at.as_ref()?);
                Some(took(b.0.as_second() - a.0.as_second()))
            });
            StageRow {
                name: stage.as_str(),
                state,
                took,
                message: record.and_then(|r| r.message.clone()),
            }
        })
        .collect()
}

/// The end of the log: its text from a line start at most [`LOG_SHOWN`] bytes before its end,
/// whole lines only while the job runs; with the offset it stops at and the bytes skipped.
fn log_tail(path: &std::path::Path, finished: bool) -> (String, u64, u64) {
    let Ok(mut file) = std::fs::File::open(path) else {
        return (String::new(), 0, 0);
    };
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let mut start = size.saturating_sub(LOG_SHOWN);
    let mut bytes = Vec::new();
    if file.seek(SeekFrom::Start(start)).is_err()
        || file.take(LOG_SHOWN).read_to_end(&mut bytes).is_err()
    {
        return (String::new(), 0, 0);
    }
    if start > 0 {
        // Begin at a line start.
        let cut = bytes.iter().position(|&b| b == b'\n').map_or(0, |i| i + 1);
        bytes.drain(..cut);
        start += cut as u64;
    }
    if !finished {
        let keep = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        bytes.truncate(keep);
    }
    let end = start + bytes.len() as u64;
    (logs::as_text(&bytes), end, start)
}

/// `GET /job/{ns}/{name}`.
pub async fn show(
    State(state): State<AppState>,
    user: User,
    token: CsrfToken,
    UrlPath((ns, name)): UrlPath<(String, String)>,
) -> Result<Response, PageError> {
    let job = jobs::find(&state, &ns, &name)?;
    let status = job.status.clone().unwrap_or_default();
    let phase = status.phase.unwrap_or(Phase::Pending);
    let finished = phase.is_finished();
    let (log_text, log_offset, log_skipped) = log_tail(&logs::path(&state.images, &job), finished);
    let id = format!("{ns}/{name}");
    let time = |t: &Option<k8s_openapi::apimachinery::pkg::apis::meta::v1::Time>| {
        t.as_ref()
            .map(|t| t.0.strftime("%Y-%m-%d %H:%M:%S UTC").to_string())
    };
    let source = match &job.spec.source.template {
        Some(t) => match t.overlay.as_deref() {
            Some(o) => format!("platform {} with overlay {o}", t.platform),
            None => format!("platform {}", t.platform),
        },
        None if job.spec.source.kickstart.is_some() => "a kickstart".to_owned(),
        None => "a kickstart from a ConfigMap or Secret".to_owned(),
    };
    let page = JobPage {
        csrf: token.value.clone(),
        may_change: user.may_change(&job),
        user: user.name,
        namespace: ns.clone(),
        phase: phase.as_str(),
        finished,
        reason: status.reason.clone().filter(|_| finished),
        message: status.message.clone().filter(|_| finished),
        image_type: status
            .image_type
            .or(job.spec.image_type)
            .map_or("as the kickstart says", |t| t.as_str())
            .to_owned(),
        source,
        submitter: job
            .annotations()
            .get(SUBMITTER)
            .cloned()
            .unwrap_or_else(|| "(not recorded)".to_owned()),
        queue_position: status.queue_position,
        created: time(&job.metadata.creation_timestamp).unwrap_or_default(),
        started: time(&status.start_time),
        completed: time(&status.completion_time),
        retry_of: job.annotations().get(RETRY_OF).cloned(),
        pinned: job.spec.pinned,
        stages: stage_rows(&job, phase),
        artifacts: status
            .artifacts
            .iter()
            .map(|a| ArtifactRow {
                url: format!("/images/{id}/{}", a.name),
                name: a.name.clone(),
                size: a.size,
                size_text: human_size(a.size),
                sha256: a.sha256.clone(),
            })
            .collect(),
        log_file: urls::log_file(&name),
        log_text,
        log_offset,
        log_skipped,
        kickstart: status
            .kickstart
            .as_ref()
            .and_then(|k| k.text.clone())
            .or_else(|| job.spec.source.kickstart.clone()),
        id,
    };
    Ok((token, render(&page)).into_response())
}

/// What a job button does.
#[derive(Debug, Clone, Copy)]
pub enum Action {
    /// Cancel it.
    Cancel,
    /// Submit it again.
    Retry,
    /// Delete it and its files.
    Delete,
}

async fn act(
    state: AppState,
    user: User,
    headers: HeaderMap,
    ns: String,
    name: String,
    form: TokenForm,
    action: Action,
) -> Result<Redirect, PageError> {
    csrf::verify(&headers, form.csrf.as_deref())?;
    Ok(match action {
        Action::Cancel => {
            jobs::cancel(&state, &user, &ns, &name).await?;
            Redirect::to(&format!("/job/{ns}/{name}"))
        }
        Action::Retry => {
            let new = jobs::retry(&state, &user, &ns, &name).await?;
            Redirect::to(&format!("/job/{ns}/{}", new.name_any()))
        }
        Action::Delete => {
            jobs::delete(&state, &user, &ns, &name).await?;
            Redirect::to("/queue/")
        }
    })
}

macro_rules! button {
    ($fn:ident, $action:expr) => {
        /// A job button's POST.
        pub async fn $fn(
            State(state): State<AppState>,
            user: User,
            headers: HeaderMap,
            UrlPath((ns, name)): UrlPath<(String, String)>,
            Form(form): Form<TokenForm>,
        ) -> Result<Redirect, PageError> {
            act(state, user, headers, ns, name, form, $action).await
        }
    };
}

button!(cancel, Action::Cancel);
button!(retry, Action::Retry);
button!(delete, Action::Delete);
