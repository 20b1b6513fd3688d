//! The queue's order and admission, as a pure function of the jobs and the limits.
//!
//! Order: higher `spec.priority` first; within a priority, namespaces take turns (a job's turn
//! is the number of jobs its namespace already runs plus the number of its namespace's jobs
//! ahead of it), and within a turn the older job goes first (creation time, then name, since
//! creation times have one-second resolution). Admission walks that order and takes every
//! ready job that fits under the total and per-namespace limits, up to the first job that has
//! not been checked yet; the rest get positions 1, 2, 3, … in the same order.

use std::cmp::Reverse;
use std::collections::HashMap;

/// A job that identifies itself in the queue.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct JobKey {
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// Uid (a job re-created under the same name is another job).
    pub uid: String,
}

/// A job that wants a runner.
#[derive(Debug, Clone)]
pub struct Waiting {
    /// Which job.
    pub key: JobKey,
    /// `spec.priority`.
    pub priority: i32,
    /// `metadata.creationTimestamp`, in seconds.
    pub created: i64,
    /// Validated (Queued). A job not checked yet takes its place in the order, so the
    /// positions of those behind it do not shift when it arrives, and nothing behind it
    /// starts until it is checked (so a slow check never lets a younger job overtake); it is
    /// not admitted and gets no position itself.
    pub ready: bool,
}

/// The limits.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Jobs running at once, in total.
    pub total: usize,
    /// Jobs running at once in one namespace.
    pub per_namespace: usize,
}

/// What to do now.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// Jobs to start, in order.
    pub admit: Vec<JobKey>,
    /// Queue positions of the ready jobs left waiting, in order (1 starts next).
    pub positions: Vec<(JobKey, u32)>,
}

/// Plans admission: `waiting` jobs against the `active` count per namespace.
pub fn plan(waiting: &[Waiting], active: &HashMap<String, usize>, limits: Limits) -> Plan {
    let mut by_namespace: HashMap<&str, Vec<&Waiting>> = HashMap::new();
    for w in waiting {
        by_namespace.entry(&w.key.namespace).or_default().push(w);
    }
    let mut ordered: Vec<(usize, &Waiting)> = Vec::with_capacity(waiting.len());
    for (namespace, mut jobs) in by_namespace {
        jobs.sort_by(|a, b| {
            (Reverse(a.priority), a.created, &a.key.name).cmp(&(
                Reverse(b.priority),
                b.created,
                &b.key.name,
            ))
        });
        let running = active.get(namespace).copied().unwrap_or(0);
        ordered.extend(jobs.into_iter().enumerate().map(|(i, w)| (running + i, w)));
    }
    ordered.sort_by(|(turn_a, a), (turn_b, b)| {
        (
            Reverse(a.priority),
            turn_a,
            a.created,
            &a.key.namespace,
            &a.key.name,
        )
            .cmp(&(
                Reverse(b.priority),
                turn_b,
                b.created,
                &b.key.namespace,
                &b.key.name,
            ))
    });

    let total_active: usize = active.values().sum();
    let mut room = limits.total.saturating_sub(total_active);
    let mut namespace_room: HashMap<&str, usize> = HashMap::new();
    let mut plan = Plan::default();
    let mut position = 0u32;
    let mut blocked = false;
    for (_, w) in ordered {
        let ns_room = namespace_room.entry(&w.key.namespace).or_insert_with(|| {
            limits
                .per_namespace
                .saturating_sub(active.get(&w.key.namespace).copied().unwrap_or(0))
        });
        blocked |= !w.ready;
        if !blocked && room > 0 && *ns_room > 0 {
            room -= 1;
            *ns_room -= 1;
            plan.admit.push(w.key.clone());
            continue;
        }
        position += 1;
        if w.ready {
            plan.positions.push((w.key.clone(), position));
        }
    }
    plan
}

#[cfg(test)]
#[path = "order_tests.rs"]
mod tests;
