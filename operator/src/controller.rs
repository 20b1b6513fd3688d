//! Wiring: the watches, their shared caches, the controller, and the queue task — everything
//! the leader runs.

use std::collections::HashMap;
use std::future::Future;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::{Arc, Mutex, PoisonError};

use futures::{StreamExt, future};
use img_crd::ImageJob;
use img_crd::labels;
use k8s_openapi::api::core::v1::Pod;
use kube::core::DeserializeGuard;
use kube::runtime::events::{Recorder, Reporter};
use kube::runtime::reflector::{self, ObjectRef};
use kube::runtime::{Controller, WatchStreamExt, controller, watcher};
use kube::{Api, Client};
use tokio::sync::Notify;
use tracing::{debug, warn};

use crate::config::Config;
use crate::context::Context;
use crate::metrics::Metrics;
use crate::notify;
use crate::notify::email::Mailer;
use crate::queue::order::Limits;
use crate::queue::{self, Queue};
use crate::reconcile;

/// Room in each shared watch cache's fan-out to its subscribers.
const SUBSCRIBER_BUFFER: usize = 1024;

/// How many jobs are reconciled at once.
const CONCURRENCY: u16 = 64;

fn scoped<K>(client: &Client, namespace: Option<&str>) -> Api<K>
where
    K: kube::Resource<Scope = kube::core::NamespaceResourceScope>,
    K::DynamicType: Default,
{
    match namespace {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::all(client.clone()),
    }
}

/// What makes a job worth reconciling: a change of anything but the queue position (which
/// the queue writes for thousands of jobs at a time and the reconciler does not read).
fn reconcile_fingerprint(guard: &DeserializeGuard<ImageJob>) -> u64 {
    let mut h = DefaultHasher::new();
    match &guard.0 {
        Ok(job) => {
            job.metadata.generation.hash(&mut h);
            job.metadata.deletion_timestamp.is_some().hash(&mut h);
            job.metadata.finalizers.hash(&mut h);
            let status = job.status.as_ref();
            status.and_then(|s| s.phase).hash(&mut h);
            status.and_then(|s| s.observed_generation).hash(&mut h);
            status.map(|s| s.runner_pod.clone()).hash(&mut h);
        }
        Err(invalid) => invalid.metadata.resource_version.hash(&mut h),
    }
    h.finish()
}

/// Runs the controller, the queue and the notification side (the notifier and, with a
/// broker, AMQP ingress) until `shutdown` completes.
pub async fn run<S>(
    client: Client,
    config: Config,
    metrics: Metrics,
    mailer: Option<Mailer>,
    shutdown: S,
) where
    S: Future<Output = ()> + Clone + Send + Sync + 'static,
{
    let namespace = config.watch_namespace.clone();
    let jobs: Api<DeserializeGuard<ImageJob>> = scoped(&client, namespace.as_deref());
    let pods: Api<Pod> = scoped(&client, namespace.as_deref());

    let (job_store, job_writer) = reflector::store_shared(SUBSCRIBER_BUFFER);
    let (pod_store, pod_writer) = reflector::store_shared(SUBSCRIBER_BUFFER);
    let (Some(job_events), Some(notify_events), Some(pod_events)) = (
        job_writer.subscribe(),
        job_writer.subscribe(),
        pod_writer.subscribe(),
    ) else {
        warn!("shared watch caches refused subscribers");
        return;
    };
    // The queue only needs to know that something changed; a notification never blocks
    // the watches (a subscriber would, once its buffer filled during a long pass).
    let changed = Arc::new(Notify::new());
    let managed = format!("{}={}", labels::MANAGED_BY, labels::OPERATOR);
    let job_watch = watch_into(
        watcher(jobs, watcher::Config::default()),
        job_writer,
        changed.clone(),
    );
    let pod_watch = watch_into(
        watcher(pods, watcher::Config::default().labels(&managed)),
        pod_writer,
        changed.clone(),
    );

    let limits = Limits {
        total: config.max_running,
        per_namespace: config.per_namespace_limit(),
    };
    let (queue, admitted) = Queue::new(limits);
    let queue = Arc::new(queue);
    let recorder = Recorder::new(
        client.clone(),
        Reporter {
            controller: labels::OPERATOR.to_owned(),
            instance: config.leader.identity.clone(),
        },
    );
    let debounce = config.queue_debounce();
    let notifications = notify::run(
        client.clone(),
        config.clone(),
        metrics.clone(),
        mailer,
        notify_events,
        job_store.clone(),
        shutdown.clone(),
    );
    let ctx = Arc::new(Context::new(
        client.clone(),
        config,
        metrics.clone(),
        recorder,
        queue.clone(),
        pod_store.clone(),
    ));

    let queue_task = queue::run(
        queue,
        client,
        metrics,
        job_store.clone(),
        pod_store,
        changed,
        debounce,
    );

    let seen: Mutex<HashMap<ObjectRef<DeserializeGuard<ImageJob>>, u64>> = Mutex::default();
    let triggers = job_events.filter(move |guard| {
        let fingerprint = reconcile_fingerprint(guard);
        let mut seen = seen.lock().unwrap_or_else(PoisonError::into_inner);
        let changed = seen.insert(ObjectRef::from_obj(&**guard), fingerprint) != Some(fingerprint);
        future::ready(changed)
    });
    let admitted = tokio_stream::wrappers::UnboundedReceiverStream::new(admitted).map(
        |r: ObjectRef<ImageJob>| {
            ObjectRef::new(&r.name).within(r.namespace.as_deref().unwrap_or_default())
        },
    );
    let controller = Controller::for_shared_stream(triggers, job_store)
        .owns_shared_stream(pod_events)
        .reconcile_on(admitted)
        .with_config(controller::Config::default().concurrency(CONCURRENCY))
        .graceful_shutdown_on(shutdown)
        .run(
            reconcile::reconcile_guarded,
            reconcile::error_policy_guarded,
            ctx,
        )
        .for_each(|result| {
            match result {
                Ok((object, _)) => debug!(job = %object.name, "reconciled"),
                Err(controller::Error::ReconcilerFailed(e, object)) => {
                    debug!(job = %object.name, error = %e, "reconcile failed")
                }
                Err(e) => warn!(error = %e, "controller"),
            }
            future::ready(())
        });

    // The controller and the notification side end on shutdown (the broker's connection
    // closed); the watches and the queue end with them.
    tokio::select! {
        _ = async { futures::join!(controller, notifications) } => {}
        () = job_watch => warn!("the ImageJob watch ended"),
        () = pod_watch => warn!("the Pod watch ended"),
        () = queue_task => warn!("the queue ended"),
    }
}

/// Drives a watch into its shared cache, logging errors (the watcher retries with backoff)
/// and notifying `changed` on every event.
async fn watch_into<K>(
    stream: impl futures::Stream<Item = watcher::Result<watcher::Event<K>>> + Send,
    writer: reflector::store::Writer<K>,
    changed: Arc<Notify>,
) where
    K: kube::Resource + Clone + Send + Sync + 'static,
    K::DynamicType: Eq + Hash + Clone + Default,
{
    stream
        .default_backoff()
        .reflect_shared(writer)
        .for_each(|event| {
            match event {
                Ok(_) => changed.notify_one(),
                Err(e) => warn!(error = %e, "watch failed; retrying"),
            }
            future::ready(())
        })
        .await;
}
