//! Starting an admitted job: the job Secret, the runner Pod, and status Running. A runner Pod
//! that already exists for the job (made before an operator restart, or by another replica
//! in a leadership hand-over) is adopted, never made twice.

use std::time::Duration;

use img_crd::conditions::{reasons, types};
use img_crd::runner::TemplateInput;
use img_crd::{ImageJob, Phase, RunnerKind};
use k8s_openapi::api::core::v1::{Pod, Secret};
use kube::api::PostParams;
use kube::runtime::controller::Action;
use kube::runtime::events::EventType;
use kube::{Api, ResourceExt};
use tracing::info;

use super::admit::legacy_id;
use super::write::write_status;
use crate::context::{Context, belongs_to};
use crate::error::{Error, Result};
use crate::runner::{describe, job_secret, runner_pod, runner_pod_name};
use crate::status::{Cond, now, set_condition};
use crate::validate::{Accepted, Fetched, accept, fetch};

/// Starts `job` if the queue admitted it (or adopts its existing runner Pod).
pub(crate) async fn start_if_admitted(job: &ImageJob, ctx: &Context) -> Result<Action> {
    let namespace = job
        .namespace()
        .ok_or(Error::Missing("metadata.namespace"))?;
    let pod_name = runner_pod_name(&job.name_any());
    if let Some(pod) = ctx.cached_pod(job, &pod_name) {
        return mark_running(job, ctx, &pod, "adopted").await;
    }
    if !ctx
        .queue
        .is_admitted(job.metadata.uid.as_deref().unwrap_or_default())
    {
        return Ok(Action::await_change());
    }
    let pods: Api<Pod> = Api::namespaced(ctx.client.clone(), &namespace);
    // The cache may lag behind a Pod made just before a restart: ask the server.
    if let Some(pod) = pods.get_opt(&pod_name).await? {
        if belongs_to(&pod, job) {
            return mark_running(job, ctx, &pod, "adopted").await;
        }
        // A Pod of an earlier job with this name, still going away.
        return Ok(Action::requeue(Duration::from_secs(2)));
    }
    let accepted = accepted_for_start(job, ctx).await?;
    let description = describe(job, &accepted, &legacy_id(job), &ctx.config.runner);
    if job.spec.runner.kind == RunnerKind::Kubevirt {
        return super::kubevirt::start(job, ctx, &description).await;
    }
    let secrets: Api<Secret> = Api::namespaced(ctx.client.clone(), &namespace);
    match secrets
        .create(&PostParams::default(), &job_secret(job, &description)?)
        .await
    {
        Ok(_) => ctx.metrics.created("Secret"),
        Err(kube::Error::Api(e)) if e.code == 409 => {}
        Err(e) => return Err(e.into()),
    }
    let pod = runner_pod(job, &description, &ctx.config.runner);
    let (pod, how) = match pods.create(&PostParams::default(), &pod).await {
        Ok(pod) => {
            ctx.metrics.created("Pod");
            (pod, "started")
        }
        // Another replica got there first: adopt its Pod.
        Err(kube::Error::Api(e)) if e.code == 409 => (pods.get(&pod_name).await?, "adopted"),
        Err(e) => return Err(e.into()),
    };
    mark_running(job, ctx, &pod, how).await
}

/// The kickstart to build: the one accepted at admission (from status, or the spec's own),
/// with the template for the runner when it still renders the same kickstart.
async fn accepted_for_start(job: &ImageJob, ctx: &Context) -> Result<Accepted> {
    let status = job.status.clone().unwrap_or_default();
    let record = status.kickstart.clone().unwrap_or_default();
    let kickstart = record
        .text
        .clone()
        .or_else(|| job.spec.source.kickstart.clone())
        .unwrap_or_default();
    let template = if job.spec.source.template.is_some() {
        template_if_unchanged(job, ctx, &record.sha256).await?
    } else {
        None
    };
    Ok(Accepted {
        image_type: status
            .image_type
            .ok_or(Error::Missing("status.imageType"))?,
        kickstart,
        record,
        template,
        warnings: Vec::new(),
    })
}

/// The template input, if rendering it again gives the accepted kickstart (`sha256`). A
/// template edited since admission is not used: the accepted kickstart is built as it is.
async fn template_if_unchanged(
    job: &ImageJob,
    ctx: &Context,
    sha256: &str,
) -> Result<Option<TemplateInput>> {
    let namespace = job.namespace().unwrap_or_default();
    let Fetched::Found(source) = fetch(&ctx.client, &namespace, &job.spec).await? else {
        return Ok(None);
    };
    Ok(accept(&job.spec, source, &ctx.config.overlay_repos)
        .ok()
        .filter(|a| a.record.sha256 == sha256)
        .and_then(|a| a.template))
}

/// Writes status Running for `job`, whose runner is `pod`.
pub(crate) async fn mark_running(
    job: &ImageJob,
    ctx: &Context,
    pod: &Pod,
    how: &str,
) -> Result<Action> {
    let now = now();
    let generation = job.metadata.generation;
    let mut status = job.status.clone().unwrap_or_default();
    status.observed_generation = generation;
    status.phase = Some(Phase::Running);
    status.queue_position = None;
    status.runner_pod = Some(pod.name_any());
    let started = status.start_time.get_or_insert_with(|| now.clone()).clone();
    let message = format!("runner Pod {} {how}", pod.name_any());
    set_condition(
        &mut status.conditions,
        Cond {
            type_: types::RUNNING,
            status: true,
            reason: reasons::RUNNER_STARTED,
            message: &message,
        },
        generation,
        &now,
    );
    if write_status(ctx, job, &status).await? {
        info!(job = %job.name_any(), namespace = ?job.namespace(), how, "runner started");
        if let Some(created) = &job.metadata.creation_timestamp {
            let waited = started.0.duration_since(created.0).as_secs_f64().max(0.0);
            ctx.metrics.wait_seconds.observe(waited);
        }
        ctx.event(job, EventType::Normal, "Started", "Run", message)
            .await;
    }
    Ok(super::running::requeue_at_deadline(job, ctx))
}
