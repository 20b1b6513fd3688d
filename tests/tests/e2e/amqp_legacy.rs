//! Scenario 3: a 2010 client (Python pika, independent of the operator's lapin) publishes a
//! kickstarter configuration on `kickstarter_queue` and hears back on `link_queue`: the same
//! id, and a URL that serves the image status describes.

use anyhow::{Context as _, ensure};
use img_crd::Phase;
use img_tests::services::python;
use serde_json::json;

use crate::jobs::{row, wait_end};
use crate::kickstarts::SMALL_CONFIG;
use crate::site::Site;
use crate::timing::Row;

/// Runs the scenario with the 2010 id `id`.
pub(crate) async fn run(site: &Site, id: &str) -> anyhow::Result<Row> {
    let email = format!("{id}@example.org");
    let body = json!({"config": SMALL_CONFIG, "email": email, "imagetype": "loop", "id": id});
    let url = site.broker.url();
    tokio::task::spawn_blocking(move || {
        python::publish(
            &url,
            "image_exchange",
            "kickstarter_queue",
            &[body.to_string()],
        )
    })
    .await??;
    eprintln!("e2e: scenario 3: pika published {id} on kickstarter_queue");

    let name = job_with_id(site, id).await?;
    let job = wait_end(site, &name, Phase::Succeeded).await?;
    let links = site.messages_for("link_queue", &json!(id), 120).await?;
    ensure!(links.len() == 1, "link_queue for {id}: {links:?}");
    let link = links[0]["url"].as_str().unwrap_or_default();
    let status = job.status.clone().unwrap_or_default();
    let artifact = status
        .artifacts
        .iter()
        .find(|a| a.url.as_deref() == Some(link))
        .with_context(|| format!("link_queue's {link} is none of {:?}", status.artifacts))?;
    let local = site.dir.path().join(&artifact.name);
    let (size, sha) = crate::http::download(link, &local).await?;
    std::fs::remove_file(&local)?;
    ensure!(
        (size, sha.as_str()) == (artifact.size, artifact.sha256.as_str()),
        "{link} served {size} bytes with sha256 {sha}; status says {} and {}",
        artifact.size,
        artifact.sha256
    );
    let mail = site.wait_mail(&email, 120).await?;
    ensure!(mail.contains(link), "the mail lacks {link}:\n{mail}");
    row(site, "3 AMQP kickstarter_queue", &name).await
}

/// The name of the job the operator made for 2010 id `id` (waiting a minute for it).
pub(crate) async fn job_with_id(site: &Site, id: &str) -> anyhow::Result<String> {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let jobs = site.jobs().list(&Default::default()).await?;
        if let Some(job) = jobs
            .items
            .into_iter()
            .find(|j| j.spec.legacy_id.as_deref() == Some(id))
        {
            return job.metadata.name.context("a name");
        }
        ensure!(
            tokio::time::Instant::now() < deadline,
            "no ImageJob carries the 2010 id {id} a minute after its message"
        );
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
}
