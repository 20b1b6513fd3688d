//! What every reconcile shares: the client, the settings, metrics, the one event recorder,
//! the queue, the runner Pod cache, and per-job error backoff.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use img_crd::ImageJob;
use k8s_openapi::api::core::v1::Pod;
use kube::runtime::events::{Event, EventType, Recorder};
use kube::runtime::reflector::{ObjectRef, Store};
use kube::{Client, Resource, ResourceExt};
use tracing::warn;

use crate::config::Config;
use crate::metrics::Metrics;
use crate::queue::Queue;

/// The first retry delay after a transient error; it doubles up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
/// The longest retry delay.
const MAX_BACKOFF: Duration = Duration::from_secs(300);

/// Shared by every reconcile.
pub struct Context {
    /// The API client.
    pub client: Client,
    /// The operator's settings.
    pub config: Config,
    /// Metrics.
    pub metrics: Metrics,
    /// The event recorder (one for the operator, so repeated events become series).
    pub recorder: Recorder,
    /// Admission.
    pub queue: Arc<Queue>,
    /// Pods the operator made (runner, cleanup), from the watch cache.
    pub pods: Store<Pod>,
    failures: Mutex<HashMap<String, u32>>,
    invalid: Mutex<HashMap<String, String>>,
}

impl Context {
    /// A context.
    pub fn new(
        client: Client,
        config: Config,
        metrics: Metrics,
        recorder: Recorder,
        queue: Arc<Queue>,
        pods: Store<Pod>,
    ) -> Context {
        Context {
            client,
            config,
            metrics,
            recorder,
            queue,
            pods,
            failures: Mutex::new(HashMap::new()),
            invalid: Mutex::new(HashMap::new()),
        }
    }

    /// The delay before retrying `job` after another transient error.
    pub fn next_backoff(&self, job: &ImageJob) -> Duration {
        let mut failures = self.failures.lock().unwrap_or_else(PoisonError::into_inner);
        let n = failures.entry(job.uid().unwrap_or_default()).or_default();
        *n = n.saturating_add(1);
        FIRST_BACKOFF
            .saturating_mul(1 << (*n - 1).min(16))
            .min(MAX_BACKOFF)
    }

    /// Forgets `job`'s errors after a successful reconcile.
    pub fn reset_backoff(&self, job: &ImageJob) {
        if let Some(uid) = job.metadata.uid.as_deref() {
            let mut failures = self.failures.lock().unwrap_or_else(PoisonError::into_inner);
            if !failures.is_empty() {
                failures.remove(uid);
            }
        }
    }

    /// Records that the unreadable job `uid` is marked with `message`; false when it already
    /// was (so it is not written again).
    pub fn note_invalid(&self, uid: &str, message: &str) -> bool {
        let mut invalid = self.invalid.lock().unwrap_or_else(PoisonError::into_inner);
        invalid
            .insert(uid.to_owned(), message.to_owned())
            .as_deref()
            != Some(message)
    }

    /// The cached Pod `name` in `job`'s namespace, if it belongs to this very job (same uid).
    pub fn cached_pod(&self, job: &ImageJob, name: &str) -> Option<Arc<Pod>> {
        let pod = self
            .pods
            .get(&ObjectRef::new(name).within(&job.namespace().unwrap_or_default()))?;
        belongs_to(&pod, job).then_some(pod)
    }

    /// Publishes an Event about `job`. Events are a courtesy: a failure is logged, not
    /// returned.
    pub async fn event(
        &self,
        job: &ImageJob,
        type_: EventType,
        reason: &str,
        action: &str,
        note: impl Into<String>,
    ) {
        let note = img_crd::runner::shorten(&note.into(), 1024);
        let event = Event {
            type_,
            reason: reason.to_owned(),
            note: Some(note),
            action: action.to_owned(),
            secondary: None,
        };
        match self.recorder.publish(&event, &job.object_ref(&())).await {
            Ok(()) => self.metrics.created("Event"),
            Err(e) => warn!(job = %job.name_any(), reason, error = %e, "event not recorded"),
        }
    }
}

/// Whether `pod` was made for this `job` (and not for an earlier job of the same name).
pub fn belongs_to(pod: &Pod, job: &ImageJob) -> bool {
    let uid = job.metadata.uid.as_deref();
    uid.is_some()
        && pod
            .metadata
            .labels
            .as_ref()
            .and_then(|l| l.get(img_crd::labels::JOB_UID))
            .map(String::as_str)
            == uid
}
