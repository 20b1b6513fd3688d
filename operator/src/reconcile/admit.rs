//! Checking a new (or changed) job and queueing it, or failing it with the reason.

use img_crd::conditions::{reasons, types};
use img_crd::{ImageJob, ImageJobStatus, Phase};
use kube::ResourceExt;
use kube::runtime::controller::Action;
use kube::runtime::events::EventType;
use std::time::Duration;

use super::write::write_status;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::status::{Cond, now, set_condition};
use crate::validate::{Fetched, Rejection, accept, check_spec, fetch};

/// How many reader warnings an Event lists.
const WARNINGS_SHOWN: usize = 5;

/// The job's 2010 id: `spec.legacyId`, or its uid.
pub(crate) fn legacy_id(job: &ImageJob) -> String {
    job.spec
        .legacy_id
        .clone()
        .unwrap_or_else(|| job.uid().unwrap_or_default())
}

/// Checks `job` and moves it to Queued, Failed (invalid) or Pending (source missing).
pub(crate) async fn admit(job: &ImageJob, ctx: &Context) -> Result<Action> {
    let namespace = job
        .namespace()
        .ok_or(Error::Missing("metadata.namespace"))?;
    let outcome = match check_spec(job) {
        Err(rejection) => Err(rejection),
        Ok(()) => match fetch(&ctx.client, &namespace, &job.spec).await? {
            Fetched::Missing(what) => return wait_for_source(job, ctx, what).await,
            Fetched::Found(source) => accept(&job.spec, source, &ctx.config.overlay_repos),
        },
    };
    let now = now();
    let generation = job.metadata.generation;
    let mut status = job.status.clone().unwrap_or_default();
    status.legacy_id = Some(legacy_id(job));
    status.observed_generation = generation;
    match outcome {
        Ok(accepted) => {
            // A job revalidated after an invalid spec starts over.
            status.conditions.retain(|c| c.type_ == types::ACCEPTED);
            status.reason = None;
            status.message = None;
            status.completion_time = None;
            status.phase = Some(Phase::Queued);
            status.image_type = Some(accepted.image_type);
            status.kickstart = Some(accepted.record.clone());
            status.queued_time.get_or_insert_with(|| now.clone());
            let message = format!(
                "{} kickstart accepted ({} bytes, sha256 {})",
                accepted.image_type,
                accepted.record.bytes,
                &accepted.record.sha256[..12]
            );
            set_condition(
                &mut status.conditions,
                Cond {
                    type_: types::ACCEPTED,
                    status: true,
                    reason: reasons::VALID,
                    message: &message,
                },
                generation,
                &now,
            );
            write_status(ctx, job, &status).await?;
            ctx.event(job, EventType::Normal, "Queued", "Admit", message)
                .await;
            if !accepted.warnings.is_empty() {
                let shown: Vec<_> = accepted.warnings.iter().take(WARNINGS_SHOWN).collect();
                ctx.event(
                    job,
                    EventType::Warning,
                    "KickstartWarnings",
                    "Admit",
                    format!("{shown:?}"),
                )
                .await;
            }
            Ok(Action::await_change())
        }
        Err(rejection) => reject(job, ctx, status, rejection).await,
    }
}

/// Fails `job` as invalid: it stays Failed until its spec changes.
async fn reject(
    job: &ImageJob,
    ctx: &Context,
    mut status: ImageJobStatus,
    rejection: Rejection,
) -> Result<Action> {
    let now = now();
    let generation = job.metadata.generation;
    let cond = |type_| Cond {
        type_,
        status: type_ == types::FAILED,
        reason: rejection.reason,
        message: &rejection.message,
    };
    set_condition(
        &mut status.conditions,
        cond(types::ACCEPTED),
        generation,
        &now,
    );
    set_condition(
        &mut status.conditions,
        cond(types::FAILED),
        generation,
        &now,
    );
    status.phase = Some(Phase::Failed);
    status.reason = Some(rejection.reason.to_owned());
    status.message = Some(rejection.message.clone());
    status.queue_position = None;
    status.completion_time.get_or_insert(now);
    if write_status(ctx, job, &status).await? {
        ctx.metrics.finished(Phase::Failed, rejection.reason);
        ctx.event(
            job,
            EventType::Warning,
            rejection.reason,
            "Admit",
            rejection.message,
        )
        .await;
    }
    Ok(Action::await_change())
}

/// Keeps `job` Pending while a referenced ConfigMap or Secret is missing.
async fn wait_for_source(job: &ImageJob, ctx: &Context, what: String) -> Result<Action> {
    let now = now();
    let generation = job.metadata.generation;
    let mut status = job.status.clone().unwrap_or_default();
    status.legacy_id = Some(legacy_id(job));
    status.observed_generation = generation;
    status.phase = Some(Phase::Pending);
    let message = format!("{what}; the job waits for it");
    set_condition(
        &mut status.conditions,
        Cond {
            type_: types::ACCEPTED,
            status: false,
            reason: reasons::SOURCE_NOT_FOUND,
            message: &message,
        },
        generation,
        &now,
    );
    if write_status(ctx, job, &status).await? {
        ctx.event(
            job,
            EventType::Warning,
            reasons::SOURCE_NOT_FOUND,
            "Admit",
            message,
        )
        .await;
    }
    Ok(Action::requeue(Duration::from_secs(
        ctx.config.source_recheck_seconds.max(1),
    )))
}
