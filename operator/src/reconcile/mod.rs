//! The reconciler: one ImageJob at a time, through its life.
//!
//! ```text
//!   (new) ──admit──> Queued ──queue admits──> Running ──runner ends──> Succeeded | Failed
//!     │               │                          │
//!     └─ invalid ─> Failed (until the spec changes)   spec.cancel ──> Cancelled
//!     └─ source missing ─> Pending (rechecked)
//! ```
//!
//! Every step reads what exists and writes status only when it changes; the finalizer's
//! cleanup stops the runner and removes the job's files before the object goes.

mod admit;
mod cleanup;
mod finalizer;
mod finish;
mod invalid;
mod kubevirt;
mod running;
mod start;
mod write;

use std::sync::Arc;

use img_crd::conditions::types;
use img_crd::{ImageJob, Phase};
use kube::ResourceExt;
use kube::core::DeserializeGuard;
use kube::runtime::controller::Action;
use tracing::{instrument, warn};

use crate::context::Context;
use crate::error::{Error, Result};
use crate::metrics::KindLabels;
use crate::status::is_true;

/// Reconciles one watched ImageJob: readable ones through [`reconcile`], unreadable ones are
/// failed with the reader's error.
pub async fn reconcile_guarded(
    guard: Arc<DeserializeGuard<ImageJob>>,
    ctx: Arc<Context>,
) -> Result<Action> {
    match &guard.0 {
        Ok(job) => reconcile(Arc::new(job.clone()), ctx).await,
        Err(invalid) => {
            ctx.metrics.reconciles.inc();
            invalid::reconcile_invalid(invalid, &ctx).await
        }
    }
}

/// [`error_policy`] for watched ImageJobs.
pub fn error_policy_guarded(
    guard: Arc<DeserializeGuard<ImageJob>>,
    error: &Error,
    ctx: Arc<Context>,
) -> Action {
    let job = match &guard.0 {
        Ok(job) => job.clone(),
        Err(invalid) => ImageJob {
            metadata: invalid.metadata.clone(),
            spec: Default::default(),
            status: None,
        },
    };
    error_policy(Arc::new(job), error, ctx)
}

/// Reconciles one ImageJob.
#[instrument(skip_all, fields(namespace = job.namespace().unwrap_or_default(), name = job.name_any()))]
pub async fn reconcile(job: Arc<ImageJob>, ctx: Arc<Context>) -> Result<Action> {
    ctx.metrics.reconciles.inc();
    let action = match finalizer::state(&job) {
        // The finalizer goes on before anything else happens; adding it triggers the next
        // reconcile.
        finalizer::State::Missing => {
            finalizer::add(&ctx, &job).await?;
            Action::await_change()
        }
        finalizer::State::Present => apply(&job, &ctx).await?,
        finalizer::State::Deleting => match cleanup::cleanup(&job, &ctx).await? {
            Some(wait) => wait,
            None => {
                finalizer::remove(&ctx, &job.metadata).await?;
                Action::await_change()
            }
        },
        finalizer::State::Gone => Action::await_change(),
    };
    ctx.reset_backoff(&job);
    Ok(action)
}

/// Moves a live (not deleting) job on.
async fn apply(job: &ImageJob, ctx: &Context) -> Result<Action> {
    let status = job.status.as_ref();
    let phase = status.and_then(|s| s.phase);
    let spec_changed = status.and_then(|s| s.observed_generation) != job.metadata.generation;
    let accepted = status.is_some_and(|s| is_true(&s.conditions, types::ACCEPTED));
    match phase {
        // An invalid job is looked at again only when its spec changes.
        Some(Phase::Failed) if !accepted && spec_changed && !job.spec.cancel => {
            admit::admit(job, ctx).await
        }
        Some(p) if p.is_finished() => finish::after_finish(job, ctx).await,
        _ if job.spec.cancel => finish::cancel(job, ctx).await,
        None | Some(Phase::Pending) => admit::admit(job, ctx).await,
        Some(Phase::Queued) if spec_changed => admit::admit(job, ctx).await,
        Some(Phase::Queued) => start::start_if_admitted(job, ctx).await,
        Some(_) => running::follow(job, ctx).await,
    }
}

/// Transient errors are retried with a backoff kept per job (spec problems never get here:
/// they end the job with a reason).
pub fn error_policy(job: Arc<ImageJob>, error: &Error, ctx: Arc<Context>) -> Action {
    ctx.metrics
        .reconcile_errors
        .get_or_create(&KindLabels {
            kind: error.metric_label().to_owned(),
        })
        .inc();
    let delay = ctx.next_backoff(&job);
    warn!(name = %job.name_any(), namespace = ?job.namespace(), error = %error, retry_in = ?delay, "reconcile failed");
    Action::requeue(delay)
}
