//! Filtering, ordering and paging the job list (the queue page and `GET /api/v1/jobs`).
//! Pure over summaries, so it is tested without a cluster and fast with 10,000 jobs.

use serde::{Deserialize, Serialize};

use crate::view::JobSummary;

/// The largest page a client may ask for.
pub const MAX_PER_PAGE: usize = 500;

/// Query parameters of a list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListQuery {
    /// Only jobs in this phase (`Running`, `Queued`, ...; case-insensitive).
    pub phase: Option<String>,
    /// Only jobs of this image type.
    #[serde(rename = "type")]
    pub image_type: Option<String>,
    /// Only jobs of this submitter.
    pub submitter: Option<String>,
    /// Only jobs in this namespace.
    pub namespace: Option<String>,
    /// Only the asking user's jobs.
    pub mine: Option<bool>,
    /// 1-based page (default 1).
    pub page: Option<usize>,
    /// Jobs per page (default 50, at most [`MAX_PER_PAGE`]).
    pub per_page: Option<usize>,
}

/// One page of a list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Page {
    /// The jobs on this page.
    pub items: Vec<JobSummary>,
    /// Jobs matching the filters, on all pages.
    pub total: usize,
    /// This page (1-based).
    pub page: usize,
    /// Jobs per page.
    pub per_page: usize,
}

/// Running jobs first, then the queue in order, then jobs not yet checked, then finished
/// jobs newest first.
fn rank(j: &JobSummary) -> (u8, u32, std::cmp::Reverse<Option<String>>, String) {
    let group = match j.phase.as_str() {
        "Running" => 0,
        "Queued" => 1,
        "Pending" => 2,
        _ => 3,
    };
    (
        group,
        j.queue_position.unwrap_or(u32::MAX),
        std::cmp::Reverse(j.created.clone()),
        format!("{}/{}", j.namespace, j.name),
    )
}

/// Sorts `jobs` in queue order (running, queued by position, pending, finished newest first).
pub fn sort(jobs: &mut [JobSummary]) {
    jobs.sort_by_cached_key(rank);
}

/// Applies `q` to `jobs`, which are in queue order ([`sort`]); only the page is copied.
pub fn page(jobs: &[JobSummary], q: &ListQuery) -> Page {
    let eq = |want: &Option<String>, have: Option<&str>| {
        want.as_deref()
            .is_none_or(|w| have.is_some_and(|h| h.eq_ignore_ascii_case(w)))
    };
    let matching = jobs.iter().filter(|j| {
        eq(&q.phase, Some(&j.phase))
            && eq(&q.image_type, j.image_type.as_deref())
            && eq(&q.submitter, j.submitter.as_deref())
            && eq(&q.namespace, Some(&j.namespace))
    });
    let per_page = q.per_page.unwrap_or(50).clamp(1, MAX_PER_PAGE);
    let page = q.page.unwrap_or(1).max(1);
    let skip = (page - 1).saturating_mul(per_page);
    let mut total = 0;
    let mut items = Vec::new();
    for j in matching {
        if total >= skip && items.len() < per_page {
            items.push(j.clone());
        }
        total += 1;
    }
    Page {
        items,
        total,
        page,
        per_page,
    }
}

/// Sorts `jobs` and applies `q`.
pub fn list(mut jobs: Vec<JobSummary>, q: &ListQuery) -> Page {
    sort(&mut jobs);
    page(&jobs, q)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(name: &str, phase: &str, pos: Option<u32>, created: &str) -> JobSummary {
        JobSummary {
            namespace: "default".into(),
            name: name.into(),
            phase: phase.into(),
            image_type: Some("raw".into()),
            submitter: Some(
                if name.starts_with('a') {
                    "alice"
                } else {
                    "bob"
                }
                .into(),
            ),
            queue_position: pos,
            created: Some(created.into()),
            stages_done: 0,
            finished: matches!(phase, "Succeeded" | "Failed" | "Cancelled"),
            pinned: false,
        }
    }

    fn names(p: &Page) -> Vec<&str> {
        p.items.iter().map(|j| j.name.as_str()).collect()
    }

    #[test]
    fn the_queue_reads_top_down() {
        let jobs = vec![
            job("a-old", "Succeeded", None, "2026-01-01T00:00:00Z"),
            job("b-q2", "Queued", Some(2), "2026-01-03T00:00:00Z"),
            job("a-run", "Running", None, "2026-01-02T00:00:00Z"),
            job("b-q1", "Queued", Some(1), "2026-01-04T00:00:00Z"),
            job("a-new", "Failed", None, "2026-01-05T00:00:00Z"),
        ];
        let p = list(jobs.clone(), &ListQuery::default());
        assert_eq!(names(&p), ["a-run", "b-q1", "b-q2", "a-new", "a-old"]);
        let q = ListQuery {
            submitter: Some("ALICE".into()),
            ..Default::default()
        };
        assert_eq!(names(&list(jobs.clone(), &q)), ["a-run", "a-new", "a-old"]);
        let q = ListQuery {
            phase: Some("queued".into()),
            ..Default::default()
        };
        assert_eq!(list(jobs.clone(), &q).total, 2);
        let q = ListQuery {
            page: Some(2),
            per_page: Some(2),
            ..Default::default()
        };
        let p = list(jobs.clone(), &q);
        assert_eq!((names(&p), p.total), (vec!["b-q2", "a-new"], 5));
        let q = ListQuery {
            page: Some(usize::MAX),
            per_page: Some(usize::MAX),
            ..Default::default()
        };
        assert!(list(jobs, &q).items.is_empty());
    }
}
