//! Scenario 4: a kickstart whose `%post` fails, submitted with `imgctl`: the job ends Failed,
//! `error_queue` says so with the log's URL, the submitter gets a failure mail, and the log
//! ends with the 2010 service's last words.

use anyhow::{Context as _, bail, ensure};
use img_crd::Phase;
use serde_json::json;

use crate::jobs::{row, wait_end};
use crate::kickstarts::small;
use crate::site::{NS, Site};
use crate::timing::Row;

/// The line the 2010 service appended to a failed build's log.
const FAILED_LINE: &str = "IMG FAILED MISERABLY IN CREATING THE IMAGE!";

/// Runs the scenario as user `user`.
pub(crate) async fn run(site: &Site, user: &str) -> anyhow::Result<Row> {
    let email = format!("{user}@example.org");
    let marker = format!("e2e: the %post of {user} fails on purpose");
    let ks = site.dir.path().join(format!("{user}.ks"));
    std::fs::write(&ks, small(&format!("echo \"{marker}\"\nexit 3")))?;
    let out = tokio::process::Command::new(&site.programs.imgctl)
        .args(["--server", &site.web_url, "submit"])
        .arg(&ks)
        .args(["--email", &email])
        .kill_on_drop(true)
        .output()
        .await?;
    if !out.status.success() {
        bail!(
            "imgctl submit: {}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let id = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    let name = id
        .strip_prefix(&format!("{NS}/"))
        .with_context(|| format!("imgctl printed {id:?}, not a job id"))?
        .to_owned();
    eprintln!("e2e: scenario 4: imgctl submitted {id}");

    let job = wait_end(site, &name, Phase::Failed).await?;
    let status = job.status.clone().unwrap_or_default();
    let log = status
        .log
        .clone()
        .context("a failed build still has its log")?;

    // The log as users get it, from the frontend.
    let (code, text) =
        crate::http::get_text(&format!("{}/images/{}", site.web_url, log.path)).await?;
    ensure!(code == 200, "the log answered {code}");
    ensure!(
        text.contains(&marker),
        "the %post's output is not in the log"
    );
    let last: Vec<&str> = text.lines().rev().take(3).collect();
    ensure!(
        last.iter().any(|l| l.contains(FAILED_LINE)),
        "the log does not end with the 2010 line: {last:?}"
    );

    let legacy = json!(status.legacy_id.clone().unwrap_or_default());
    let errors = site.messages_for("error_queue", &legacy, 120).await?;
    ensure!(errors.len() == 1, "error_queue for {legacy}: {errors:?}");
    let error = &errors[0];
    ensure!(
        error["error"].as_str().is_some_and(|e| !e.is_empty()),
        "error_queue's error is empty: {error}"
    );
    // The 2010 message links the log itself (the job page is `status.log.url`).
    let log_file = format!("{}/images/{}", site.web_url, log.path);
    ensure!(
        error["url"].as_str() == Some(log_file.as_str()),
        "error_queue's url {} is not the log's {log_file}",
        error["url"]
    );
    let links = site.messages_for("link_queue", &legacy, 0).await?;
    ensure!(links.is_empty(), "a failed job has a link: {links:?}");
    let mail = site.wait_mail(&email, 120).await?;
    ensure!(
        mail.contains("failed"),
        "the mail does not say it failed:\n{mail}"
    );
    row(site, "4 %post fails (imgctl)", &name).await
}
