//! Prometheus metrics, served on `/metrics` by [`crate::admin`].

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::{Family, MetricConstructor};
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// Labels of a finished job.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabels {
    /// Succeeded, Failed or Cancelled.
    pub phase: String,
    /// The status reason.
    pub reason: String,
}

/// Labels naming an image type.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TypeLabels {
    /// The image type.
    pub image_type: String,
}

/// Labels naming a kind of error or writer.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct KindLabels {
    /// What kind.
    pub kind: String,
}

/// Labels naming an AMQP queue.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct QueueLabels {
    /// The queue.
    pub queue: String,
}

/// Labels of an ingress message's fate.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct IngressLabels {
    /// The queue it came from.
    pub queue: String,
    /// `created`, `duplicate`, `dead_lettered` or `requeued`.
    pub outcome: String,
}

/// Labels of a notification's fate.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ChannelLabels {
    /// `amqp` or `email`.
    pub channel: String,
    /// `delivered`, `failed` or `gave_up`.
    pub outcome: String,
}

/// Makes run-time histograms: builds take minutes to hours, so buckets run from 10 s to about 6 h.
#[derive(Clone)]
pub struct RunBuckets;

impl MetricConstructor<Histogram> for RunBuckets {
    fn new_metric(&self) -> Histogram {
        Histogram::new(exponential_buckets(10.0, 2.0, 12))
    }
}

/// The operator's metrics. Cheap to clone (every field is a shared handle).
#[derive(Clone)]
pub struct Metrics {
    /// Jobs waiting in the queue.
    pub queue_depth: Gauge,
    /// Jobs holding a runner slot.
    pub running: Gauge,
    /// 1 while this replica leads.
    pub leader: Gauge,
    /// Seconds from creation to the start of the runner.
    pub wait_seconds: Histogram,
    /// Seconds from runner start to the end, by image type.
    pub run_seconds: Family<TypeLabels, Histogram, RunBuckets>,
    /// Finished jobs by phase and reason.
    pub outcomes: Family<OutcomeLabels, Counter>,
    /// Reconcile calls.
    pub reconciles: Counter,
    /// Failed reconciles by error kind.
    pub reconcile_errors: Family<KindLabels, Counter>,
    /// Status writes by writer (`reconciler`, `queue`); each one changed something.
    pub status_writes: Family<KindLabels, Counter>,
    /// Pods, Secrets and Events created.
    pub objects_created: Family<KindLabels, Counter>,
    /// 1 while connected to the AMQP broker.
    pub amqp_connected: Gauge,
    /// AMQP connections made (more than one: reconnections).
    pub amqp_connections: Counter,
    /// Failed attempts to connect to the AMQP broker.
    pub amqp_connect_failures: Counter,
    /// Messages the broker confirmed, by queue.
    pub amqp_published: Family<QueueLabels, Counter>,
    /// Ingress messages by queue and fate.
    pub amqp_ingress: Family<IngressLabels, Counter>,
    /// Notification attempts by channel and outcome.
    pub notifications: Family<ChannelLabels, Counter>,
    /// Seconds from a job's end to the delivery of its notification.
    pub notify_delay_seconds: Histogram,
}

impl Metrics {
    /// Creates the metrics and registers them in `registry` under the `img_` prefix.
    pub fn register(registry: &mut Registry) -> Metrics {
        let m = Metrics {
            queue_depth: Gauge::default(),
            running: Gauge::default(),
            leader: Gauge::default(),
            wait_seconds: Histogram::new(exponential_buckets(1.0, 2.0, 16)),
            run_seconds: Family::new_with_constructor(RunBuckets),
            outcomes: Family::default(),
            reconciles: Counter::default(),
            reconcile_errors: Family::default(),
            status_writes: Family::default(),
            objects_created: Family::default(),
            amqp_connected: Gauge::default(),
            amqp_connections: Counter::default(),
            amqp_connect_failures: Counter::default(),
            amqp_published: Family::default(),
            amqp_ingress: Family::default(),
            notifications: Family::default(),
            notify_delay_seconds: Histogram::new(exponential_buckets(0.01, 4.0, 12)),
        };
        let r = registry.sub_registry_with_prefix("img");
        r.register(
            "queue_depth",
            "ImageJobs waiting for a runner",
            m.queue_depth.clone(),
        );
        r.register(
            "running_jobs",
            "ImageJobs holding a runner slot",
            m.running.clone(),
        );
        r.register(
            "leader",
            "1 while this operator replica holds the leader Lease",
            m.leader.clone(),
        );
        r.register(
            "queue_wait_seconds",
            "Time from an ImageJob's creation to the start of its runner",
            m.wait_seconds.clone(),
        );
        r.register(
            "run_seconds",
            "Time from runner start to the end of the job, by image type",
            m.run_seconds.clone(),
        );
        r.register(
            "jobs_finished",
            "Finished ImageJobs by phase and reason",
            m.outcomes.clone(),
        );
        r.register("reconciles", "Reconcile calls", m.reconciles.clone());
        r.register(
            "reconcile_errors",
            "Failed reconcile calls by error kind",
            m.reconcile_errors.clone(),
        );
        r.register(
            "status_writes",
            "ImageJob status writes by writer; the operator writes only changes",
            m.status_writes.clone(),
        );
        r.register(
            "objects_created",
            "Objects the operator created, by kind",
            m.objects_created.clone(),
        );
        r.register(
            "amqp_connected",
            "1 while connected to the AMQP broker",
            m.amqp_connected.clone(),
        );
        r.register(
            "amqp_connections",
            "AMQP connections made; more than one means the operator reconnected",
            m.amqp_connections.clone(),
        );
        r.register(
            "amqp_connect_failures",
            "Failed attempts to connect to the AMQP broker",
            m.amqp_connect_failures.clone(),
        );
        r.register(
            "amqp_published",
            "Messages the AMQP broker confirmed, by queue",
            m.amqp_published.clone(),
        );
        r.register(
            "amqp_ingress_messages",
            "Messages taken from kickstarter_queue and image_queue, by queue and outcome",
            m.amqp_ingress.clone(),
        );
        r.register(
            "notification_attempts",
            "Notification attempts by channel (amqp, email) and outcome",
            m.notifications.clone(),
        );
        r.register(
            "notification_delay_seconds",
            "Time from a job's end to the delivery of a notification about it",
            m.notify_delay_seconds.clone(),
        );
        m
    }

    /// Counts a notification attempt on `channel` with `outcome`.
    pub fn notified(&self, channel: &str, outcome: &str) {
        self.notifications
            .get_or_create(&ChannelLabels {
                channel: channel.to_owned(),
                outcome: outcome.to_owned(),
            })
            .inc();
    }

    /// Counts an ingress message from `queue` with `outcome`.
    pub fn ingress(&self, queue: &str, outcome: &str) {
        self.amqp_ingress
            .get_or_create(&IngressLabels {
                queue: queue.to_owned(),
                outcome: outcome.to_owned(),
            })
            .inc();
    }

    /// Counts a status write by `writer`.
    pub fn status_written(&self, writer: &str) {
        self.status_writes
            .get_or_create(&KindLabels {
                kind: writer.to_owned(),
            })
            .inc();
    }

    /// Counts a job that ended in `phase` for `reason`.
    pub fn finished(&self, phase: img_crd::Phase, reason: &str) {
        self.outcomes
            .get_or_create(&OutcomeLabels {
                phase: phase.as_str().to_owned(),
                reason: reason.to_owned(),
            })
            .inc();
    }

    /// Counts an object of `kind` created.
    pub fn created(&self, kind: &str) {
        self.objects_created
            .get_or_create(&KindLabels {
                kind: kind.to_owned(),
            })
            .inc();
    }
}
