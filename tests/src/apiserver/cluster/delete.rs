//! Deletion: preconditions, finalizers and `deletionTimestamp`, graceful deletion of Pods
//! bound to a node, and the propagation policies the garbage collector carries out.

use std::sync::Arc;

use serde_json::{Value, json};

use super::{Cluster, Target};
use crate::apiserver::error::{ApiError, ApiResult};
use crate::apiserver::meta;
use crate::apiserver::store::{Stored, WriteError};

/// What happens to an object's dependents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Propagation {
    /// The garbage collector deletes them after the owner is gone (the default).
    #[default]
    Background,
    /// They are deleted first; the owner waits with the `foregroundDeletion` finalizer.
    Foreground,
    /// Their owner references are removed; they stay.
    Orphan,
}

impl Propagation {
    /// Parses `propagationPolicy`.
    pub fn parse(s: &str) -> ApiResult<Self> {
        match s {
            "Background" => Ok(Self::Background),
            "Foreground" => Ok(Self::Foreground),
            "Orphan" => Ok(Self::Orphan),
            other => Err(ApiError::bad_request(format!(
                "propagationPolicy: Unsupported value: \"{other}\": supported values: \"Foreground\", \"Background\", \"Orphan\""
            ))),
        }
    }

    /// The finalizer that makes the owner wait, if any.
    fn finalizer(self) -> Option<&'static str> {
        match self {
            Propagation::Background => None,
            Propagation::Foreground => Some("foregroundDeletion"),
            Propagation::Orphan => Some("orphan"),
        }
    }
}

/// `DeleteOptions`.
#[derive(Debug, Clone, Default)]
pub struct DeleteOptions {
    /// `propagationPolicy`.
    pub propagation: Propagation,
    /// `gracePeriodSeconds`.
    pub grace_period: Option<i64>,
    /// `preconditions.uid`.
    pub uid: Option<String>,
    /// `preconditions.resourceVersion`.
    pub resource_version: Option<String>,
    /// `dryRun=All`.
    pub dry_run: bool,
}

impl DeleteOptions {
    /// Reads a `DeleteOptions` body (fields override the query parameters already set).
    pub fn merge_body(&mut self, body: &Value) -> ApiResult<()> {
        if let Some(p) = body["propagationPolicy"].as_str() {
            self.propagation = Propagation::parse(p)?;
        } else if body["orphanDependents"] == true {
            self.propagation = Propagation::Orphan;
        }
        if let Some(g) = body["gracePeriodSeconds"].as_i64() {
            self.grace_period = Some(g);
        }
        if let Some(uid) = body["preconditions"]["uid"].as_str() {
            self.uid = Some(uid.to_owned());
        }
        if let Some(rv) = body["preconditions"]["resourceVersion"].as_str() {
            self.resource_version = Some(rv.to_owned());
        }
        if body["dryRun"]
            .as_array()
            .is_some_and(|d| d.iter().any(|x| x == "All"))
        {
            self.dry_run = true;
        }
        Ok(())
    }
}

/// The outcome of a delete.
#[derive(Debug)]
pub enum Deleted {
    /// The object is gone; this was its last state.
    Now(Arc<Stored>),
    /// The object waits for finalizers or a grace period; this is its state now.
    Pending(Arc<Stored>),
}

impl Cluster {
    /// Deletes an object.
    pub fn delete(&self, target: Target<'_>, opts: &DeleteOptions) -> ApiResult<Deleted> {
        loop {
            let current = self.get(target)?;
            let uid = current.value["metadata"]["uid"].as_str().unwrap_or("");
            if let Some(want) = opts.uid.as_deref().filter(|w| *w != uid) {
                return Err(ApiError::conflict(
                    target.subject(),
                    target.name,
                    &format!(
                        "Precondition failed: UID in precondition: {want}, UID in object meta: {uid}"
                    ),
                ));
            }
            if let Some(want) = opts
                .resource_version
                .as_deref()
                .filter(|w| *w != current.rv.to_string())
            {
                return Err(ApiError::conflict(
                    target.subject(),
                    target.name,
                    &format!(
                        "Precondition failed: ResourceVersion in precondition: {want}, ResourceVersion in object meta: {}",
                        current.rv
                    ),
                ));
            }
            let mut next = current.value.clone();
            let mut finalizers = meta::finalizers(&next);
            if let Some(f) = opts.propagation.finalizer()
                && !finalizers.iter().any(|x| x == f)
                && !meta::is_deleting(&next)
            {
                finalizers.push(f.to_owned());
            }
            let grace = self.grace_period(target, &current.value, opts);
            // A namespace waits for its contents: `spec.finalizers` holds "kubernetes" until
            // the namespace controller has emptied it.
            let namespace_pending =
                target.rt.kind == "Namespace" && meta::deletion_blocked(target.rt, &current.value);
            // Already on its way out: a second delete only matters when it finishes the job
            // (what the kubelet does once a Pod's processes are gone: grace period 0, no
            // finalizers left).
            if meta::is_deleting(&current.value)
                && (namespace_pending || !(grace == Some(0) && finalizers.is_empty()))
            {
                return Ok(Deleted::Pending(current));
            }
            if opts.dry_run {
                return Ok(
                    if finalizers.is_empty() && grace.is_none_or(|g| g == 0) && !namespace_pending {
                        Deleted::Now(current)
                    } else {
                        Deleted::Pending(current)
                    },
                );
            }
            let result =
                if finalizers.is_empty() && grace.is_none_or(|g| g == 0) && !namespace_pending {
                    self.store
                        .remove(
                            &target.key(),
                            target.namespace,
                            target.name,
                            Some(current.rv),
                        )
                        .inspect(|gone| self.after_write(target.rt, gone, true))
                        .map(Deleted::Now)
                } else {
                    let m = &mut next["metadata"];
                    if m["deletionTimestamp"].is_null() {
                        m["deletionTimestamp"] = json!(deletion_time(grace.unwrap_or(0)));
                    }
                    m["deletionGracePeriodSeconds"] = json!(grace.unwrap_or(0));
                    m["finalizers"] = json!(finalizers);
                    self.store
                        .replace(&target.key(), next, Some(current.rv))
                        .map(Deleted::Pending)
                };
            match result {
                Ok(outcome) => return Ok(outcome),
                // Changed meanwhile: read it again.
                Err(WriteError::Conflict) => continue,
                Err(WriteError::NotFound) => {
                    return Err(ApiError::not_found(target.subject(), target.name));
                }
                Err(WriteError::AlreadyExists) => {
                    return Err(ApiError::internal("unexpected AlreadyExists on delete"));
                }
            }
        }
    }

    /// The grace period of a deletion: only Pods bound to a node get one (as on the real
    /// server, where unbound Pods go at once).
    fn grace_period(&self, target: Target<'_>, obj: &Value, opts: &DeleteOptions) -> Option<i64> {
        let bound_pod = target.rt.is_builtin()
            && target.rt.kind == "Pod"
            && obj["spec"]["nodeName"]
                .as_str()
                .is_some_and(|n| !n.is_empty());
        if !bound_pod {
            return None;
        }
        Some(
            opts.grace_period
                .or_else(|| obj["spec"]["terminationGracePeriodSeconds"].as_i64())
                .unwrap_or(30)
                .max(0),
        )
    }
}

/// `deletionTimestamp`: now, plus the grace period.
fn deletion_time(grace_seconds: i64) -> String {
    let when = jiff::Timestamp::now()
        .checked_add(jiff::SignedDuration::from_secs(grace_seconds))
        .unwrap_or_else(|_| jiff::Timestamp::now());
    meta::timestamp(when)
}
