//! The end of a job: from the runner's result, from the operator (timeout, lost runner),
//! or by cancellation; and what happens after (ttlSecondsAfterFinished).

use std::time::Duration;

use img_crd::conditions::{reasons, types};
use img_crd::{Artifact, ImageJob, ImageJobStatus, LogRecord, Phase, urls};
use k8s_openapi::api::core::v1::Pod;
use kube::api::DeleteParams;
use kube::runtime::controller::Action;
use kube::runtime::events::EventType;
use kube::{Api, ResourceExt};
use tracing::info;

use super::running::stop_runner;
use super::write::{jobs_api, write_status};
use crate::context::{Context, belongs_to};
use crate::error::Result;
use crate::metrics::TypeLabels;
use crate::notify::channels;
use crate::notify::plan::owes;
use crate::runner::{Finished, runner_pod_name};
use crate::status::{Cond, now, set_condition};

/// How often a job past its TTL looks again whether its notifications are done.
const NOTIFY_WAIT: Duration = Duration::from_secs(5);

/// Ends `job` with what its runner reported.
pub(crate) async fn end(job: &ImageJob, ctx: &Context, finished: Finished) -> Result<Action> {
    let namespace = job.namespace().unwrap_or_default();
    let name = job.name_any();
    let base = ctx.config.public_url.as_deref();
    let mut status = job.status.clone().unwrap_or_default();
    status.stages = finished.stages;
    status.artifacts = finished
        .artifacts
        .into_iter()
        .map(|a| Artifact {
            url: base.map(|b| urls::artifact_url(b, &namespace, &name, &a.name)),
            ..a
        })
        .collect();
    status.log = finished.log.map(|file| LogRecord {
        path: format!("{}/{file}", urls::job_dir(&namespace, &name)),
        url: base.map(|b| urls::job_url(b, &namespace, &name)),
    });
    let completion = finished.finished_at.unwrap_or_else(now);
    conclude(
        job,
        ctx,
        status,
        Ending {
            phase: finished.phase,
            reason: &finished.reason,
            message: &finished.message,
            at: completion,
        },
    )
    .await
}

/// Ends a Running job for a reason the operator saw (timeout, lost runner).
pub(crate) async fn ended_by_operator(
    job: &ImageJob,
    ctx: &Context,
    reason: &str,
    message: String,
) -> Result<Action> {
    end_now(job, ctx, Phase::Failed, reason, &message).await
}

/// Ends `job` now in `phase`, keeping what status already has.
async fn end_now(
    job: &ImageJob,
    ctx: &Context,
    phase: Phase,
    reason: &str,
    message: &str,
) -> Result<Action> {
    let status = job.status.clone().unwrap_or_default();
    conclude(
        job,
        ctx,
        status,
        Ending {
            phase,
            reason,
            message,
            at: now(),
        },
    )
    .await
}

/// Cancels `job` (`spec.cancel`): stops its runner if it has one, and ends it as Cancelled.
pub(crate) async fn cancel(job: &ImageJob, ctx: &Context) -> Result<Action> {
    let pods: Api<Pod> = Api::namespaced(ctx.client.clone(), &job.namespace().unwrap_or_default());
    if let Some(pod) = pods
        .get_opt(&runner_pod_name(&job.name_any()))
        .await?
        .filter(|p| belongs_to(p, job))
    {
        stop_runner(ctx, &pod).await?;
    }
    let was = job.status.as_ref().and_then(|s| s.phase);
    let message = match was {
        Some(Phase::Running) => "cancelled (spec.cancel); the runner was stopped",
        _ => "cancelled (spec.cancel) before it started",
    };
    end_now(job, ctx, Phase::Cancelled, reasons::CANCELLED, message).await
}

/// Ends a job that is deleted before it finished as Cancelled, so whoever follows it (the web
/// page, the notification bridge) sees it end.
pub(crate) async fn deleted(job: &ImageJob, ctx: &Context) -> Result<()> {
    let phase = job.status.as_ref().and_then(|s| s.phase);
    if phase.is_some_and(Phase::is_finished) {
        return Ok(());
    }
    end_now(
        job,
        ctx,
        Phase::Cancelled,
        reasons::CANCELLED,
        "deleted before it finished",
    )
    .await?;
    Ok(())
}

/// How a job ends.
struct Ending<'a> {
    phase: Phase,
    reason: &'a str,
    message: &'a str,
    at: k8s_openapi::apimachinery::pkg::apis::meta::v1::Time,
}

/// Writes the final status, counts and reports it.
async fn conclude(
    job: &ImageJob,
    ctx: &Context,
    mut status: ImageJobStatus,
    ending: Ending<'_>,
) -> Result<Action> {
    let generation = job.metadata.generation;
    let now = now();
    let succeeded = ending.phase == Phase::Succeeded;
    status.observed_generation = generation;
    status.phase = Some(ending.phase);
    status.queue_position = None;
    status.completion_time = Some(ending.at.clone());
    status.reason = (!succeeded).then(|| ending.reason.to_owned());
    status.message = Some(ending.message.to_owned());
    if status.start_time.is_some() {
        set_condition(
            &mut status.conditions,
            Cond {
                type_: types::RUNNING,
                status: false,
                reason: reasons::RUNNER_FINISHED,
                message: ending.message,
            },
            generation,
            &now,
        );
    }
    set_condition(
        &mut status.conditions,
        Cond {
            type_: if succeeded {
                types::SUCCEEDED
            } else {
                types::FAILED
            },
            status: true,
            reason: ending.reason,
            message: ending.message,
        },
        generation,
        &now,
    );
    super::kubevirt::stop_vm(job, ctx).await?;
    let start = status.start_time.clone();
    let image_type = status.image_type;
    if write_status(ctx, job, &status).await? {
        info!(job = %job.name_any(), namespace = ?job.namespace(), phase = ending.phase.as_str(), reason = ending.reason, "job ended");
        ctx.metrics.finished(ending.phase, ending.reason);
        if let (Some(start), Some(t)) = (start, image_type) {
            let ran = ending.at.0.duration_since(start.0).as_secs_f64().max(0.0);
            ctx.metrics
                .run_seconds
                .get_or_create(&TypeLabels {
                    image_type: t.as_str().to_owned(),
                })
                .observe(ran);
        }
        let type_ = if succeeded {
            EventType::Normal
        } else {
            EventType::Warning
        };
        ctx.event(job, type_, ending.phase.as_str(), "Finish", ending.message)
            .await;
    }
    Ok(ttl_action(job, &status))
}

/// When a finished `job` with `status` is due for deletion, if ever.
fn ttl_due(job: &ImageJob, status: &ImageJobStatus) -> Option<jiff::Timestamp> {
    if job.spec.pinned {
        return None;
    }
    let ttl = job.spec.ttl_seconds_after_finished?;
    status
        .completion_time
        .as_ref()?
        .0
        .checked_add(jiff::SignedDuration::from_secs(ttl))
        .ok()
}

fn ttl_action(job: &ImageJob, status: &ImageJobStatus) -> Action {
    match ttl_due(job, status) {
        None => Action::await_change(),
        Some(due) => {
            let left = due.duration_since(jiff::Timestamp::now());
            Action::requeue(Duration::try_from(left).unwrap_or(Duration::ZERO))
        }
    }
}

/// A finished job: deletes it when its TTL has run out.
pub(crate) async fn after_finish(job: &ImageJob, ctx: &Context) -> Result<Action> {
    let mut status = job.status.clone().unwrap_or_default();
    // Spec edits of a finished job (pinning it, changing its TTL) are observed.
    if status.observed_generation != job.metadata.generation {
        status.observed_generation = job.metadata.generation;
        write_status(ctx, job, &status).await?;
    }
    let Some(due) = ttl_due(job, &status) else {
        return Ok(Action::await_change());
    };
    if jiff::Timestamp::now() < due {
        return Ok(ttl_action(job, &status));
    }
    // Notifications still owed keep the job (its record) a while past its TTL.
    let backoff = |n| ctx.config.notify.backoff(n);
    let grace = jiff::SignedDuration::from_secs(
        i64::try_from(ctx.config.notify.ttl_grace_seconds).unwrap_or(i64::MAX / 2),
    );
    if owes(job, channels(&ctx.config), jiff::Timestamp::now(), backoff)
        && due
            .checked_add(grace)
            .is_ok_and(|end| jiff::Timestamp::now() < end)
    {
        return Ok(Action::requeue(NOTIFY_WAIT));
    }
    info!(job = %job.name_any(), namespace = ?job.namespace(), "ttlSecondsAfterFinished passed; deleting");
    match jobs_api(ctx, job)?
        .delete(&job.name_any(), &DeleteParams::background())
        .await
    {
        Ok(_) => {}
        Err(kube::Error::Api(e)) if e.code == 404 => {}
        Err(e) => return Err(e.into()),
    }
    Ok(Action::await_change())
}
