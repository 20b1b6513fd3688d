//! Scenarios 5 and 6, on one queue of three small jobs with at most two running:
//! 5. the third waits first in line; the second is cancelled from its web page while its VM
//!    runs, its VM is gone within 10 s, and the third starts;
//! 6. with two builds under way the operator is killed (SIGKILL) and started again: both
//!    builds end Succeeded, each with the runner Pod it had, one `link_queue` message and
//!    one mail.

use std::time::{Duration, Instant};

use anyhow::{Context as _, bail, ensure};
use fantoccini::Locator;
use img_crd::{ImageJob, Phase};
use img_tests::browser::Browser;
use img_tests::services::{command_name, processes_in, running, with_descendants};
use kube::api::PostParams;
use serde_json::json;

use crate::jobs::{phase, row, runner_pod_dir, vms_in, wait_end, wait_job, wait_vm};
use crate::kickstarts::small;
use crate::site::{NS, Site};
use crate::timing::Row;

/// How soon a cancelled job's VM must be gone.
const CANCEL_LIMIT: Duration = Duration::from_secs(10);

/// Creates a small job `name` mailing `name@example.org`.
async fn submit(site: &Site, name: &str) -> anyhow::Result<()> {
    let job: ImageJob = serde_json::from_value(json!({
        "apiVersion": "img.meego.com/v1alpha1",
        "kind": "ImageJob",
        "metadata": {"name": name, "namespace": NS},
        "spec": {
            "imageType": "loop",
            "source": {"kickstart": small(&format!("echo built by {name} > /etc/img-e2e"))},
            "notify": {"email": [format!("{name}@example.org")]},
        }
    }))?;
    site.jobs().create(&PostParams::default(), &job).await?;
    Ok(())
}

/// Waits until none of `tree` (a runner and its QEMU and virtiofsd) runs, at most `limit`
/// after `from`; how long after `from`.
async fn gone(
    tree: &[nix::unistd::Pid],
    from: Instant,
    limit: Duration,
) -> anyhow::Result<Duration> {
    loop {
        let left: Vec<String> = tree
            .iter()
            .filter(|pid| running(**pid))
            .map(|pid| format!("{pid} {}", command_name(*pid)))
            .collect();
        if left.is_empty() {
            return Ok(from.elapsed());
        }
        if from.elapsed() > limit {
            bail!("still running {limit:?} after the cancel: {left:?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The uid of job `name`'s runner Pod.
async fn runner_uid(site: &Site, name: &str) -> anyhow::Result<String> {
    let dir = runner_pod_dir(site, name)
        .await?
        .with_context(|| format!("{name} has no runner Pod"))?;
    Ok(dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default())
}

/// Runs both scenarios with jobs named `queue-<tag>-{a,b,c}`; `kill` says whether to kill
/// the operator (scenario 6) once the first and third build.
pub(crate) async fn run(
    site: &Site,
    browser: &Browser,
    tag: &str,
    kill: bool,
) -> anyhow::Result<Vec<Row>> {
    let [a, b, c] = ["a", "b", "c"].map(|x| format!("queue-{tag}-{x}"));
    for name in [&a, &b, &c] {
        submit(site, name).await?;
        // Creation times have one-second resolution; the queue takes older first.
        tokio::time::sleep(Duration::from_millis(1100)).await;
    }
    let running = |j: &ImageJob| phase(j) == Some(Phase::Running);
    wait_job(site, &a, "Running", 120, running).await?;
    wait_job(site, &b, "Running", 120, running).await?;
    wait_job(site, &c, "Queued first in line", 60, |j| {
        phase(j) == Some(Phase::Queued)
            && j.status.as_ref().and_then(|s| s.queue_position) == Some(1)
    })
    .await?;
    eprintln!("e2e: scenario 5: {a} and {b} run, {c} waits first in line");

    // Cancel B from its page once its VM is well under way.
    let b_dir = wait_vm(site, &b, 300).await?;
    tokio::time::sleep(Duration::from_secs(20)).await;
    ensure!(!vms_in(&b_dir).is_empty(), "{b}'s VM stopped by itself");
    // The runner, its QEMU and its virtiofsd daemons (which work in `/` and name only the
    // claims, so the Pod's directory alone does not find them).
    let tree = with_descendants(&processes_in(&b_dir));
    let comms: Vec<String> = tree.iter().map(|pid| command_name(*pid)).collect();
    ensure!(
        ["vm-runner", "qemu-system", "virtiofsd"]
            .iter()
            .all(|want| comms.iter().any(|c| c.starts_with(want))),
        "{b}'s runner, QEMU and virtiofsd were not all found: {comms:?}"
    );
    let page = browser.client();
    page.goto(&format!("{}/job/{NS}/{b}", site.web_url)).await?;
    let button = page.find(Locator::Css("#cancel")).await?;
    let clicked = Instant::now();
    button.click().await?;
    let took = gone(&tree, clicked, CANCEL_LIMIT).await?;
    eprintln!(
        "e2e: scenario 5: {b} cancelled from the web; its VM and runner were gone after {took:.1?}"
    );
    let b_job = wait_end(site, &b, Phase::Cancelled).await?;
    wait_job(site, &c, "Running", 120, running).await?;

    let uids_before = if kill {
        wait_vm(site, &c, 300).await?;
        // Both builds under way (the creator runs in both VMs).
        tokio::time::sleep(Duration::from_secs(45)).await;
        let uids = [runner_uid(site, &a).await?, runner_uid(site, &c).await?];
        site.kill_operator();
        eprintln!("e2e: scenario 6: the operator was killed with {a} and {c} building");
        tokio::time::sleep(Duration::from_secs(3)).await;
        for name in [&a, &c] {
            let dir = runner_pod_dir(site, name).await?.context("a runner Pod")?;
            ensure!(
                !vms_in(&dir).is_empty(),
                "{name}'s VM died with the operator"
            );
        }
        site.start_operator().await?;
        eprintln!("e2e: scenario 6: a new operator leads");
        Some(uids)
    } else {
        None
    };

    let a_job = wait_end(site, &a, Phase::Succeeded).await?;
    let c_job = wait_end(site, &c, Phase::Succeeded).await?;
    if let Some(before) = uids_before {
        let after = [runner_uid(site, &a).await?, runner_uid(site, &c).await?];
        ensure!(
            before == after,
            "runner Pods were made again: {before:?} → {after:?}"
        );
    }

    // Everything said once: wait a while for anything said twice.
    tokio::time::sleep(Duration::from_secs(10)).await;
    for (job, queue) in [
        (&a_job, "link_queue"),
        (&c_job, "link_queue"),
        (&b_job, "error_queue"),
    ] {
        let name = job.metadata.name.clone().unwrap_or_default();
        let id = json!(job.status.as_ref().and_then(|s| s.legacy_id.clone()));
        let said = site.messages_for(queue, &id, 60).await?;
        ensure!(said.len() == 1, "{queue} for {name}: {said:?}");
        site.wait_mail(&format!("{name}@example.org"), 60).await?;
        let mails = site.mails_to(&format!("{name}@example.org"));
        ensure!(mails.len() == 1, "{} mails to {name}", mails.len());
    }
    let rows = vec![
        row(
            site,
            if kill {
                "6 operator killed mid-build"
            } else {
                "5 first of three"
            },
            &a,
        )
        .await?,
        row(site, "5 cancelled from the web", &b).await?,
        row(site, "5 third waits, then runs", &c).await?,
    ];
    Ok(rows)
}
