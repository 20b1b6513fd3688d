//! The queue: which jobs start, and every waiting job's position in status.
//!
//! One task ([`run`]) owns admission. It recomputes the plan ([`order::plan`]) from the
//! watch caches whenever ImageJobs or runner Pods change (debounced, so a burst of
//! submissions costs one pass), marks the jobs to start as admitted and asks the controller
//! to reconcile them, and writes `status.queuePosition` where it changed. A running job holds
//! its slot from admission until its runner Pod is gone, so the limits hold across operator
//! restarts (live Pods are counted) and while cancelled runners shut down.
//!
//! Position writes are JSON patches guarded by a `test` of `status.phase == Queued`, so a
//! position can never land on a job that has started meanwhile.

pub mod order;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use futures::StreamExt;
use img_crd::labels::{self, component};
use img_crd::{ImageJob, Phase};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Patch, PatchParams};
use kube::core::DeserializeGuard;
use kube::runtime::reflector::{ObjectRef, Store};
use kube::{Api, Client, ResourceExt};
use tokio::sync::{Notify, mpsc};
use tracing::{debug, warn};

use crate::metrics::Metrics;
use order::{JobKey, Limits, Plan, Waiting, plan};

/// How many position writes are in flight at once.
const POSITION_WRITES_IN_FLIGHT: usize = 16;

/// A pass runs at least this often even without changes (a failed position write is retried).
const RESYNC: Duration = Duration::from_secs(30);

/// How long a job not checked yet holds up the jobs behind it. Checking takes milliseconds;
/// one that has not happened in this time is stuck (its errors are retried with backoff)
/// and must not stall the queue.
const FRESH_GRACE: Duration = Duration::from_secs(30);

/// Admission state shared by the queue task and the reconciler.
pub struct Queue {
    admitted: Mutex<HashSet<String>>,
    /// When this queue first saw each job that is still unchecked.
    fresh_since: Mutex<HashMap<String, Instant>>,
    trigger: mpsc::UnboundedSender<ObjectRef<ImageJob>>,
    limits: Limits,
}

impl Queue {
    /// A queue with `limits`; the receiver yields the jobs to reconcile because they were
    /// admitted (feed it to the controller's `reconcile_on`).
    pub fn new(limits: Limits) -> (Queue, mpsc::UnboundedReceiver<ObjectRef<ImageJob>>) {
        let (trigger, rx) = mpsc::unbounded_channel();
        let queue = Queue {
            admitted: Mutex::new(HashSet::new()),
            fresh_since: Mutex::new(HashMap::new()),
            trigger,
            limits,
        };
        (queue, rx)
    }

    /// Whether the job with `uid` may start.
    pub fn is_admitted(&self, uid: &str) -> bool {
        self.admitted().contains(uid)
    }

    fn admitted(&self) -> std::sync::MutexGuard<'_, HashSet<String>> {
        // The set stays consistent even if a holder panicked: every change is one insert or
        // one retain.
        self.admitted.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The uid of the job a runner Pod belongs to, if the Pod still holds a slot.
fn live_runner(pod: &Pod) -> Option<(String, String)> {
    let labels = pod.metadata.labels.as_ref()?;
    if labels.get(labels::COMPONENT).map(String::as_str) != Some(component::RUNNER) {
        return None;
    }
    let phase = pod.status.as_ref().and_then(|s| s.phase.as_deref());
    if matches!(phase, Some("Succeeded" | "Failed")) {
        return None;
    }
    Some((
        labels.get(labels::JOB_UID)?.clone(),
        pod.namespace().unwrap_or_default(),
    ))
}

fn key(job: &ImageJob) -> JobKey {
    JobKey {
        namespace: job.namespace().unwrap_or_default(),
        name: job.name_any(),
        uid: job.uid().unwrap_or_default(),
    }
}

/// What one pass decided.
struct Pass {
    plan: Plan,
    waiting: usize,
    active: usize,
}

/// Computes a pass from the caches, updating the admitted set.
fn compute(queue: &Queue, jobs: &[&ImageJob], pods: &[Arc<Pod>]) -> Pass {
    let live: HashMap<String, String> = pods.iter().filter_map(|p| live_runner(p)).collect();
    let mut admitted = queue.admitted();
    // Admission lasts until the job's status says it runs (then the phase counts) or it
    // leaves the queue some other way.
    let queued: HashSet<&str> = jobs
        .iter()
        .filter(|j| phase(j) == Some(Phase::Queued))
        .filter_map(|j| j.metadata.uid.as_deref())
        .collect();
    admitted.retain(|uid| queued.contains(uid.as_str()));

    let mut active_uids: HashMap<String, String> = live;
    let mut waiting = Vec::new();
    let now = Instant::now();
    let mut fresh_since = queue
        .fresh_since
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    let mut still_fresh = HashSet::new();
    for job in jobs {
        let k = key(job);
        let holds_slot = phase(job) == Some(Phase::Running) || admitted.contains(&k.uid);
        if holds_slot {
            active_uids.insert(k.uid.clone(), k.namespace.clone());
            continue;
        }
        if active_uids.contains_key(&k.uid)
            || job.metadata.deletion_timestamp.is_some()
            || job.spec.cancel
        {
            continue;
        }
        let ready = match phase(job) {
            Some(Phase::Queued) => true,
            // Not looked at yet: about to be checked (unless it has been stuck a while).
            None => {
                let since = *fresh_since.entry(k.uid.clone()).or_insert(now);
                still_fresh.insert(k.uid.clone());
                if now.duration_since(since) > FRESH_GRACE {
                    continue;
                }
                false
            }
            _ => continue,
        };
        waiting.push(Waiting {
            priority: job.spec.priority,
            created: job
                .metadata
                .creation_timestamp
                .as_ref()
                .map_or(0, |t| t.0.as_second()),
            key: k,
            ready,
        });
    }
    fresh_since.retain(|uid, _| still_fresh.contains(uid));
    let mut active: HashMap<String, usize> = HashMap::new();
    for namespace in active_uids.values() {
        *active.entry(namespace.clone()).or_default() += 1;
    }
    let plan = plan(&waiting, &active, queue.limits);
    for k in &plan.admit {
        admitted.insert(k.uid.clone());
    }
    Pass {
        waiting: plan.positions.len(),
        active: active_uids.len() + plan.admit.len(),
        plan,
    }
}

fn phase(job: &ImageJob) -> Option<Phase> {
    job.status.as_ref().and_then(|s| s.phase)
}

/// Runs the queue: a pass after every burst of changes (`changed` notified; the burst is
/// given `debounce` to settle) and at least every 30 s. Ends when the controller is gone.
pub async fn run(
    queue: Arc<Queue>,
    client: Client,
    metrics: Metrics,
    jobs: Store<DeserializeGuard<ImageJob>>,
    pods: Store<Pod>,
    changed: Arc<Notify>,
    debounce: Duration,
) {
    if jobs.wait_until_ready().await.is_err() || pods.wait_until_ready().await.is_err() {
        return;
    }
    loop {
        let state = jobs.state();
        // Jobs that cannot be read are failed by the reconciler; they never queue.
        let readable: Vec<&ImageJob> = state.iter().filter_map(|g| g.0.as_ref().ok()).collect();
        let pass = compute(&queue, &readable, &pods.state());
        metrics.queue_depth.set(pass.waiting as i64);
        metrics.running.set(pass.active as i64);
        for k in &pass.plan.admit {
            debug!(namespace = %k.namespace, name = %k.name, "admitted");
            let r = ObjectRef::new(&k.name).within(&k.namespace);
            if queue.trigger.send(r).is_err() {
                return;
            }
        }
        write_positions(&client, &metrics, &jobs, pass.plan.positions).await;

        // Wait for a change (or the resync), then let the burst settle.
        let _ = tokio::time::timeout(RESYNC, changed.notified()).await;
        tokio::time::sleep(debounce).await;
    }
}

/// Writes the positions that differ from what status shows.
async fn write_positions(
    client: &Client,
    metrics: &Metrics,
    jobs: &Store<DeserializeGuard<ImageJob>>,
    positions: Vec<(JobKey, u32)>,
) {
    let changed: Vec<(JobKey, u32)> = positions
        .into_iter()
        .filter(|(k, position)| {
            let current = jobs
                .get(&ObjectRef::new(&k.name).within(&k.namespace))
                .and_then(|g| {
                    g.0.as_ref()
                        .ok()
                        .and_then(|j| j.status.as_ref()?.queue_position)
                });
            current != Some(*position)
        })
        .collect();
    futures::stream::iter(changed)
        .for_each_concurrent(POSITION_WRITES_IN_FLIGHT, |(k, position)| async move {
            let api: Api<ImageJob> = Api::namespaced(client.clone(), &k.namespace);
            match api
                .patch_status(&k.name, &PatchParams::default(), &position_patch(position))
                .await
            {
                Ok(_) => metrics.status_written("queue"),
                // The job left the queue (test failed) or is gone: nothing to write.
                Err(kube::Error::Api(e)) if matches!(e.code, 404 | 409 | 422) => {}
                Err(e) => warn!(namespace = %k.namespace, name = %k.name, error = %e, "queue position not written"),
            }
        })
        .await;
}

/// `status.queuePosition = position`, only if the job is still Queued.
fn position_patch(position: u32) -> Patch<()> {
    let ops = serde_json::json!([
        {"op": "test", "path": "/status/phase", "value": "Queued"},
        {"op": "add", "path": "/status/queuePosition", "value": position},
    ]);
    // The JSON above is a valid patch by construction.
    Patch::Json(serde_json::from_value(ops).unwrap_or_default())
}

#[cfg(test)]
#[path = "queue_tests.rs"]
mod tests;
