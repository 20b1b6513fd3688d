//! Where a job's wall time went, from what the job's status records: queue wait (creation to
//! the runner's start), VM boot (clone and boot stages), kickstarter, creator (the build
//! stage), collect (collect and VM teardown), notify (completion to the last notification
//! delivered). Times in status have one-second resolution.

use img_crd::{ImageJob, Stage};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

/// One row of the table.
pub(crate) struct Row {
    pub(crate) scenario: String,
    pub(crate) job: String,
    pub(crate) outcome: String,
    pub(crate) cells: [Option<i64>; 7],
}

const HEADER: [&str; 7] = [
    "queue",
    "boot",
    "kickstarter",
    "creator",
    "collect",
    "notify",
    "total",
];

/// Seconds from `from` to `to`; never below zero (times from different writers, each
/// truncated to the second, can be a second out of order).
fn secs(from: Option<&Time>, to: Option<&Time>) -> Option<i64> {
    Some(to?.0.duration_since(from?.0).as_secs().max(0))
}

impl Row {
    /// The row of `job` in `scenario`.
    pub(crate) fn of(scenario: &str, job: &ImageJob) -> Row {
        let status = job.status.clone().unwrap_or_default();
        let created = job.metadata.creation_timestamp.as_ref();
        let stage = |names: &[Stage]| -> Option<i64> {
            let mut sum = None;
            for s in status.stages.iter().filter(|s| names.contains(&s.name)) {
                if let Some(d) = secs(s.started_at.as_ref(), s.finished_at.as_ref()) {
                    sum = Some(sum.unwrap_or(0) + d);
                }
            }
            sum
        };
        // The end-of-job notifications (`result_queue` is sent when the runner starts).
        let notified = status.notifications.as_ref().and_then(|n| {
            n.amqp
                .iter()
                .filter(|d| d.target != "result_queue")
                .chain(n.email.iter())
                .filter_map(|d| d.delivered_time.clone())
                .max_by_key(|t| t.0)
        });
        let completed = status.completion_time.as_ref();
        let total_end = notified.as_ref().or(completed);
        Row {
            scenario: scenario.to_owned(),
            job: job.metadata.name.clone().unwrap_or_default(),
            outcome: status
                .phase
                .map_or_else(|| "-".to_owned(), |p| p.as_str().to_owned()),
            cells: [
                secs(created, status.start_time.as_ref()),
                stage(&[Stage::Clone, Stage::Boot]),
                stage(&[Stage::Kickstarter]),
                stage(&[Stage::Build]),
                stage(&[Stage::Collect, Stage::Cleanup]),
                secs(completed, notified.as_ref()),
                secs(created, total_end),
            ],
        }
    }
}

/// The table, seconds per column.
pub(crate) fn table(rows: &[Row]) -> String {
    let mut out = format!("{:<28} {:<34} {:<10}", "scenario", "job", "outcome");
    for h in HEADER {
        out.push_str(&format!(" {h:>11}"));
    }
    out.push('\n');
    for r in rows {
        out.push_str(&format!(
            "{:<28} {:<34} {:<10}",
            r.scenario, r.job, r.outcome
        ));
        for c in r.cells {
            match c {
                Some(s) => out.push_str(&format!(" {:>10}s", s)),
                None => out.push_str(&format!(" {:>11}", "-")),
            }
        }
        out.push('\n');
    }
    out
}
