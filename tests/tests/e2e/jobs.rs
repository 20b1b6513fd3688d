//! Watching jobs and their VMs from the outside: the API for phases, `/proc` for the
//! processes of a runner Pod.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::bail;
use img_crd::{ImageJob, Phase};
use k8s_openapi::api::core::v1::Pod;
use kube::Api;

use crate::site::{NS, Site};

/// How long one image build may take here (TCG, two VMs sharing two cores).
pub(crate) const BUILD_WAIT: u64 = 3600;

/// The phase of `job`.
pub(crate) fn phase(job: &ImageJob) -> Option<Phase> {
    job.status.as_ref().and_then(|s| s.phase)
}

/// Waits up to `secs` until job `name` satisfies `check`.
pub(crate) async fn wait_job(
    site: &Site,
    name: &str,
    what: &str,
    secs: u64,
    check: impl Fn(&ImageJob) -> bool,
) -> anyhow::Result<ImageJob> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        let job = site.jobs().get_opt(name).await?;
        if let Some(job) = job.as_ref().filter(|j| check(j)) {
            return Ok(job.clone());
        }
        if tokio::time::Instant::now() > deadline {
            bail!(
                "{NS}/{name} was not {what} within {secs} s: {:?}",
                job.and_then(|j| j.status)
            );
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Waits until job `name` has ended; fails (see [`expect_phase`]) unless it ended in `want`.
pub(crate) async fn wait_end(site: &Site, name: &str, want: Phase) -> anyhow::Result<ImageJob> {
    let job = wait_job(site, name, "finished", BUILD_WAIT, |j| {
        phase(j).is_some_and(Phase::is_finished)
    })
    .await?;
    expect_phase(site, &job, want)?;
    Ok(job)
}

/// Fails with the job's reason, message and the end of its log unless it is in `want`.
pub(crate) fn expect_phase(site: &Site, job: &ImageJob, want: Phase) -> anyhow::Result<()> {
    if phase(job) == Some(want) {
        return Ok(());
    }
    let status = job.status.clone().unwrap_or_default();
    let log = status
        .log
        .as_ref()
        .and_then(|l| std::fs::read_to_string(site.images().join(&l.path)).ok())
        .unwrap_or_default();
    let tail: Vec<&str> = log.lines().rev().take(40).collect();
    bail!(
        "{} ended {:?}, not {want:?}: {:?}: {:?}\n{}",
        job.metadata.name.as_deref().unwrap_or_default(),
        status.phase,
        status.reason,
        status.message,
        tail.into_iter().rev().collect::<Vec<_>>().join("\n")
    )
}

/// The local directory of job `name`'s runner Pod (`None` before the kubelet has it).
pub(crate) async fn runner_pod_dir(site: &Site, name: &str) -> anyhow::Result<Option<PathBuf>> {
    let pods: Api<Pod> = Api::namespaced(site.client.clone(), NS);
    let pod = pods.get_opt(&format!("{name}-runner")).await?;
    Ok(pod
        .and_then(|p| p.metadata.uid)
        .map(|uid| site.kubelet_root().join("pods").join(uid)))
}

/// The QEMU processes whose command line names `dir` (a runner Pod's directory: its VM's
/// disk overlay and sockets live there).
pub(crate) fn vms_in(dir: &std::path::Path) -> Vec<nix::unistd::Pid> {
    img_tests::services::processes_naming(dir)
        .into_iter()
        .filter(|pid| img_tests::services::command_name(*pid).starts_with("qemu-system"))
        .collect()
}

/// Waits until the VM of job `name` is up (its QEMU runs); the runner Pod's directory.
pub(crate) async fn wait_vm(site: &Site, name: &str, secs: u64) -> anyhow::Result<PathBuf> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(dir) = runner_pod_dir(site, name).await?
            && !vms_in(&dir).is_empty()
        {
            return Ok(dir);
        }
        if tokio::time::Instant::now() > deadline {
            bail!("no VM ran for {name} within {secs} s");
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Whether the end of `job` has been told: its mail (if it has addresses) and its
/// `link_queue` or `error_queue` message delivered or given up on.
fn told(job: &ImageJob) -> bool {
    let Some(n) = job.status.as_ref().and_then(|s| s.notifications.as_ref()) else {
        return false;
    };
    let done = |d: &img_crd::Delivery| d.state.is_final();
    let mailed = job.spec.notify.email.is_empty() || n.email.as_ref().is_some_and(done);
    let messaged = n
        .amqp
        .iter()
        .any(|d| matches!(d.target.as_str(), "link_queue" | "error_queue") && done(d));
    mailed && messaged
}

/// The timing row of job `name` in `scenario`, once its end has been told.
pub(crate) async fn row(
    site: &Site,
    scenario: &str,
    name: &str,
) -> anyhow::Result<crate::timing::Row> {
    let job = wait_job(site, name, "told (mail and AMQP)", 300, told).await?;
    Ok(crate::timing::Row::of(scenario, &job))
}
