//! How `imgctl` shows answers as text: the job table of `list` and the report of `status`.
//! Everything the server sent is cleaned of control characters first.

use crate::imgctl::client::{JobDetail, JobSummary};
use crate::imgctl::exit::clean;

/// `text` padded to `width` characters.
fn pad(text: &str, width: usize) -> String {
    let len = text.chars().count();
    format!("{text}{}", " ".repeat(width.saturating_sub(len)))
}

/// The job table: ID, PHASE, QUEUE, TYPE, SUBMITTER, CREATED, columns as wide as their
/// widest cell.
pub fn table(jobs: &[JobSummary]) -> String {
    let dash = || "-".to_owned();
    let mut rows =
        vec![["ID", "PHASE", "QUEUE", "TYPE", "SUBMITTER", "CREATED"].map(str::to_owned)];
    for j in jobs {
        rows.push([
            clean(&j.id()),
            clean(&j.phase),
            j.queue_position.map_or_else(dash, |p| p.to_string()),
            j.image_type.as_deref().map_or_else(dash, clean),
            j.submitter.as_deref().map_or_else(dash, clean),
            j.created.as_deref().map_or_else(dash, clean),
        ]);
    }
    let mut widths = [0usize; 6];
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in &rows {
        let mut line = String::new();
        for (i, (cell, w)) in row.iter().zip(widths).enumerate() {
            if i + 1 == row.len() {
                line.push_str(cell);
            } else {
                line.push_str(&pad(cell, w + 2));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// The phase with the reason when there is one: `Failed (BuildFailed)`.
pub fn phase_line(detail: &JobDetail) -> String {
    let phase = clean(&detail.summary.phase);
    match detail.status.as_ref().and_then(|s| s.reason.as_deref()) {
        Some(reason) => format!("{phase} ({})", clean(reason)),
        None => phase,
    }
}

/// The one line `wait` prints at the end: `default/nb: Failed (BuildFailed): message`.
pub fn outcome_line(detail: &JobDetail) -> String {
    let mut line = format!("{}: {}", clean(&detail.summary.id()), phase_line(detail));
    if let Some(message) = detail.status.as_ref().and_then(|s| s.message.as_deref()) {
        line.push_str(": ");
        line.push_str(&clean(message));
    }
    line
}

/// The `status` report: phase, reason and message, stages, artifacts with their URLs
/// (resolved against `base` when relative).
pub fn status(detail: &JobDetail, base: &str) -> String {
    let s = &detail.summary;
    let absolute = |url: &str| {
        if url.starts_with('/') {
            format!("{base}{url}")
        } else {
            url.to_owned()
        }
    };
    let mut out = String::new();
    let mut field = |name: &str, value: &str| {
        out.push_str(&format!("{}{}\n", pad(&format!("{name}:"), 11), value));
    };
    field("Job", &clean(&s.id()));
    field("Phase", &phase_line(detail));
    if let Some(message) = detail.status.as_ref().and_then(|st| st.message.as_deref()) {
        field("Message", &clean(message));
    }
    if let Some(position) = s.queue_position {
        field("Queue", &format!("{position} (1 starts next)"));
    }
    field(
        "Type",
        &s.image_type.as_deref().map_or_else(|| "-".into(), clean),
    );
    field(
        "Submitter",
        &s.submitter.as_deref().map_or_else(|| "-".into(), clean),
    );
    field(
        "Created",
        &s.created.as_deref().map_or_else(|| "-".into(), clean),
    );
    if !detail.links.page.is_empty() {
        field("Page", &clean(&absolute(&detail.links.page)));
    }
    let stages = detail
        .status
        .as_ref()
        .map(|st| st.stages.as_slice())
        .unwrap_or_default();
    if !stages.is_empty() {
        out.push_str("Stages:\n");
        for stage in stages {
            let mut line = format!(
                "  {}{}",
                pad(&clean(&stage.name), 13),
                pad(
                    &stage
                        .outcome
                        .as_deref()
                        .map_or_else(|| "running".into(), clean),
                    11
                )
            );
            if let Some(started) = &stage.started_at {
                line.push_str(&clean(started));
                if let Some(finished) = &stage.finished_at {
                    line.push_str(" .. ");
                    line.push_str(&clean(finished));
                }
            }
            if let Some(message) = &stage.message {
                line.push_str("  ");
                line.push_str(&clean(message));
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
    }
    if !detail.links.artifacts.is_empty() {
        out.push_str("Artifacts:\n");
        for a in &detail.links.artifacts {
            out.push_str(&format!(
                "  {}  {} bytes  sha256 {}\n    {}\n",
                clean(&a.name),
                a.size,
                clean(&a.sha256),
                clean(&absolute(&a.url))
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::imgctl::client::{ArtifactView, JobLinks, JobStatus, StageView};

    fn summary(name: &str, phase: &str) -> JobSummary {
        JobSummary {
            namespace: "default".into(),
            name: name.into(),
            phase: phase.into(),
            image_type: Some("raw".into()),
            submitter: None,
            queue_position: (phase == "Queued").then_some(2),
            created: Some("2026-05-01T10:00:00Z".into()),
            ..Default::default()
        }
    }

    #[test]
    fn the_table_lines_up() {
        let t = table(&[summary("job-abc", "Queued"), summary("j", "Running")]);
        assert_eq!(
            t,
            "ID               PHASE    QUEUE  TYPE  SUBMITTER  CREATED\n\
             default/job-abc  Queued   2      raw   -          2026-05-01T10:00:00Z\n\
             default/j        Running  -      raw   -          2026-05-01T10:00:00Z\n"
        );
    }

    #[test]
    fn status_shows_reason_stages_and_artifacts() {
        let detail = JobDetail {
            summary: summary("nb", "Failed"),
            status: Some(JobStatus {
                reason: Some("BuildFailed".into()),
                message: Some("no package 'x'\x1b[2J".into()),
                stages: vec![StageView {
                    name: "build".into(),
                    started_at: Some("t0".into()),
                    finished_at: Some("t1".into()),
                    outcome: Some("Failed".into()),
                    message: None,
                }],
            }),
            links: JobLinks {
                page: "/job/default/nb".into(),
                artifacts: vec![ArtifactView {
                    name: "nb.raw".into(),
                    size: 3,
                    sha256: "ab".into(),
                    url: "/images/default/nb/nb.raw".into(),
                }],
            },
        };
        let text = status(&detail, "http://img:8080");
        assert!(text.contains("Phase:     Failed (BuildFailed)\n"), "{text}");
        assert!(
            text.contains("Message:   no package 'x'\\u{1b}[2J\n"),
            "{text}"
        );
        assert!(
            text.contains("  build        Failed     t0 .. t1\n"),
            "{text}"
        );
        assert!(
            text.contains(
                "  nb.raw  3 bytes  sha256 ab\n    http://img:8080/images/default/nb/nb.raw\n"
            ),
            "{text}"
        );
        assert!(
            text.contains("Page:      http://img:8080/job/default/nb\n"),
            "{text}"
        );
        assert_eq!(
            outcome_line(&detail),
            "default/nb: Failed (BuildFailed): no package 'x'\\u{1b}[2J"
        );
    }
}
