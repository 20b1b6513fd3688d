//! What a round of builds must not leave behind: a Pod still running, a process of a runner
//! Pod (runner, QEMU, virtiofsd), a file in a runner's scratch space (VM disk overlays,
//! sockets, work directories), a stray file on the images volume.

use std::path::Path;
use std::time::Duration;

use anyhow::ensure;
use k8s_openapi::api::core::v1::Pod;
use kube::Api;

use crate::site::{NS, Site};

/// Checks that nothing is left; waits a little for Pods that are stopping.
pub(crate) async fn check(site: &Site) -> anyhow::Result<()> {
    let pods: Api<Pod> = Api::namespaced(site.client.clone(), NS);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let pods_dir = site.kubelet_root().join("pods");
    loop {
        let live: Vec<String> = pods
            .list(&Default::default())
            .await?
            .items
            .into_iter()
            .filter(|p| {
                let phase = p.status.as_ref().and_then(|s| s.phase.as_deref());
                !matches!(phase, Some("Succeeded" | "Failed"))
            })
            .filter_map(|p| p.metadata.name)
            .collect();
        // Anything working in or naming the site's directory, apart from the frontend and
        // the operator: runners, QEMU and virtiofsd (named or working under the Pods'
        // directories and the claims), the QEMU that boots a downloaded image, kubectl, pika.
        let own = site.own_processes();
        let procs: Vec<_> = img_tests::services::processes_in(site.dir.path())
            .into_iter()
            .filter(|pid| !own.contains(pid))
            .collect();
        if live.is_empty() && procs.is_empty() {
            break;
        }
        ensure!(
            tokio::time::Instant::now() < deadline,
            "left behind: Pods not ended {live:?}, processes {}",
            describe(&procs)
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let mut stray = Vec::new();
    if let Ok(entries) = std::fs::read_dir(&pods_dir) {
        for pod in entries.flatten() {
            let scratch = pod.path().join("volumes/scratch");
            stray.extend(files_under(&scratch));
        }
    }
    // The images volume holds `<namespace>/<job>/<file>` only.
    for ns in std::fs::read_dir(site.images())?.flatten() {
        if !ns.file_type()?.is_dir() {
            stray.push(ns.path().display().to_string());
            continue;
        }
        for job in std::fs::read_dir(ns.path())?.flatten() {
            for file in std::fs::read_dir(job.path())?.flatten() {
                let name = file.file_name().to_string_lossy().into_owned();
                if !file.file_type()?.is_file() || name.starts_with('.') || name.ends_with(".part")
                {
                    stray.push(file.path().display().to_string());
                }
            }
        }
    }
    ensure!(stray.is_empty(), "files left behind: {stray:?}");
    Ok(())
}

/// `pid (command line)` for each of `pids`.
fn describe(pids: &[nix::unistd::Pid]) -> String {
    let one =
        |pid: &nix::unistd::Pid| format!("{pid} ({})", img_tests::services::command_line(*pid));
    pids.iter().map(one).collect::<Vec<_>>().join(", ")
}

/// Every file and directory under `dir` (not `dir` itself).
fn files_under(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            found.push(e.path().display().to_string());
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                found.extend(files_under(&e.path()));
            }
        }
    }
    found
}
