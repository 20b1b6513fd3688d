//! `queue/`: running, queued and finished jobs with their phase, place in the queue, type,
//! submitter, age and progress; filters (mine, phase, type) and pages. `queue.js` refreshes
//! the table every few seconds.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use img_crd::ImageType;

use super::{age, render};
use crate::api::list_for;
use crate::app::AppState;
use crate::auth::User;
use crate::list::ListQuery;
use crate::view::JobSummary;

/// The phases a filter offers.
const PHASES: [&str; 6] = [
    "Running",
    "Queued",
    "Pending",
    "Succeeded",
    "Failed",
    "Cancelled",
];

/// A row of the table.
struct Row {
    job: JobSummary,
    age: String,
}

impl std::ops::Deref for Row {
    type Target = JobSummary;
    fn deref(&self) -> &JobSummary {
        &self.job
    }
}

#[derive(Template)]
#[template(path = "queue.html")]
struct QueuePage {
    user: String,
    rows: Vec<Row>,
    phases: [&'static str; 6],
    image_types: Vec<&'static str>,
    filter_phase: String,
    filter_type: String,
    mine: bool,
    page: usize,
    pages: usize,
    total: usize,
    prev: Option<String>,
    next: Option<String>,
}

/// The queue URL of `q` at `page`.
fn url(q: &ListQuery, page: usize) -> String {
    let mut parts = vec![format!("page={page}")];
    for (k, v) in [("phase", &q.phase), ("type", &q.image_type)] {
        if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
            let encoded: String = v
                .bytes()
                .map(|b| {
                    if b.is_ascii_alphanumeric() || b == b'-' {
                        (b as char).to_string()
                    } else {
                        format!("%{b:02X}")
                    }
                })
                .collect();
            parts.push(format!("{k}={encoded}"));
        }
    }
    if q.mine == Some(true) {
        parts.push("mine=true".into());
    }
    if let Some(n) = q.per_page {
        parts.push(format!("perPage={n}"));
    }
    format!("/queue/?{}", parts.join("&"))
}

/// `GET /queue/`.
pub async fn show(
    State(state): State<AppState>,
    user: User,
    Query(mut q): Query<ListQuery>,
) -> Response {
    // An empty select means "any".
    q.phase = q.phase.filter(|p| !p.is_empty());
    q.image_type = q.image_type.filter(|t| !t.is_empty());
    let listed = list_for(&state, &user, &q);
    let now = jiff::Timestamp::now();
    let pages = listed.total.div_ceil(listed.per_page).max(1);
    let page = QueuePage {
        user: user.name,
        rows: listed
            .items
            .into_iter()
            .map(|job| Row {
                age: age(job.created.as_deref(), now),
                job,
            })
            .collect(),
        phases: PHASES,
        image_types: ImageType::ALL.iter().map(|t| t.as_str()).collect(),
        filter_phase: q.phase.clone().unwrap_or_default(),
        filter_type: q.image_type.clone().unwrap_or_default(),
        mine: q.mine == Some(true),
        page: listed.page,
        pages,
        total: listed.total,
        prev: (listed.page > 1).then(|| url(&q, listed.page - 1)),
        next: (listed.page < pages).then(|| url(&q, listed.page + 1)),
    };
    render(&page).into_response()
}
