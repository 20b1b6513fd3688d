//! Scenario 1: a user fills in the web form in headless Chromium (the example template's
//! platform MINIMAL, the example overlay, type raw), watches the job page until it says
//! Succeeded, and downloads the image the page links; the image boots in QEMU and prints the
//! line its `%post` set up; the mail and the `link_queue` message point at it.

use std::time::Duration;

use anyhow::{Context as _, bail, ensure};
use fantoccini::{Client, Locator};
use img_crd::Phase;
use img_tests::browser::Browser;

use crate::jobs::{row, wait_end};
use crate::site::{NS, Site};
use crate::timing::Row;

/// The overlay of the example (`scripts/build-example`).
pub(crate) const OVERLAY: &str = "less,-nano";

async fn click(c: &Client, css: &str) -> anyhow::Result<()> {
    c.find(Locator::Css(css))
        .await
        .with_context(|| format!("no {css} on the page"))?
        .click()
        .await?;
    Ok(())
}

async fn text(c: &Client, css: &str) -> anyhow::Result<String> {
    Ok(c.find(Locator::Css(css)).await?.text().await?)
}

/// Runs the scenario as user `n` (a distinct address per run).
pub(crate) async fn run(site: &Site, browser: &Browser, n: u32) -> anyhow::Result<Row> {
    let c = browser.client();
    let email = format!("web-user-{n}@example.org");
    c.goto(&format!("{}/submit/", site.web_url)).await?;
    c.find(Locator::Css("#email"))
        .await?
        .send_keys(&email)
        .await?;
    click(c, "#platform option[value=MINIMAL]").await?;
    c.find(Locator::Css("#overlay"))
        .await?
        .send_keys(OVERLAY)
        .await?;
    click(c, "#imagetype option[value=raw]").await?;
    click(c, "#submit-button").await?;
    c.wait()
        .at_most(Duration::from_secs(60))
        .for_element(Locator::Css("#log"))
        .await?;
    let url = c.current_url().await?;
    let name = url
        .path()
        .strip_prefix(&format!("/job/{NS}/"))
        .with_context(|| format!("the form led to {url}, not a job page"))?
        .to_owned();
    eprintln!("e2e: scenario 1: {email} submitted {NS}/{name} through the form");

    let job = wait_end(site, &name, Phase::Succeeded).await?;
    let status = job.status.clone().unwrap_or_default();

    // The job page, as the user sees it at the end.
    c.goto(&format!("{}/job/{NS}/{name}", site.web_url)).await?;
    c.wait()
        .at_most(Duration::from_secs(60))
        .for_element(Locator::Css("#downloads"))
        .await?;
    ensure!(text(c, "#phase").await? == "Succeeded", "the page's phase");
    let shot = browser.screenshot(&format!("e2e-job-page-{n}")).await?;
    eprintln!("e2e: scenario 1: the job page: {}", shot.display());

    // The raw disk's link on the page, its sha256 in the same row.
    let mut link = None;
    for row in c.find_all(Locator::Css("#downloads tbody tr")).await? {
        let a = row.find(Locator::Css("a[download]")).await?;
        let href = a.attr("href").await?.unwrap_or_default();
        if href.ends_with("-sda.raw") {
            link = Some((href, row.text().await?));
        }
    }
    let (href, row_text) = link.context("the page links no -sda.raw image")?;
    let file = href.rsplit('/').next().unwrap_or_default().to_owned();
    let artifact = status
        .artifacts
        .iter()
        .find(|a| a.name == file)
        .with_context(|| format!("{file} is not in status.artifacts"))?;
    let local = site.dir.path().join(&file);
    let (size, sha) = crate::http::download(&format!("{}{href}", site.web_url), &local).await?;
    ensure!(
        size == artifact.size,
        "downloaded {size} bytes of {}",
        artifact.size
    );
    ensure!(
        sha == artifact.sha256,
        "sha256 {sha} != status {}",
        artifact.sha256
    );
    ensure!(
        row_text.contains(&sha),
        "the page's row {row_text:?} does not show {sha}"
    );

    // The downloaded image boots and prints what its %post arranged.
    let image = file.trim_end_matches("-sda.raw");
    let console = site.dir.path().join(format!("{image}-console-{n}.txt"));
    let boot = tokio::process::Command::new(&site.programs.runner)
        .arg("boot-check")
        .arg("--image")
        .arg(&local)
        .args(["--expect", &format!("BUILD: {image}")])
        .arg("--console-log")
        .arg(&console)
        .kill_on_drop(true)
        .output()
        .await?;
    if !boot.status.success() {
        bail!(
            "the downloaded image did not boot to `BUILD: {image}`: {}\n{}",
            String::from_utf8_lossy(&boot.stderr),
            std::fs::read_to_string(&console).unwrap_or_default()
        );
    }
    eprintln!(
        "e2e: scenario 1: {}",
        String::from_utf8_lossy(&boot.stdout).trim()
    );
    std::fs::remove_file(&local)?;

    // The 2010 message: the job's id and the image's URL.
    let id = serde_json::Value::String(status.legacy_id.clone().unwrap_or_default());
    let links = site.messages_for("link_queue", &id, 120).await?;
    ensure!(links.len() == 1, "link_queue for {id}: {links:?}");
    let link_url = links[0]["url"].as_str().unwrap_or_default();
    ensure!(
        status
            .artifacts
            .iter()
            .any(|a| a.url.as_deref() == Some(link_url)),
        "link_queue's url {link_url} is none of the job's artifacts"
    );
    // The mail, with the same link.
    let mail = site.wait_mail(&email, 120).await?;
    ensure!(
        mail.contains(&format!("Download: {link_url}")),
        "the mail lacks the link {link_url}:\n{mail}"
    );
    row(site, "1 web form (raw)", &name).await
}
