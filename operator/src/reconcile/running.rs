//! Watching a running job: the runner Pod's result, the timeout, a lost runner.

use std::time::Duration;

use img_crd::ImageJob;
use img_crd::conditions::reasons;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{DeleteParams, Preconditions};
use kube::runtime::controller::Action;
use kube::{Api, ResourceExt};

use super::finish::{end, ended_by_operator};
use crate::context::{Context, belongs_to};
use crate::error::Result;
use crate::runner::{Observed, observe, runner_pod_name, timeout_seconds};

/// How long past the runner Pod's own deadline the operator waits before stopping it itself
/// (the kubelet normally ends it first).
const OPERATOR_GRACE: Duration = Duration::from_secs(60);

/// When the operator gives up on `job`'s runner, if it has started.
fn deadline(job: &ImageJob, ctx: &Context) -> Option<jiff::Timestamp> {
    let start = job.status.as_ref()?.start_time.as_ref()?.0;
    let limit = timeout_seconds(job, &ctx.config.runner) + ctx.config.runner.deadline_grace_seconds;
    start
        .checked_add(jiff::SignedDuration::from_secs(
            i64::try_from(limit).unwrap_or(i64::MAX / 2),
        ))
        .ok()?
        .checked_add(OPERATOR_GRACE)
        .ok()
}

/// The longest a Running job goes without a look at its runner. Pod changes wake the
/// reconciler at once; this is the safety net for a change whose trigger is lost (seen, rarely,
/// under load: a runner Pod's last status reached the cache but no reconcile followed).
const RESYNC: Duration = Duration::from_secs(10);

/// Reconcile again when the deadline passes, or after [`RESYNC`] if that is sooner (Pod
/// changes wake the reconciler before either).
pub(crate) fn requeue_at_deadline(job: &ImageJob, ctx: &Context) -> Action {
    let until_deadline = deadline(job, ctx).map(|at| {
        let left = at.duration_since(jiff::Timestamp::now());
        Duration::try_from(left).unwrap_or(Duration::ZERO) + Duration::from_secs(1)
    });
    Action::requeue(until_deadline.map_or(RESYNC, |d| d.min(RESYNC)))
}

/// Follows a Running job's runner to its end.
pub(crate) async fn follow(job: &ImageJob, ctx: &Context) -> Result<Action> {
    let name = runner_pod_name(&job.name_any());
    let pod = match ctx.cached_pod(job, &name) {
        Some(pod) => Some((*pod).clone()),
        None => {
            let pods: Api<Pod> =
                Api::namespaced(ctx.client.clone(), &job.namespace().unwrap_or_default());
            pods.get_opt(&name).await?.filter(|p| belongs_to(p, job))
        }
    };
    let Some(pod) = pod else {
        // The kubevirt runner reports through its driver Pod, which has the same name.
        return ended_by_operator(
            job,
            ctx,
            reasons::RUNNER_LOST,
            format!("the runner Pod {name} disappeared while the job was running"),
        )
        .await;
    };
    match observe(&pod) {
        Observed::Finished(finished) => end(job, ctx, finished).await,
        Observed::Running(_) => {
            let overdue = deadline(job, ctx).is_some_and(|d| jiff::Timestamp::now() > d);
            if !overdue {
                return Ok(requeue_at_deadline(job, ctx));
            }
            stop_runner(ctx, &pod).await?;
            ended_by_operator(
                job,
                ctx,
                reasons::TIMEOUT,
                format!(
                    "the build ran longer than its time limit of {} s and was stopped",
                    timeout_seconds(job, &ctx.config.runner)
                ),
            )
            .await
        }
    }
}

/// Deletes a runner Pod (the runner gets SIGTERM and its grace period to stop the VM), only
/// if it is still the same Pod. A Pod that is already gone is fine.
pub(crate) async fn stop_runner(ctx: &Context, pod: &Pod) -> Result<()> {
    let pods: Api<Pod> = Api::namespaced(ctx.client.clone(), &pod.namespace().unwrap_or_default());
    let params = DeleteParams {
        preconditions: Some(Preconditions {
            uid: pod.metadata.uid.clone(),
            resource_version: None,
        }),
        ..DeleteParams::default()
    };
    match pods.delete(&pod.name_any(), &params).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(e)) if matches!(e.code, 404 | 409) => Ok(()),
        Err(e) => Err(e.into()),
    }
}
