//! The notifier: a second controller over the same ImageJob cache that tells the outside world
//! how jobs went — the 2010 result messages on AMQP and the completion e-mail — and records
//! each delivery in `status.notifications` so nothing is sent twice across restarts, leader
//! changes and broker outages (at least once; a message whose confirm arrived but whose record
//! was not yet written is sent again, with the same `message_id`).

pub mod email;
pub mod plan;
mod record;
mod wiring;

pub use wiring::run;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use img_crd::{Delivery, DeliveryState, ImageJob, Notifications};
use kube::api::{Patch, PatchParams};
use kube::core::DeserializeGuard;
use kube::runtime::controller::Action;
use kube::{Api, Client, ResourceExt};
use lapin::BasicProperties;
use lapin::types::{AMQPValue, FieldTable};
use serde_json::json;
use tracing::{info, warn};

use self::email::{MailError, Mailer};
use self::plan::{AmqpNotice, Channels, EmailDue, amqp_due, email_due};
use crate::amqp::broker::Broker;
use crate::amqp::topology::exchange_of;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::metrics::{Metrics, QueueLabels};
use crate::status::now;

/// Everything the notifier needs.
pub struct Notifier {
    client: Client,
    config: Config,
    broker: Option<Broker>,
    mailer: Option<Mailer>,
    metrics: Metrics,
    /// Failed publishing attempts per job uid (the backoff while the broker is away).
    failures: Mutex<HashMap<String, u32>>,
    /// What this operator last wrote per job uid, until the watch cache shows it: a reconcile
    /// that runs on a cache still without the record must not send again.
    written: Mutex<HashMap<String, Notifications>>,
}

/// What the deployment's settings let it send.
pub fn channels(config: &Config) -> Channels<'_> {
    Channels {
        public_url: config.public_url.as_deref(),
        amqp: config.amqp.url.is_some(),
        email: config.smtp.host.is_some(),
        max_age: Duration::from_secs(config.notify.max_age_seconds),
    }
}

impl Notifier {
    /// A notifier; `broker` and `mailer` are absent when not configured.
    pub fn new(
        client: Client,
        config: Config,
        broker: Option<Broker>,
        mailer: Option<Mailer>,
        metrics: Metrics,
    ) -> Notifier {
        Notifier {
            client,
            config,
            broker,
            mailer,
            metrics,
            failures: Mutex::default(),
            written: Mutex::default(),
        }
    }

    /// Whether `job` may be owed something (a cheap filter for watch events).
    pub fn may_owe(&self, job: &ImageJob) -> bool {
        let now = jiff::Timestamp::now();
        let job = self.with_written(job);
        !amqp_due(&job, self.channels(), now).is_empty()
            || email_due(&job, self.channels(), now, |n| {
                self.config.notify.backoff(n)
            }) != EmailDue::No
    }

    fn channels(&self) -> Channels<'_> {
        channels(&self.config)
    }

    /// `job` with what this operator wrote and the cache may not show yet.
    fn with_written(&self, job: &ImageJob) -> ImageJob {
        let uid = job.uid().unwrap_or_default();
        let mut written = self.written.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(mine) = written.get(&uid) else {
            return job.clone();
        };
        let mut job = job.clone();
        let status = job.status.get_or_insert_with(Default::default);
        let (merged, caught_up) = record::merge(status.notifications.as_ref(), mine);
        if caught_up {
            written.remove(&uid);
        }
        status.notifications = Some(merged);
        job
    }

    fn failed(&self, uid: &str) -> u32 {
        let mut failures = self.failures.lock().unwrap_or_else(PoisonError::into_inner);
        let n = failures.entry(uid.to_owned()).or_default();
        *n = n.saturating_add(1);
        *n
    }

    fn succeeded(&self, uid: &str) -> u32 {
        let mut failures = self.failures.lock().unwrap_or_else(PoisonError::into_inner);
        failures.remove(uid).unwrap_or_default()
    }

    /// Publishes what `job` is owed on AMQP, in order, until one fails. Returns how long to
    /// wait before trying again, if something failed.
    async fn publish(
        &self,
        job: &ImageJob,
        due: Vec<AmqpNotice>,
        record: &mut Notifications,
    ) -> Option<Duration> {
        let broker = self.broker.as_ref()?;
        let uid = job.uid().unwrap_or_default();
        for notice in due {
            let properties = BasicProperties::default()
                .with_content_type("application/json".into())
                .with_delivery_mode(2)
                .with_app_id("img-operator".into())
                // Consumers that want exactly once deduplicate on this.
                .with_message_id(format!("{uid}/{}", notice.queue).into())
                .with_timestamp(u64::try_from(jiff::Timestamp::now().as_second()).unwrap_or(0))
                .with_headers(job_header(job));
            let published = broker
                .publish(
                    exchange_of(notice.queue),
                    notice.queue,
                    &notice.body,
                    properties,
                )
                .await;
            match published {
                Ok(()) => {
                    let failures = self.succeeded(&uid);
                    let at = now();
                    self.metrics
                        .amqp_published
                        .get_or_create(&QueueLabels {
                            queue: notice.queue.to_owned(),
                        })
                        .inc();
                    self.metrics.notified("amqp", "delivered");
                    self.observe_delay(job);
                    record.amqp.push(Delivery {
                        target: notice.queue.to_owned(),
                        state: DeliveryState::Delivered,
                        attempts: failures + 1,
                        last_attempt_time: Some(at.clone()),
                        delivered_time: Some(at),
                        message: None,
                    });
                }
                Err(e) => {
                    self.metrics.notified("amqp", "failed");
                    let failures = self.failed(&uid);
                    let wait = self.config.notify.backoff(failures);
                    warn!(job = %job.name_any(), queue = notice.queue, error = %e, retry_in = ?wait, "result message not published");
                    return Some(wait);
                }
            }
        }
        None
    }

    /// Sends the completion e-mail and records the attempt. Returns how long to wait before
    /// the next attempt, if it failed and may be tried again.
    async fn mail(&self, job: &ImageJob, record: &mut Notifications) -> Option<Duration> {
        let mailer = self.mailer.as_ref()?;
        let previous = record.email.as_ref().map_or(0, |e| e.attempts);
        let attempts = previous + 1;
        let sent = match email::compose(job, mailer.from(), self.config.public_url.as_deref()) {
            Ok(message) => {
                let limit = Duration::from_secs(self.config.smtp.timeout_seconds.max(1) * 2);
                match tokio::time::timeout(limit, mailer.send(message)).await {
                    Ok(sent) => sent,
                    Err(_) => Err(MailError::Timeout(limit)),
                }
            }
            Err(e) => Err(e),
        };
        let at = now();
        let target = job.spec.notify.email.join(", ");
        let (state, message, wait) = match sent {
            Ok(()) => {
                self.metrics.notified("email", "delivered");
                self.observe_delay(job);
                info!(job = %job.name_any(), to = %target, "completion e-mail sent");
                (DeliveryState::Delivered, None, None)
            }
            Err(e) if e.is_permanent() || attempts >= self.config.smtp.max_attempts => {
                self.metrics.notified("email", "gave_up");
                warn!(job = %job.name_any(), to = %target, attempts, error = %e, "giving up on the completion e-mail");
                (DeliveryState::GaveUp, Some(e.to_string()), None)
            }
            Err(e) => {
                self.metrics.notified("email", "failed");
                let wait = self.config.notify.backoff(attempts);
                warn!(job = %job.name_any(), to = %target, attempts, error = %e, retry_in = ?wait, "completion e-mail not sent");
                (DeliveryState::Retrying, Some(e.to_string()), Some(wait))
            }
        };
        record.email = Some(Delivery {
            target,
            state,
            attempts,
            last_attempt_time: Some(at.clone()),
            delivered_time: (state == DeliveryState::Delivered).then_some(at),
            message: message.map(|m| img_crd::runner::shorten(&m, 1024)),
        });
        wait
    }

    fn observe_delay(&self, job: &ImageJob) {
        let status = job.status.as_ref();
        if let Some(end) = status.and_then(|s| s.completion_time.as_ref().or(s.start_time.as_ref()))
        {
            let delay = jiff::Timestamp::now().duration_since(end.0).as_secs_f64();
            self.metrics.notify_delay_seconds.observe(delay.max(0.0));
        }
    }
}

/// `x-img-job: <namespace>/<name>`, for people reading queues.
fn job_header(job: &ImageJob) -> FieldTable {
    let mut headers = FieldTable::default();
    let name = format!("{}/{}", job.namespace().unwrap_or_default(), job.name_any());
    headers.insert("x-img-job".into(), AMQPValue::LongString(name.into()));
    headers
}

/// Sends what one job is owed and records it.
pub async fn reconcile(
    guard: Arc<DeserializeGuard<ImageJob>>,
    notifier: Arc<Notifier>,
) -> Result<Action> {
    let Ok(job) = &guard.0 else {
        return Ok(Action::await_change());
    };
    let job = notifier.with_written(job);
    let now = jiff::Timestamp::now();
    let before = job
        .status
        .as_ref()
        .and_then(|s| s.notifications.clone())
        .unwrap_or_default();
    let mut record = before.clone();
    let mut again = notifier
        .publish(&job, amqp_due(&job, notifier.channels(), now), &mut record)
        .await;
    let backoff = |n| notifier.config.notify.backoff(n);
    let mail_wait = match email_due(&job, notifier.channels(), now, backoff) {
        EmailDue::No => None,
        EmailDue::After(wait) => Some(wait),
        EmailDue::Now => notifier.mail(&job, &mut record).await,
    };
    again = match (again, mail_wait) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    if record != before {
        write(&notifier.client, &job, &record).await?;
        notifier
            .written
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(job.uid().unwrap_or_default(), record);
        notifier.metrics.status_written("notifier");
    }
    Ok(again.map_or_else(Action::await_change, Action::requeue))
}

/// Writes `record` as `job`'s `status.notifications`.
async fn write(client: &Client, job: &ImageJob, record: &Notifications) -> Result<()> {
    let ns = job
        .namespace()
        .ok_or(Error::Missing("metadata.namespace"))?;
    let api: Api<ImageJob> = Api::namespaced(client.clone(), &ns);
    let patch = json!({"status": {"notifications": record}});
    match api
        .patch_status(
            &job.name_any(),
            &PatchParams::default(),
            &Patch::Merge(patch),
        )
        .await
    {
        Ok(_) => Ok(()),
        // Deleted meanwhile: nothing left to record on.
        Err(kube::Error::Api(e)) if e.code == 404 => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Transient errors (the status write) are retried with the notification backoff.
pub fn error_policy(
    guard: Arc<DeserializeGuard<ImageJob>>,
    error: &Error,
    notifier: Arc<Notifier>,
) -> Action {
    let uid = guard
        .0
        .as_ref()
        .ok()
        .and_then(|j| j.uid())
        .unwrap_or_default();
    let failures = notifier.failed(&uid);
    warn!(error = %error, "notifier reconcile failed");
    Action::requeue(notifier.config.notify.backoff(failures))
}
