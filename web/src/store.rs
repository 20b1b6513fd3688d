//! The frontend's in-memory copy of every ImageJob, kept current by a watch, so pages and
//! lists never wait for the API server; and the job list in queue order, sorted once per
//! change of the store rather than once per request (10,000 jobs, 100 clients).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use futures::{Future, StreamExt as _};
use img_crd::ImageJob;
use kube::runtime::reflector::{self, Store};
use kube::runtime::{WatchStreamExt as _, watcher};
use kube::{Api, Client};

use crate::list;
use crate::view::JobSummary;

/// The store, and the watch that fills it (spawn it; it runs until dropped).
pub fn watch_jobs(client: Client) -> (Store<ImageJob>, impl Future<Output = ()> + Send + 'static) {
    let (reader, writer) = reflector::store();
    let watch = watcher(Api::<ImageJob>::all(client), watcher::Config::default())
        .default_backoff()
        .reflect(writer)
        .for_each(|_| {
            // The writer has applied the event: cached lists are stale from now on.
            jobs_changed();
            futures::future::ready(())
        });
    (reader, watch)
}

/// Bumped by every watch event, in every store of the process.
static GENERATION: AtomicU64 = AtomicU64::new(0);

/// Says the jobs have changed (the watch does this; so must code that fills a store by hand
/// after a list was served from it).
pub fn jobs_changed() {
    GENERATION.fetch_add(1, Ordering::Release);
}

/// What a cached list was made from: the watch generation and the store's size.
type Generation = (u64, usize);

/// The summaries of every job in queue order, rebuilt only when the store has changed, by one
/// request at a time: while one rebuilds, the others are served the previous list (at most one
/// rebuild old) instead of all rebuilding at once when a burst of watch events arrives.
///
/// Changes that only touch status (a queue moving rewrites the position of every queued job)
/// are folded in at most every [`STATUS_LAG`]; a job created or deleted is seen at once.
#[derive(Debug, Default)]
pub struct SortedJobs {
    current: RwLock<Option<Built>>,
    rebuilding: Mutex<()>,
}

/// A list and what it was built from.
#[derive(Debug, Clone)]
struct Built {
    key: Generation,
    at: Instant,
    list: Arc<Vec<JobSummary>>,
}

/// How stale a list may be after status-only changes.
pub const STATUS_LAG: Duration = Duration::from_millis(250);

impl SortedJobs {
    /// The jobs of `store` in queue order.
    pub fn get(&self, store: &Store<ImageJob>) -> Arc<Vec<JobSummary>> {
        // Watch events bump the generation; a store filled by hand at least changes its size.
        let key = (GENERATION.load(Ordering::Acquire), store.len());
        let fresh = |b: &Built| b.key == key || (b.key.1 == key.1 && b.at.elapsed() < STATUS_LAG);
        let current = self.current();
        if let Some(b) = &current
            && fresh(b)
        {
            return Arc::clone(&b.list);
        }
        let Ok(_rebuilding) = self.rebuilding.try_lock() else {
            if let Some(b) = current {
                return b.list;
            }
            // The very first list: wait for it rather than build it twice.
            let _wait = self.rebuilding.lock();
            return self.current().map_or_else(|| build(store), |b| b.list);
        };
        // Someone may have rebuilt while we looked.
        if let Some(b) = self.current()
            && fresh(&b)
        {
            return b.list;
        }
        let list = build(store);
        if let Ok(mut current) = self.current.write() {
            *current = Some(Built {
                key,
                at: Instant::now(),
                list: Arc::clone(&list),
            });
        }
        list
    }

    fn current(&self) -> Option<Built> {
        self.current.read().ok().and_then(|c| c.clone())
    }
}

fn build(store: &Store<ImageJob>) -> Arc<Vec<JobSummary>> {
    let mut summaries: Vec<JobSummary> = store.state().iter().map(|j| JobSummary::of(j)).collect();
    list::sort(&mut summaries);
    Arc::new(summaries)
}

#[cfg(test)]
mod tests {
    use super::*;
    use img_crd::{ImageJobStatus, Phase};
    use kube::runtime::watcher::Event;

    fn job(name: &str, phase: Phase) -> ImageJob {
        let mut j = ImageJob::new(name, Default::default());
        j.metadata.namespace = Some("team".into());
        j.status = Some(ImageJobStatus {
            phase: Some(phase),
            ..Default::default()
        });
        j
    }

    #[test]
    fn new_jobs_at_once_status_changes_within_the_lag() {
        let (reader, mut writer) = reflector::store();
        writer.apply_watcher_event(&Event::Apply(job("a", Phase::Queued)));
        let sorted = SortedJobs::default();
        assert_eq!(sorted.get(&reader).len(), 1);
        writer.apply_watcher_event(&Event::Apply(job("b", Phase::Queued)));
        jobs_changed();
        assert_eq!(sorted.get(&reader).len(), 2, "a new job is listed at once");
        writer.apply_watcher_event(&Event::Apply(job("a", Phase::Running)));
        jobs_changed();
        std::thread::sleep(STATUS_LAG);
        let list = sorted.get(&reader);
        assert_eq!(
            (list[0].name.as_str(), list[0].phase.as_str()),
            ("a", "Running")
        );
    }
}
