//! Which notifications a job is owed, from its spec and status alone. Pure.
//!
//! - `result_queue` `{'logfile', 'id'}` once the runner has started (its log exists);
//! - `link_queue` `{'url', 'id'}` when it Succeeded;
//! - `error_queue` `{'error', 'id', 'url'}` when it Failed or was Cancelled (the URL of the
//!   log, or of the job page when it never ran);
//! - the e-mail when it ended, to `spec.notify.email`.
//!
//! What `status.notifications` records as done is not owed again; jobs that ended longer ago
//! than `--notify-max-age-seconds` are owed nothing.

use std::time::Duration;

use img_crd::{ImageJob, ImageJobStatus, Phase, labels, urls};
use kube::ResourceExt;

use crate::amqp::messages::{ErrorMessage, LegacyId, LinkMessage, ResultMessage};
use crate::amqp::topology::{ERROR_QUEUE, LINK_QUEUE, RESULT_QUEUE};

/// What the deployment can send.
#[derive(Debug, Clone, Copy)]
pub struct Channels<'a> {
    /// The web frontend's public base URL (links are relative paths without it).
    pub public_url: Option<&'a str>,
    /// Whether there is an AMQP bridge.
    pub amqp: bool,
    /// Whether there is a mail server.
    pub email: bool,
    /// Jobs that ended longer ago than this are owed nothing.
    pub max_age: Duration,
}

/// A result message that is owed.
#[derive(Debug, Clone, PartialEq)]
pub struct AmqpNotice {
    /// The result queue.
    pub queue: &'static str,
    /// The JSON body.
    pub body: Vec<u8>,
}

/// The e-mail, if owed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmailDue {
    /// Nothing to send.
    No,
    /// Send it now.
    Now,
    /// Try again after this long (the last attempt failed).
    After(Duration),
}

/// Whether `job` is owed a notification, now or after a failed attempt's backoff (while it is,
/// its TTL waits).
pub fn owes(
    job: &ImageJob,
    channels: Channels<'_>,
    now: jiff::Timestamp,
    backoff: impl Fn(u32) -> Duration,
) -> bool {
    !amqp_due(job, channels, now).is_empty()
        || email_due(job, channels, now, backoff) != EmailDue::No
}

fn status(job: &ImageJob) -> Option<&ImageJobStatus> {
    job.status.as_ref()
}

/// Whether the job ended longer than `max_age` before `now` (or started that long ago and
/// has not ended).
fn too_old(status: &ImageJobStatus, max_age: Duration, now: jiff::Timestamp) -> bool {
    let Some(at) = status
        .completion_time
        .as_ref()
        .or(status.start_time.as_ref())
    else {
        return false;
    };
    let age = now.duration_since(at.0);
    age.is_positive() && age.unsigned_abs() > max_age
}

/// The job's 2010 id, in the form it arrived in.
pub fn legacy_id(job: &ImageJob) -> LegacyId {
    let text = status(job)
        .and_then(|s| s.legacy_id.clone())
        .or_else(|| job.spec.legacy_id.clone())
        .unwrap_or_else(|| job.uid().unwrap_or_default());
    let numeric = job
        .annotations()
        .get(labels::LEGACY_ID_NUMERIC)
        .map(String::as_str)
        == Some("true");
    LegacyId::restore(&text, numeric)
}

/// The log file, relative to the images volume.
pub fn log_path(job: &ImageJob) -> String {
    let (ns, name) = (job.namespace().unwrap_or_default(), job.name_any());
    status(job)
        .and_then(|s| s.log.as_ref())
        .map(|l| l.path.clone())
        .unwrap_or_else(|| format!("{}/{}", urls::job_dir(&ns, &name), urls::log_file(&name)))
}

/// Where to read the job's log: the log file when the runner started, else the job page
/// (which shows why it never ran).
pub fn log_url(job: &ImageJob, public_url: Option<&str>) -> String {
    let (ns, name) = (job.namespace().unwrap_or_default(), job.name_any());
    let base = public_url.unwrap_or_default();
    if status(job).is_some_and(|s| s.start_time.is_some()) {
        let path = log_path(job);
        let file = path.rsplit('/').next().unwrap_or_default();
        urls::artifact_url(base, &ns, &name, file)
    } else {
        urls::job_url(base, &ns, &name)
    }
}

/// The image's URL: the largest artifact (a build may leave a manifest or checksums beside
/// its image).
pub fn image_url(job: &ImageJob, public_url: Option<&str>) -> Option<String> {
    let (ns, name) = (job.namespace().unwrap_or_default(), job.name_any());
    let image = status(job)?.artifacts.iter().max_by_key(|a| a.size)?;
    Some(image.url.clone().unwrap_or_else(|| {
        urls::artifact_url(public_url.unwrap_or_default(), &ns, &name, &image.name)
    }))
}

/// The failure as the 2010 error message put it: reason and message.
pub fn failure_text(status: &ImageJobStatus) -> String {
    match (&status.reason, &status.message) {
        (Some(r), Some(m)) => format!("{r}: {m}"),
        (Some(r), None) => r.clone(),
        (None, Some(m)) => m.clone(),
        (None, None) => "the job ended without an image".to_owned(),
    }
}

/// The result messages `job` is owed now, in the order they are sent.
pub fn amqp_due(job: &ImageJob, channels: Channels<'_>, now: jiff::Timestamp) -> Vec<AmqpNotice> {
    let Some(status) = status(job) else {
        return Vec::new();
    };
    if !channels.amqp || !job.spec.notify.amqp || too_old(status, channels.max_age, now) {
        return Vec::new();
    }
    let sent = |queue: &str| {
        status
            .notifications
            .as_ref()
            .is_some_and(|n| n.amqp_to(queue).is_some())
    };
    let id = legacy_id(job);
    let json = |v: serde_json::Result<Vec<u8>>| v.unwrap_or_default();
    let mut due = Vec::new();
    if status.start_time.is_some() && !sent(RESULT_QUEUE) {
        let body = ResultMessage {
            logfile: log_path(job),
            id: id.clone(),
        };
        due.push(AmqpNotice {
            queue: RESULT_QUEUE,
            body: json(serde_json::to_vec(&body)),
        });
    }
    match status.phase {
        Some(Phase::Succeeded) if !sent(LINK_QUEUE) => {
            let body = LinkMessage {
                url: image_url(job, channels.public_url).unwrap_or_default(),
                id,
            };
            due.push(AmqpNotice {
                queue: LINK_QUEUE,
                body: json(serde_json::to_vec(&body)),
            });
        }
        Some(Phase::Failed | Phase::Cancelled) if !sent(ERROR_QUEUE) => {
            let body = ErrorMessage {
                error: failure_text(status),
                id,
                url: log_url(job, channels.public_url),
            };
            due.push(AmqpNotice {
                queue: ERROR_QUEUE,
                body: json(serde_json::to_vec(&body)),
            });
        }
        _ => {}
    }
    due
}

/// Whether the completion e-mail is owed, now or later. `backoff(n)` is the wait after `n`
/// failed attempts; `max_attempts` is enforced when recording (the state becomes GaveUp).
pub fn email_due(
    job: &ImageJob,
    channels: Channels<'_>,
    now: jiff::Timestamp,
    backoff: impl Fn(u32) -> Duration,
) -> EmailDue {
    let Some(status) = status(job) else {
        return EmailDue::No;
    };
    let finished = status.phase.is_some_and(Phase::is_finished);
    if !channels.email
        || !finished
        || job.spec.notify.email.is_empty()
        || too_old(status, channels.max_age, now)
    {
        return EmailDue::No;
    }
    let Some(record) = status.notifications.as_ref().and_then(|n| n.email.as_ref()) else {
        return EmailDue::Now;
    };
    if record.state.is_final() {
        return EmailDue::No;
    }
    let Some(last) = &record.last_attempt_time else {
        return EmailDue::Now;
    };
    let next = last
        .0
        .checked_add(backoff(record.attempts.max(1)))
        .unwrap_or(last.0);
    match Duration::try_from(next.duration_since(now)) {
        Ok(wait) if !wait.is_zero() => EmailDue::After(wait),
        _ => EmailDue::Now,
    }
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
