//! The completion e-mail through a real SMTP server (aiosmtpd): what it says, a server that is
//! down for a while, STARTTLS with a login, a login the server refuses, and SMTPS.

use std::time::Duration;

use img_crd::{DeliveryState, ImageJob, Phase};
use img_operator::run::Operator;
use img_tests::services::smtp::{SmtpOptions, SmtpServer};

use crate::env::{Env, spec};
use crate::{metric, metrics, services_here};

/// An operator mailing through `server`, with `extra` flags (quick retries).
async fn mailing_operator(env: &Env, server: &SmtpServer, extra: &[&str]) -> Operator {
    let port = server.port().to_string();
    let mut flags = vec![
        "--smtp-host",
        "127.0.0.1",
        "--smtp-port",
        &port,
        "--mail-from",
        "IMG <img@img.test>",
        "--notify-backoff-ms",
        "300",
        "--notify-backoff-max-seconds",
        "1",
        "--smtp-timeout-seconds",
        "5",
    ];
    flags.extend_from_slice(extra);
    env.operator(&flags).await
}

/// An operator mailing through `server` with TLS `mode` (`starttls` or `tls`, trusting the
/// server's CA) and the login `img`/`password`.
async fn secure_operator(env: &Env, server: &SmtpServer, mode: &str, password: &str) -> Operator {
    let ca = server.ca_certificate().display().to_string();
    let login = ["--smtp-username", "img", "--smtp-password", password];
    let tls = ["--smtp-tls", mode, "--smtp-ca-file", &ca];
    mailing_operator(env, server, &[&tls[..], &login[..]].concat()).await
}

async fn smtp(options: SmtpOptions) -> SmtpServer {
    tokio::task::spawn_blocking(move || SmtpServer::start(options).unwrap())
        .await
        .unwrap()
}

fn mailed(job: &ImageJob) -> Option<img_crd::Delivery> {
    job.status.as_ref()?.notifications.as_ref()?.email.clone()
}

/// Waits until the mail server holds `n` messages.
async fn wait_mail(server: &SmtpServer, n: usize) -> Vec<String> {
    crate::support::eventually(60, || async {
        let got = server.messages();
        (got.len() >= n).then_some(got)
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn success_and_failure_mails_arrive_with_their_links() {
    if !services_here(false) {
        return;
    }
    let server = smtp(SmtpOptions::default()).await;
    let env = Env::start().await;
    let operator = mailing_operator(&env, &server, &["--smtp-tls", "none"]).await;
    let mut ok = spec("succeed");
    ok.notify.email = vec!["dev@example.org".into(), "qa@example.org".into()];
    env.create("default", "nb", ok).await;
    let mut bad = spec("fail");
    bad.notify.email = vec!["dev@example.org".into()];
    env.create("default", "broken", bad).await;
    env.create("default", "silent", spec("succeed")).await;

    let mails = wait_mail(&server, 2).await;
    let success = mails
        .iter()
        .find(|m| m.contains("Subject: [IMG] default/nb (raw): Succeeded"))
        .expect("success mail");
    assert!(success.contains("From: IMG <img@img.test>"), "{success}");
    assert!(
        success.contains("To: dev@example.org, qa@example.org"),
        "{success}"
    );
    assert!(
        success.contains("Download: http://img.test/images/default/nb/nb.raw"),
        "{success}"
    );
    assert!(success.contains("Build took: "), "{success}");
    let failure = mails
        .iter()
        .find(|m| m.contains("Subject: [IMG] default/broken (raw): Failed"))
        .expect("failure mail");
    assert!(
        failure.contains("Error: BuildFailed: mic2 exited with status 1"),
        "{failure}"
    );
    assert!(
        failure.contains("Log: http://img.test/images/default/broken/broken.log"),
        "{failure}"
    );

    let job = env
        .wait_for("default", "nb", "mailed", |j| {
            mailed(j).is_some_and(|d| d.state == DeliveryState::Delivered)
        })
        .await;
    let record = mailed(&job).unwrap();
    assert_eq!(record.attempts, 1);
    assert_eq!(record.target, "dev@example.org, qa@example.org");
    env.wait_phase("default", "silent", Phase::Succeeded).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        server.messages().len(),
        2,
        "a job with no address is not mailed"
    );
    operator.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mail_server_that_is_down_gets_the_mail_when_it_is_back() {
    if !services_here(false) {
        return;
    }
    let mut server = smtp(SmtpOptions::default()).await;
    server.stop();
    let env = Env::start().await;
    let operator = mailing_operator(&env, &server, &["--smtp-tls", "none"]).await;
    let mut job = spec("succeed");
    job.notify.email = vec!["dev@example.org".into()];
    env.create("default", "nb", job).await;
    let waiting = env
        .wait_for("default", "nb", "retrying", |j| {
            mailed(j).is_some_and(|d| d.attempts >= 2)
        })
        .await;
    let record = mailed(&waiting).unwrap();
    assert_eq!(record.state, DeliveryState::Retrying);
    assert!(
        record
            .message
            .as_deref()
            .unwrap_or_default()
            .contains("onnection refused"),
        "{record:?}"
    );

    let mut server = tokio::task::spawn_blocking(move || {
        server.start_again().unwrap();
        server
    })
    .await
    .unwrap();
    let mails = wait_mail(&server, 1).await;
    assert!(mails[0].contains("Subject: [IMG] default/nb (raw): Succeeded"));
    let done = env
        .wait_for("default", "nb", "mailed", |j| {
            mailed(j).is_some_and(|d| d.state == DeliveryState::Delivered)
        })
        .await;
    assert!(mailed(&done).unwrap().attempts >= 3);
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(server.messages().len(), 1, "sent once");
    let text = metrics(operator.admin_addr).await;
    assert!(
        metric(
            &text,
            "img_notification_attempts_total{channel=\"email\",outcome=\"failed\"}"
        ) >= 2.0,
        "{text}"
    );
    operator.shutdown().await.unwrap();
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn starttls_with_a_login_and_a_refused_login() {
    if !services_here(false) {
        return;
    }
    let server = smtp(SmtpOptions {
        starttls: true,
        login: Some(("img".into(), "s3cret".into())),
        ..Default::default()
    })
    .await;
    let env = Env::start().await;
    let operator = secure_operator(&env, &server, "starttls", "s3cret").await;
    let mut job = spec("succeed");
    job.notify.email = vec!["dev@example.org".into()];
    env.create("default", "secure", job.clone()).await;
    let mails = wait_mail(&server, 1).await;
    assert!(mails[0].contains("Subject: [IMG] default/secure (raw): Succeeded"));
    operator.shutdown().await.unwrap();

    // The wrong password is a permanent refusal: given up at once, with the server's words.
    let operator = secure_operator(&env, &server, "starttls", "wrong").await;
    env.create("default", "refused", job).await;
    let given_up = env
        .wait_for("default", "refused", "given up", |j| {
            mailed(j).is_some_and(|d| d.state == DeliveryState::GaveUp)
        })
        .await;
    let record = mailed(&given_up).unwrap();
    assert_eq!(record.attempts, 1);
    assert!(
        record
            .message
            .as_deref()
            .unwrap_or_default()
            .contains("535"),
        "{record:?}"
    );
    assert_eq!(server.messages().len(), 1);
    operator.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smtps_with_a_login() {
    if !services_here(false) {
        return;
    }
    let server = smtp(SmtpOptions {
        implicit_tls: true,
        login: Some(("img".into(), "s3cret".into())),
        ..Default::default()
    })
    .await;
    let env = Env::start().await;
    let operator = secure_operator(&env, &server, "tls", "s3cret").await;
    let mut job = spec("succeed");
    job.notify.email = vec!["dev@example.org".into()];
    env.create("default", "smtps", job).await;
    let mails = wait_mail(&server, 1).await;
    assert!(mails[0].contains("Subject: [IMG] default/smtps (raw): Succeeded"));
    let done = env
        .wait_for("default", "smtps", "mailed", |j| {
            mailed(j).is_some_and(|d| d.state == DeliveryState::Delivered)
        })
        .await;
    assert_eq!(mailed(&done).unwrap().attempts, 1);
    operator.shutdown().await.unwrap();
}
