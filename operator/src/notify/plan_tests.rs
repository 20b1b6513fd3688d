use super::*;
use img_crd::DeliveryState;
use img_crd::{Artifact, Delivery, ImageJobSpec, LogRecord, Notifications};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use serde_json::{Value, json};

const HOUR: Duration = Duration::from_secs(3600);

fn channels() -> Channels<'static> {
    Channels {
        public_url: Some("https://img.example.org"),
        amqp: true,
        email: true,
        max_age: 24 * HOUR,
    }
}

fn at(secs_ago: i64) -> Time {
    Time(jiff::Timestamp::now() - jiff::SignedDuration::from_secs(secs_ago))
}

/// A job `nb` in `team` that started a minute ago and is now in `phase`.
fn job(phase: Phase) -> ImageJob {
    let mut job = ImageJob::new("nb", ImageJobSpec::default());
    job.metadata.namespace = Some("team".into());
    job.metadata.uid = Some("u-1".into());
    job.spec.notify.email = vec!["dev@example.org".into()];
    let mut status = ImageJobStatus {
        phase: Some(phase),
        legacy_id: Some("42".into()),
        start_time: Some(at(60)),
        ..Default::default()
    };
    if phase.is_finished() {
        status.completion_time = Some(at(1));
        status.log = Some(LogRecord {
            path: "team/nb/nb.log".into(),
            url: None,
        });
    }
    job.status = Some(status);
    job
}

fn bodies(due: &[AmqpNotice]) -> Vec<(&'static str, Value)> {
    due.iter()
        .map(|n| (n.queue, serde_json::from_slice(&n.body).unwrap()))
        .collect()
}

fn now() -> jiff::Timestamp {
    jiff::Timestamp::now()
}

#[test]
fn a_running_job_is_owed_its_log_message() {
    let due = amqp_due(&job(Phase::Running), channels(), now());
    assert_eq!(
        bodies(&due),
        [(
            RESULT_QUEUE,
            json!({"logfile": "team/nb/nb.log", "id": "42"})
        )]
    );
    let mut queued = job(Phase::Queued);
    queued.status.as_mut().unwrap().start_time = None;
    assert!(amqp_due(&queued, channels(), now()).is_empty());
}

#[test]
fn a_succeeded_job_is_owed_the_link_to_its_largest_artifact() {
    let mut j = job(Phase::Succeeded);
    let status = j.status.as_mut().unwrap();
    status.artifacts = vec![
        Artifact {
            name: "nb.xml".into(),
            size: 10,
            sha256: "a".into(),
            url: Some("https://img.example.org/images/team/nb/nb.xml".into()),
        },
        Artifact {
            name: "nb-sda.raw".into(),
            size: 1 << 30,
            sha256: "b".into(),
            url: Some("https://img.example.org/images/team/nb/nb-sda.raw".into()),
        },
    ];
    status.notifications = Some(Notifications {
        amqp: vec![Delivery {
            target: RESULT_QUEUE.into(),
            state: DeliveryState::Delivered,
            ..Default::default()
        }],
        email: None,
    });
    let due = amqp_due(&j, channels(), now());
    assert_eq!(
        bodies(&due),
        [(
            LINK_QUEUE,
            json!({"url": "https://img.example.org/images/team/nb/nb-sda.raw", "id": "42"})
        )]
    );
}

#[test]
fn a_failed_job_is_owed_the_error_with_its_log_url() {
    let mut j = job(Phase::Failed);
    let status = j.status.as_mut().unwrap();
    status.reason = Some("BuildFailed".into());
    status.message = Some("mic exited with status 1".into());
    let due = bodies(&amqp_due(&j, channels(), now()));
    assert_eq!(due.len(), 2);
    assert_eq!(
        due[1],
        (
            ERROR_QUEUE,
            json!({
                "error": "BuildFailed: mic exited with status 1",
                "id": "42",
                "url": "https://img.example.org/images/team/nb/nb.log"
            })
        )
    );

    // Refused before it ran: no log, the job page explains.
    let mut invalid = job(Phase::Failed);
    let status = invalid.status.as_mut().unwrap();
    status.start_time = None;
    status.log = None;
    status.reason = Some("InvalidKickstart".into());
    let due = bodies(&amqp_due(&invalid, channels(), now()));
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].1["url"], "https://img.example.org/job/team/nb");
}

#[test]
fn numeric_ids_stay_numbers() {
    let mut j = job(Phase::Running);
    j.metadata.annotations =
        Some([(labels::LEGACY_ID_NUMERIC.to_owned(), "true".to_owned())].into());
    let due = bodies(&amqp_due(&j, channels(), now()));
    assert_eq!(due[0].1["id"], json!(42));
}

#[test]
fn nothing_is_owed_when_turned_off_sent_or_too_old() {
    let mut off = job(Phase::Succeeded);
    off.spec.notify.amqp = false;
    assert!(amqp_due(&off, channels(), now()).is_empty());
    let no_bridge = Channels {
        amqp: false,
        ..channels()
    };
    assert!(amqp_due(&job(Phase::Succeeded), no_bridge, now()).is_empty());

    let mut old = job(Phase::Succeeded);
    old.status.as_mut().unwrap().completion_time = Some(at(25 * 3600));
    assert!(amqp_due(&old, channels(), now()).is_empty());
    assert_eq!(email_due(&old, channels(), now(), |_| HOUR), EmailDue::No);

    let mut done = job(Phase::Succeeded);
    let delivered = |target: &str| Delivery {
        target: target.into(),
        state: DeliveryState::Delivered,
        ..Default::default()
    };
    done.status.as_mut().unwrap().notifications = Some(Notifications {
        amqp: vec![delivered(RESULT_QUEUE), delivered(LINK_QUEUE)],
        email: Some(delivered("dev@example.org")),
    });
    assert!(!owes(&done, channels(), now(), |_| HOUR));
}

#[test]
fn the_email_waits_for_its_backoff_and_stops_when_final() {
    let j = job(Phase::Succeeded);
    assert_eq!(email_due(&j, channels(), now(), |_| HOUR), EmailDue::Now);
    assert_eq!(
        email_due(&job(Phase::Running), channels(), now(), |_| HOUR),
        EmailDue::No
    );
    let mut no_one = job(Phase::Succeeded);
    no_one.spec.notify.email.clear();
    assert_eq!(
        email_due(&no_one, channels(), now(), |_| HOUR),
        EmailDue::No
    );

    let mut retrying = job(Phase::Failed);
    retrying.status.as_mut().unwrap().notifications = Some(Notifications {
        amqp: Vec::new(),
        email: Some(Delivery {
            target: "dev@example.org".into(),
            state: DeliveryState::Retrying,
            attempts: 2,
            last_attempt_time: Some(at(10)),
            ..Default::default()
        }),
    });
    let backoff = |n: u32| Duration::from_secs(20 * u64::from(n));
    match email_due(&retrying, channels(), now(), backoff) {
        EmailDue::After(wait) => assert!(
            wait > Duration::from_secs(25) && wait <= Duration::from_secs(30),
            "{wait:?}"
        ),
        other => panic!("{other:?}"),
    }
    assert!(owes(&retrying, channels(), now(), backoff));
    assert_eq!(
        email_due(&retrying, channels(), now(), |_| Duration::from_secs(5)),
        EmailDue::Now
    );
    let record = retrying
        .status
        .as_mut()
        .unwrap()
        .notifications
        .as_mut()
        .unwrap();
    record.email.as_mut().unwrap().state = DeliveryState::GaveUp;
    assert_eq!(
        email_due(&retrying, channels(), now(), backoff),
        EmailDue::No
    );
}
