//! ImageJobs that cannot even be read (a field of the wrong type, say — a cluster without the
//! CRD's schema, or an old object after a schema change, can hold one). They are watched
//! through `DeserializeGuard`, so one such object never stops the controller; each is marked
//! Failed with the reader's error, once per distinct error, and let go when deleted.

use img_crd::conditions::{reasons, types};
use img_crd::{ImageJob, Phase};
use kube::api::{Patch, PatchParams};
use kube::core::DeserializeGuard;
use kube::core::error_boundary::InvalidObject;
use kube::runtime::controller::Action;
use kube::runtime::events::{Event, EventType};
use kube::{Api, Resource};
use serde_json::json;

use crate::context::Context;
use crate::error::{Error, Result};
use crate::status::{Cond, now, set_condition};

/// Handles an ImageJob that does not deserialize.
pub(crate) async fn reconcile_invalid(invalid: &InvalidObject, ctx: &Context) -> Result<Action> {
    let meta = &invalid.metadata;
    let namespace = meta
        .namespace
        .clone()
        .ok_or(Error::Missing("metadata.namespace"))?;
    let name = meta.name.clone().ok_or(Error::Missing("metadata.name"))?;
    let api: Api<DeserializeGuard<ImageJob>> = Api::namespaced(ctx.client.clone(), &namespace);

    if meta.deletion_timestamp.is_some() {
        // It never ran (it could not be read), so there are no files: let it go.
        super::finalizer::remove(ctx, meta).await?;
        return Ok(Action::await_change());
    }

    let uid = meta.uid.clone().unwrap_or_default();
    let message = format!("the ImageJob cannot be read: {}", invalid.error);
    if !ctx.note_invalid(&uid, &message) {
        return Ok(Action::await_change());
    }
    let now = now();
    let mut conditions = Vec::new();
    for type_ in [types::ACCEPTED, types::FAILED] {
        set_condition(
            &mut conditions,
            Cond {
                type_,
                status: type_ == types::FAILED,
                reason: reasons::INVALID_SPEC,
                message: &message,
            },
            meta.generation,
            &now,
        );
    }
    let patch = json!({"status": {
        "phase": Phase::Failed,
        "reason": reasons::INVALID_SPEC,
        "message": message,
        "observedGeneration": meta.generation,
        "conditions": conditions,
        "completionTime": now,
        "queuePosition": null,
    }});
    api.patch_status(&name, &PatchParams::default(), &Patch::Merge(patch))
        .await?;
    ctx.metrics.status_written("reconciler");
    ctx.metrics.finished(Phase::Failed, reasons::INVALID_SPEC);
    let reference = k8s_openapi::api::core::v1::ObjectReference {
        api_version: Some(ImageJob::api_version(&()).into_owned()),
        kind: Some(ImageJob::kind(&()).into_owned()),
        name: Some(name),
        namespace: Some(namespace),
        uid: meta.uid.clone(),
        ..Default::default()
    };
    let event = Event {
        type_: EventType::Warning,
        reason: reasons::INVALID_SPEC.to_owned(),
        note: Some(img_crd::runner::shorten(&message, 1024)),
        action: "Admit".to_owned(),
        secondary: None,
    };
    if ctx.recorder.publish(&event, &reference).await.is_ok() {
        ctx.metrics.created("Event");
    }
    Ok(Action::await_change())
}
