//! Status writes: a merge patch of exactly what changed, or nothing.

use img_crd::{ImageJob, ImageJobStatus};
use kube::api::{Patch, PatchParams};
use kube::{Api, ResourceExt};
use serde_json::json;

use crate::context::Context;
use crate::error::{Error, Result};
use crate::status::merge_diff;

/// The ImageJob API of `job`'s namespace.
pub(crate) fn jobs_api(ctx: &Context, job: &ImageJob) -> Result<Api<ImageJob>> {
    let ns = job
        .namespace()
        .ok_or(Error::Missing("metadata.namespace"))?;
    Ok(Api::namespaced(ctx.client.clone(), &ns))
}

/// Writes `status` for `job` if it differs from the status `job` carries; returns whether it
/// wrote.
pub(crate) async fn write_status(
    ctx: &Context,
    job: &ImageJob,
    status: &ImageJobStatus,
) -> Result<bool> {
    let old = serde_json::to_value(job.status.clone().unwrap_or_default())?;
    let new = serde_json::to_value(status)?;
    let Some(diff) = merge_diff(&old, &new) else {
        return Ok(false);
    };
    jobs_api(ctx, job)?
        .patch_status(
            &job.name_any(),
            &PatchParams::default(),
            &Patch::Merge(json!({ "status": diff })),
        )
        .await?;
    ctx.metrics.status_written("reconciler");
    Ok(true)
}
