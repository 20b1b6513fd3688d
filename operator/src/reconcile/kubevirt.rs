//! Starting a job on KubeVirt: the job Secret (with a fresh SSH key), the
//! VirtualMachineInstance, its SSH Service and the driver Pod; and removing the VM when the
//! job ends. Objects that exist already (an operator restart mid-start) are kept, and a key
//! already in the Secret is reused so the VM and the driver always agree.

use img_crd::conditions::reasons;
use img_crd::runner::JobDescription;
use img_crd::{ImageJob, RunnerKind};
use k8s_openapi::api::core::v1::{Pod, Secret, Service};
use kube::api::{DeleteParams, DynamicObject, PostParams};
use kube::runtime::controller::Action;
use kube::{Api, ResourceExt};
use ssh_key::{LineEnding, PrivateKey};

use super::finish::ended_by_operator;
use super::start::mark_running;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::runner::job_secret_name;
use crate::runner::kubevirt::{
    KubevirtSettings, SSH_KEY_FILE, SshKeys, generate_ssh_keys, kubevirt_objects, vmi_api_resource,
    vmi_name,
};

/// Creates `what` unless it exists (409 is success: made before a restart, or by another
/// replica).
async fn create_once<K>(api: &Api<K>, object: &K, ctx: &Context, what: &str) -> Result<()>
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + serde::Serialize + std::fmt::Debug,
{
    match api.create(&PostParams::default(), object).await {
        Ok(_) => {
            ctx.metrics.created(what);
            Ok(())
        }
        Err(kube::Error::Api(e)) if e.code == 409 => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// The key pair in an existing job Secret.
fn keys_from(secret: &Secret) -> Result<Option<SshKeys>> {
    let Some(bytes) = secret.data.as_ref().and_then(|d| d.get(SSH_KEY_FILE)) else {
        return Ok(None);
    };
    let private = PrivateKey::from_openssh(&bytes.0)?;
    Ok(Some(SshKeys {
        public_openssh: private.public_key().to_openssh()?,
        private_openssh: private.to_openssh(LineEnding::LF)?.to_string(),
    }))
}

/// Starts `job` on KubeVirt.
pub(crate) async fn start(
    job: &ImageJob,
    ctx: &Context,
    description: &JobDescription,
) -> Result<Action> {
    let namespace = job
        .namespace()
        .ok_or(Error::Missing("metadata.namespace"))?;
    let secrets: Api<Secret> = Api::namespaced(ctx.client.clone(), &namespace);
    let existing = secrets.get_opt(&job_secret_name(&job.name_any())).await?;
    let keys = match existing.as_ref().map(keys_from).transpose()?.flatten() {
        Some(keys) => keys,
        None => generate_ssh_keys()?,
    };
    let settings = KubevirtSettings {
        base_disk_claim: ctx.config.runner.kubevirt_base_disk_claim.clone(),
    };
    let objects = kubevirt_objects(job, description, &ctx.config.runner, &settings, &keys)?;
    if existing.is_none() {
        create_once(&secrets, &objects.secret, ctx, "Secret").await?;
    }
    let vmis: Api<DynamicObject> =
        Api::namespaced_with(ctx.client.clone(), &namespace, &vmi_api_resource());
    match create_once(&vmis, &objects.vmi, ctx, "VirtualMachineInstance").await {
        // The API is not there at all: retrying will not help.
        Err(Error::Kube(kube::Error::Api(e))) if e.code == 404 => {
            return ended_by_operator(
                job,
                ctx,
                reasons::KUBEVIRT_UNAVAILABLE,
                "spec.runner.kind is kubevirt, but this cluster does not serve virtualmachineinstances.kubevirt.io (install KubeVirt, or use the qemu runner)".to_owned(),
            )
            .await;
        }
        other => other?,
    }
    let services: Api<Service> = Api::namespaced(ctx.client.clone(), &namespace);
    create_once(&services, &objects.service, ctx, "Service").await?;
    let pods: Api<Pod> = Api::namespaced(ctx.client.clone(), &namespace);
    create_once(&pods, &objects.driver, ctx, "Pod").await?;
    let driver = pods.get(&objects.driver.name_any()).await?;
    mark_running(job, ctx, &driver, "started with a KubeVirt VM").await
}

/// Deletes a KubeVirt job's VM (its driver has ended, or the job was cancelled or deleted).
/// Nothing to do for QEMU jobs or a VM that is gone.
pub(crate) async fn stop_vm(job: &ImageJob, ctx: &Context) -> Result<()> {
    if job.spec.runner.kind != RunnerKind::Kubevirt {
        return Ok(());
    }
    let vmis: Api<DynamicObject> = Api::namespaced_with(
        ctx.client.clone(),
        &job.namespace().unwrap_or_default(),
        &vmi_api_resource(),
    );
    match vmis
        .delete(&vmi_name(&job.name_any()), &DeleteParams::background())
        .await
    {
        Ok(_) => Ok(()),
        // Gone, or KubeVirt is not installed at all.
        Err(kube::Error::Api(e)) if e.code == 404 => Ok(()),
        Err(e) => Err(e.into()),
    }
}
