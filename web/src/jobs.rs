//! Finding a job by its id (`<namespace>/<name>`) and changing it: cancel, retry, delete and
//! clear. Reads come from the watch's store; changes go to the Kubernetes API, and the
//! operator does the rest (stops the runner, removes the files through its finalizer).

use std::collections::BTreeMap;
use std::sync::Arc;

use img_crd::ImageJob;
use kube::api::{DeleteParams, Patch, PatchParams, PostParams};
use kube::runtime::reflector::ObjectRef;
use kube::{Api, ResourceExt as _};

use crate::app::AppState;
use crate::auth::User;
use crate::error::ApiError;
use crate::files::is_label;
use crate::view::SUBMITTER;

/// The annotation a retried job carries: the job it repeats.
pub const RETRY_OF: &str = "img.meego.com/retry-of";

/// The job `ns/name`, from the store; the id is checked first, so it can be echoed safely.
pub fn find(state: &AppState, ns: &str, name: &str) -> Result<Arc<ImageJob>, ApiError> {
    if !is_label(ns) || !is_label(name) {
        return Err(ApiError::BadRequest(format!(
            "{:?} is not a job id (namespace/name)",
            format!("{ns}/{name}")
        )));
    }
    state
        .jobs
        .get(&ObjectRef::<ImageJob>::new(name).within(ns))
        .ok_or_else(|| ApiError::NotFound(format!("no job {ns}/{name}")))
}

/// Waits (up to 5 s) until the watch has brought `job`, just created, into the store, so the
/// page or id handed back can be read at once (the store otherwise lags the API a little).
pub async fn until_stored(state: &AppState, job: &ImageJob) {
    let (Some(ns), Some(name)) = (
        job.metadata.namespace.as_deref(),
        job.metadata.name.as_deref(),
    ) else {
        return;
    };
    let key = ObjectRef::<ImageJob>::new(name).within(ns);
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
    while state.jobs.get(&key).is_none() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// `job`, if `user` may change it.
fn changeable(
    state: &AppState,
    user: &User,
    ns: &str,
    name: &str,
) -> Result<Arc<ImageJob>, ApiError> {
    let job = find(state, ns, name)?;
    if !user.may_change(&job) {
        return Err(ApiError::Forbidden(format!(
            "{ns}/{name} was submitted by {}; only they or an admin may change it",
            job.annotations()
                .get(SUBMITTER)
                .map_or("somebody else", String::as_str)
        )));
    }
    Ok(job)
}

fn api(state: &AppState, ns: &str) -> Api<ImageJob> {
    Api::namespaced(state.client.clone(), ns)
}

/// Asks the operator to stop the job (`spec.cancel`); a finished job cannot be cancelled.
pub async fn cancel(state: &AppState, user: &User, ns: &str, name: &str) -> Result<(), ApiError> {
    let job = changeable(state, user, ns, name)?;
    if job
        .status
        .as_ref()
        .and_then(|s| s.phase)
        .is_some_and(|p| p.is_finished())
    {
        return Err(ApiError::Conflict(format!("{ns}/{name} has already ended")));
    }
    let patch = serde_json::json!({ "spec": { "cancel": true } });
    api(state, ns)
        .patch(name, &PatchParams::default(), &Patch::Merge(&patch))
        .await?;
    tracing::info!(job = %format!("{ns}/{name}"), user = %user.name, "cancel requested");
    Ok(())
}

/// A new job with the same inputs, submitted by `user`; its name.
pub async fn retry(
    state: &AppState,
    user: &User,
    ns: &str,
    name: &str,
) -> Result<ImageJob, ApiError> {
    let old = changeable(state, user, ns, name)?;
    let mut spec = old.spec.clone();
    spec.cancel = false;
    spec.pinned = false;
    spec.legacy_id = None;
    let mut job = ImageJob::new("", spec);
    job.metadata.name = None;
    job.metadata.generate_name = Some("job-".into());
    job.metadata.annotations = Some(BTreeMap::from([
        (SUBMITTER.to_owned(), user.name.clone()),
        (RETRY_OF.to_owned(), name.to_owned()),
    ]));
    let created = api(state, ns).create(&PostParams::default(), &job).await?;
    tracing::info!(job = %format!("{ns}/{name}"), new = %created.name_any(), user = %user.name, "retried");
    until_stored(state, &created).await;
    Ok(created)
}

/// Deletes the job (the operator's finalizer stops its runner and removes its files).
pub async fn delete(state: &AppState, user: &User, ns: &str, name: &str) -> Result<(), ApiError> {
    changeable(state, user, ns, name)?;
    api(state, ns)
        .delete(name, &DeleteParams::background())
        .await?;
    tracing::info!(job = %format!("{ns}/{name}"), user = %user.name, "deleted");
    Ok(())
}

/// The jobs `clear` would remove for `user`: finished, not pinned, and theirs (an admin's
/// clear takes everyone's), as `namespace/name`.
pub fn clearable(state: &AppState, user: &User) -> Vec<Arc<ImageJob>> {
    let mut jobs: Vec<_> = state
        .jobs
        .state()
        .into_iter()
        .filter(|j| {
            !j.spec.pinned
                && j.metadata.deletion_timestamp.is_none()
                && j.status
                    .as_ref()
                    .and_then(|s| s.phase)
                    .is_some_and(|p| p.is_finished())
                && user.may_change(j)
        })
        .collect();
    jobs.sort_by_key(|j| (j.namespace(), j.name_any()));
    jobs
}

/// Removes the finished jobs of [`clearable`]; the ids removed.
pub async fn clear(state: &AppState, user: &User) -> Result<Vec<String>, ApiError> {
    let mut removed = Vec::new();
    for job in clearable(state, user) {
        let ns = job.namespace().unwrap_or_default();
        let name = job.name_any();
        match api(state, &ns)
            .delete(&name, &DeleteParams::background())
            .await
        {
            Ok(_) => removed.push(format!("{ns}/{name}")),
            // Gone meanwhile: nothing to clear.
            Err(kube::Error::Api(e)) if e.code == 404 => {}
            Err(e) => return Err(e.into()),
        }
    }
    tracing::info!(user = %user.name, count = removed.len(), "cleared finished jobs");
    Ok(removed)
}
