use super::*;
use img_crd::{Artifact, ImageJobSpec, ImageType, Stage, StageOutcome, StageRecord};

fn at(secs: i64) -> Time {
    Time(jiff::Timestamp::from_second(1_700_000_000 + secs).unwrap())
}

fn job(phase: Phase) -> ImageJob {
    let mut job = ImageJob::new("nb", ImageJobSpec::default());
    job.metadata.namespace = Some("team".into());
    job.metadata.creation_timestamp = Some(at(0));
    job.spec.notify.email = vec!["dev@example.org".into(), "qa@example.org".into()];
    job.status = Some(ImageJobStatus {
        phase: Some(phase),
        image_type: Some(ImageType::Raw),
        legacy_id: Some("42".into()),
        queued_time: Some(at(1)),
        start_time: Some(at(13)),
        completion_time: Some(at(13 + 3723)),
        stages: vec![StageRecord {
            name: Stage::Boot,
            started_at: Some(at(14)),
            finished_at: Some(at(21)),
            outcome: Some(StageOutcome::Succeeded),
            message: None,
        }],
        artifacts: vec![Artifact {
            name: "nb-sda.raw".into(),
            size: 2048,
            sha256: "ab12".into(),
            url: None,
        }],
        reason: (phase != Phase::Succeeded).then(|| "BuildFailed".to_owned()),
        message: (phase != Phase::Succeeded).then(|| "mic exited with status 1".to_owned()),
        ..Default::default()
    });
    job
}

fn from() -> Mailbox {
    "IMG <img@example.org>".parse().unwrap()
}

fn formatted(job: &ImageJob) -> String {
    String::from_utf8(
        compose(job, &from(), Some("https://img.example.org"))
            .unwrap()
            .formatted(),
    )
    .unwrap()
}

#[test]
fn a_success_mail_has_the_link_checksums_and_durations() {
    let mail = formatted(&job(Phase::Succeeded));
    assert!(
        mail.contains("To: dev@example.org, qa@example.org\r\n"),
        "{mail}"
    );
    assert!(
        mail.contains("Subject: [IMG] team/nb (raw): Succeeded\r\n"),
        "{mail}"
    );
    let body = body(&job(Phase::Succeeded), Some("https://img.example.org"));
    assert!(
        body.starts_with("Your raw image team/nb is ready.\n"),
        "{body}"
    );
    assert!(
        body.contains("Download: https://img.example.org/images/team/nb/nb-sda.raw\n"),
        "{body}"
    );
    assert!(
        body.contains("  nb-sda.raw  2048 bytes  sha256 ab12\n"),
        "{body}"
    );
    assert!(
        body.contains("Log: https://img.example.org/images/team/nb/nb.log\n"),
        "{body}"
    );
    assert!(body.contains("Job id: 42\n"), "{body}");
    assert!(body.contains("Waited in the queue: 12 s\n"), "{body}");
    assert!(body.contains("Build took: 1 h 2 min 3 s\n"), "{body}");
    assert!(body.contains("  boot         7 s\n"), "{body}");
}

#[test]
fn a_failure_mail_has_the_reason_and_the_log() {
    let body = body(&job(Phase::Failed), Some("https://img.example.org"));
    assert!(
        body.starts_with("Your raw image job team/nb failed.\n"),
        "{body}"
    );
    assert!(
        body.contains("Error: BuildFailed: mic exited with status 1\n"),
        "{body}"
    );
    assert!(!body.contains("Download:"), "{body}");
    let mail = formatted(&job(Phase::Failed));
    assert!(
        mail.contains("Subject: [IMG] team/nb (raw): Failed\r\n"),
        "{mail}"
    );
}

#[test]
fn nothing_from_a_job_can_add_a_header() {
    let mut hostile = job(Phase::Succeeded);
    hostile.spec.notify.email = vec![
        "dev@example.org\r\nBcc: spy@evil.example".into(),
        "Spy <spy@evil.example>".into(),
        "a@b.org, c@d.org".into(),
        "qa@example.org".into(),
    ];
    hostile.status.as_mut().unwrap().message = Some("x\r\nBcc: spy@evil.example".into());
    let mail = String::from_utf8(compose(&hostile, &from(), None).unwrap().formatted()).unwrap();
    let (headers, _) = mail.split_once("\r\n\r\n").unwrap();
    assert!(!headers.to_lowercase().contains("bcc"), "{headers}");
    assert!(!headers.contains("evil"), "{headers}");
    assert!(headers.contains("To: qa@example.org\r\n"), "{headers}");

    hostile.spec.notify.email = vec!["nobody\r\n@x".into()];
    let e = compose(&hostile, &from(), None).unwrap_err();
    assert!(
        matches!(e, MailError::NoRecipient(_)) && e.is_permanent(),
        "{e}"
    );
}

#[test]
fn subjects_lose_control_characters() {
    let mut j = job(Phase::Succeeded);
    j.metadata.name = Some("a\r\nBcc: x@y.z".into());
    assert_eq!(subject(&j), "[IMG] team/a  Bcc: x@y.z (raw): Succeeded");
}

#[test]
fn pem_bundles_split_into_certificates() {
    let one = "-----BEGIN CERTIFICATE-----\nAAA\n-----END CERTIFICATE-----";
    let two = format!("# a comment\n{one}\n{one}\n");
    assert_eq!(split_pem(two.as_bytes()).len(), 2);
    assert!(split_pem(b"no certificates").is_empty());
}

#[tokio::test]
async fn mailers_are_made_only_when_configured() {
    use clap::Parser;
    #[derive(Parser)]
    struct Flags {
        #[command(flatten)]
        smtp: SmtpConfig,
    }
    let none = Flags::parse_from(["x"]).smtp;
    assert!(Mailer::new(&none).unwrap().is_none());
    let plain = Flags::parse_from(["x", "--smtp-host", "127.0.0.1", "--smtp-tls", "none"]).smtp;
    assert_eq!(plain.port(), 25);
    assert!(Mailer::new(&plain).unwrap().is_some());
    let bad = Flags::parse_from(["x", "--smtp-host", "h", "--mail-from", "not an address"]).smtp;
    let e = Mailer::new(&bad).err().unwrap();
    assert!(
        e.to_string().starts_with("--mail-from \"not an address\":"),
        "{e}"
    );
}
