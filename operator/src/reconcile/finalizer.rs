//! The cleanup finalizer, added before a job is looked at and removed once its cleanup is
//! complete. (kube's `finalizer` helper removes the finalizer whenever cleanup returns `Ok`;
//! a cleanup that waits for a runner to stop or a cleanup Pod to finish needs "not yet".)

use img_crd::ImageJob;
use img_crd::labels::FINALIZER;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::ResourceExt;
use kube::api::{Api, Patch, PatchParams};
use kube::core::DeserializeGuard;
use serde_json::json;

use crate::context::Context;
use crate::error::{Error, Result};

/// Where a job stands with the finalizer.
pub(crate) enum State {
    /// Without the finalizer and not being deleted: it must be added first.
    Missing,
    /// With the finalizer, alive.
    Present,
    /// Being deleted with the finalizer: clean up, then remove it.
    Deleting,
    /// Being deleted without the finalizer: nothing to do.
    Gone,
}

/// The finalizer state of `job`.
pub(crate) fn state(job: &ImageJob) -> State {
    let has = job.finalizers().iter().any(|f| f == FINALIZER);
    match (has, job.metadata.deletion_timestamp.is_some()) {
        (false, false) => State::Missing,
        (true, false) => State::Present,
        (true, true) => State::Deleting,
        (false, true) => State::Gone,
    }
}

/// Adds the finalizer (guarded by a test of the current list, so a concurrent change makes
/// this fail and the job is looked at again).
pub(crate) async fn add(ctx: &Context, job: &ImageJob) -> Result<()> {
    let current = job.finalizers();
    let ops = if current.is_empty() {
        json!([
            {"op": "test", "path": "/metadata/finalizers", "value": null},
            {"op": "add", "path": "/metadata/finalizers", "value": [FINALIZER]},
        ])
    } else {
        json!([
            {"op": "test", "path": "/metadata/finalizers", "value": current},
            {"op": "add", "path": "/metadata/finalizers/-", "value": FINALIZER},
        ])
    };
    patch(ctx, &job.metadata, ops).await
}

/// Removes the finalizer from the job with `meta` (guarded by a test of its index). Works
/// for jobs that cannot be read as well.
pub(crate) async fn remove(ctx: &Context, meta: &ObjectMeta) -> Result<()> {
    let finalizers = meta.finalizers.as_deref().unwrap_or_default();
    let Some(i) = finalizers.iter().position(|f| f == FINALIZER) else {
        return Ok(());
    };
    let path = format!("/metadata/finalizers/{i}");
    let ops = json!([
        {"op": "test", "path": path, "value": FINALIZER},
        {"op": "remove", "path": path},
    ]);
    match patch(ctx, meta, ops).await {
        // Gone already: nothing holds it any more.
        Err(Error::Kube(kube::Error::Api(e))) if e.code == 404 => Ok(()),
        other => other,
    }
}

async fn patch(ctx: &Context, meta: &ObjectMeta, ops: serde_json::Value) -> Result<()> {
    let namespace = meta
        .namespace
        .as_deref()
        .ok_or(Error::Missing("metadata.namespace"))?;
    let name = meta
        .name
        .as_deref()
        .ok_or(Error::Missing("metadata.name"))?;
    // Through `DeserializeGuard`, so the answer is read even for a job that cannot be.
    let api: Api<DeserializeGuard<ImageJob>> = Api::namespaced(ctx.client.clone(), namespace);
    api.patch(
        name,
        &PatchParams::default(),
        &Patch::Json::<()>(serde_json::from_value(ops)?),
    )
    .await?;
    Ok(())
}
