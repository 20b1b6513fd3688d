//! Deleting a job (the finalizer's cleanup): stop its runner, remove its files from the
//! images volume with a cleanup Pod, as the 2010 model's delete() removed the image, the log
//! and the kickstart. Idempotent: every step looks at what exists, so it can be repeated after
//! an operator restart, and a job that never ran (or whose claim never existed) needs nothing.

use std::time::Duration;

use img_crd::ImageJob;
use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Pod};
use kube::api::{DeleteParams, PostParams};
use kube::runtime::controller::Action;
use kube::runtime::events::EventType;
use kube::{Api, ResourceExt};
use tracing::info;

use super::running::stop_runner;
use crate::context::{Context, belongs_to};
use crate::error::Result;
use crate::runner::{cleanup_pod, cleanup_pod_name, images_claim, runner_pod_name};

/// How often a deletion in progress looks again (Pod changes wake it sooner).
const RECHECK: Duration = Duration::from_secs(5);

/// Removes what `job` left behind: `None` once done (the finalizer may go), or when to look
/// again.
pub(crate) async fn cleanup(job: &ImageJob, ctx: &Context) -> Result<Option<Action>> {
    let namespace = job.namespace().unwrap_or_default();
    let pods: Api<Pod> = Api::namespaced(ctx.client.clone(), &namespace);
    super::finish::deleted(job, ctx).await?;

    // 1. The runner stops first, so nothing writes while the files go.
    let runner = pods
        .get_opt(&runner_pod_name(&job.name_any()))
        .await?
        .filter(|p| belongs_to(p, job));
    if let Some(pod) = &runner {
        let phase = pod.status.as_ref().and_then(|s| s.phase.as_deref());
        if !matches!(phase, Some("Succeeded" | "Failed")) {
            if pod.metadata.deletion_timestamp.is_none() {
                stop_runner(ctx, pod).await?;
                ctx.event(
                    job,
                    EventType::Normal,
                    "Stopping",
                    "Delete",
                    "the job is being deleted; its runner is stopping",
                )
                .await;
            }
            return Ok(Some(Action::requeue(RECHECK)));
        }
    }

    super::kubevirt::stop_vm(job, ctx).await?;

    // 2. Files exist only if a runner ever started.
    let status = job.status.clone().unwrap_or_default();
    let may_have_files =
        runner.is_some() || status.start_time.is_some() || status.runner_pod.is_some();
    if may_have_files {
        let claim = images_claim(job, &ctx.config.runner);
        let claims: Api<PersistentVolumeClaim> = Api::namespaced(ctx.client.clone(), &namespace);
        if claims.get_opt(claim).await?.is_some()
            && let Some(action) = remove_files(job, ctx, &pods).await?
        {
            return Ok(Some(action));
        }
    }
    info!(job = %job.name_any(), namespace = %namespace, "cleaned up");
    Ok(None)
}

/// Runs the cleanup Pod to its end: `Some(action)` while it runs (or must be retried),
/// `None` once the files are gone.
async fn remove_files(job: &ImageJob, ctx: &Context, pods: &Api<Pod>) -> Result<Option<Action>> {
    let name = cleanup_pod_name(&job.name_any());
    let existing = pods.get_opt(&name).await?;
    let Some(pod) = existing.filter(|p| belongs_to(p, job)) else {
        match pods
            .create(
                &PostParams::default(),
                &cleanup_pod(job, &ctx.config.runner),
            )
            .await
        {
            Ok(_) => ctx.metrics.created("Pod"),
            // A Pod of this name from an earlier job is still going; try again soon.
            Err(kube::Error::Api(e)) if e.code == 409 => {}
            Err(e) => return Err(e.into()),
        }
        return Ok(Some(Action::requeue(RECHECK)));
    };
    let phase = pod.status.as_ref().and_then(|s| s.phase.clone());
    match phase.as_deref() {
        Some("Succeeded") => {
            delete_pod(pods, &pod).await?;
            Ok(None)
        }
        Some("Failed") => {
            let why = pod
                .status
                .as_ref()
                .and_then(|s| s.container_statuses.as_ref())
                .and_then(|c| c.first())
                .and_then(|c| c.state.as_ref())
                .and_then(|s| s.terminated.as_ref())
                .and_then(|t| t.message.clone())
                .unwrap_or_default();
            ctx.event(
                job,
                EventType::Warning,
                "CleanupFailed",
                "Delete",
                format!("removing the job's files failed; retrying: {why}"),
            )
            .await;
            delete_pod(pods, &pod).await?;
            Ok(Some(Action::requeue(Duration::from_secs(30))))
        }
        _ => Ok(Some(Action::requeue(RECHECK))),
    }
}

async fn delete_pod(pods: &Api<Pod>, pod: &Pod) -> Result<()> {
    match pods
        .delete(&pod.name_any(), &DeleteParams::background())
        .await
    {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(e)) if e.code == 404 => Ok(()),
        Err(e) => Err(e.into()),
    }
}
