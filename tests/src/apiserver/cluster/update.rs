//! Update: replacing an object or its status, with resourceVersion preconditions, the
//! server-owned metadata kept, no-op writes skipped and finished deletions completed.

use std::sync::Arc;

use serde_json::{Value, json};

use super::write::{RETRIES, check_metadata, check_type};
use super::{Cluster, Target, WriteOptions, Written};
use crate::apiserver::crd;
use crate::apiserver::error::{ApiError, ApiResult};
use crate::apiserver::meta;
use crate::apiserver::store::{Stored, WriteError};

impl Cluster {
    /// Reads an object, lets `change` edit it (in the version `target` names), and writes
    /// it back as an update (of the status only, with `status_only`), reading it again if it
    /// changed meanwhile. `Ok(None)` when the object is gone.
    pub fn modify(
        &self,
        target: Target<'_>,
        status_only: bool,
        opts: &WriteOptions,
        mut change: impl FnMut(&mut Value),
    ) -> ApiResult<Option<Written>> {
        for _ in 0..RETRIES {
            let current = match self.get(target) {
                Ok(c) => c,
                Err(e) if e.code == 404 => return Ok(None),
                Err(e) => return Err(e),
            };
            let mut next = Cluster::in_version(target.rt, &current);
            change(&mut next);
            let next = self.merge_update(target, &current, next, status_only)?;
            if let Some(written) = self.commit_update(target, &current, next, status_only, opts)? {
                return Ok(Some(written));
            }
        }
        Err(target.stale())
    }

    /// Replaces an object (`PUT`), or only its status (`PUT .../status`).
    pub fn update(
        &self,
        target: Target<'_>,
        mut body: Value,
        status_only: bool,
        opts: &WriteOptions,
    ) -> ApiResult<Written> {
        let rt = target.rt;
        check_type(rt, &body)?;
        let body_meta = meta::metadata_mut(&mut body)
            .ok_or_else(|| ApiError::bad_request("the body is not a JSON object"))?;
        match body_meta.get("name").and_then(Value::as_str) {
            Some(n) if n == target.name => {}
            Some(n) => {
                return Err(ApiError::bad_request(format!(
                    "the name of the object ({n}) does not match the name on the URL ({})",
                    target.name
                )));
            }
            None => {
                body_meta.insert("name".to_owned(), json!(target.name));
            }
        }
        if rt.namespaced {
            match body_meta.get("namespace").and_then(Value::as_str) {
                None | Some("") => {
                    body_meta.insert("namespace".to_owned(), json!(target.namespace));
                }
                Some(n) if n != target.namespace => {
                    return Err(ApiError::bad_request(
                        "the namespace of the provided object does not match the namespace sent on the request",
                    ));
                }
                Some(_) => {}
            }
        }
        let precondition = match body_meta.get("resourceVersion").and_then(Value::as_str) {
            None | Some("") => None,
            Some(v) => Some(
                v.parse::<u64>()
                    .map_err(|_| ApiError::bad_request(format!("invalid resource version: {v}")))?,
            ),
        };
        if precondition.is_none() && !rt.is_builtin() {
            // Custom resources do not allow unconditional updates.
            return Err(ApiError::invalid(
                target.subject(),
                target.name,
                "metadata.resourceVersion",
                "Invalid value: 0x0: must be specified for an update",
            ));
        }
        for attempt in 0..RETRIES {
            let current = self.get(target)?;
            if precondition.is_some_and(|rv| rv != current.rv) {
                return Err(target.stale());
            }
            let next = self.merge_update(target, &current, body.clone(), status_only)?;
            match self.commit_update(target, &current, next, status_only, opts)? {
                Some(written) => return Ok(written),
                None if attempt + 1 < RETRIES && precondition.is_none() => continue,
                None => break,
            }
        }
        Err(target.stale())
    }

    /// The object an update leads to: the body, with what the server owns taken from the
    /// current object (and status and the rest kept apart when status is a subresource).
    pub(crate) fn merge_update(
        &self,
        target: Target<'_>,
        current: &Stored,
        body: Value,
        status_only: bool,
    ) -> ApiResult<Value> {
        let rt = target.rt;
        let mut next = if status_only {
            let mut next = current.value.clone();
            match body.get("status") {
                Some(status) => next["status"] = status.clone(),
                None => {
                    if let Some(m) = next.as_object_mut() {
                        m.remove("status");
                    }
                }
            }
            next
        } else {
            let mut next = body;
            if rt.status_subresource {
                match current.value.get("status") {
                    Some(status) => next["status"] = status.clone(),
                    None => {
                        if let Some(m) = next.as_object_mut() {
                            m.remove("status");
                        }
                    }
                }
            }
            next
        };
        let old_meta = current.value["metadata"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        let new_meta = meta::metadata_mut(&mut next)
            .ok_or_else(|| ApiError::bad_request("the body is not a JSON object"))?;
        for owned in [
            "uid",
            "creationTimestamp",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "generation",
            "namespace",
            "name",
        ] {
            match old_meta.get(owned) {
                Some(v) => {
                    new_meta.insert(owned.to_owned(), v.clone());
                }
                None => {
                    new_meta.remove(owned);
                }
            }
        }
        new_meta.remove("selfLink");
        if meta::is_deleting(&current.value) {
            let before = meta::finalizers(&current.value);
            let added: Vec<String> = new_meta
                .get("finalizers")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .filter(|f| !before.iter().any(|b| b == f))
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default();
            if !added.is_empty() {
                return Err(ApiError::invalid(
                    target.subject(),
                    target.name,
                    "metadata.finalizers",
                    &format!(
                        "Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers {added:?}"
                    ),
                ));
            }
        }
        if meta::tracks_generation(rt) && meta::spec_changed(rt, &current.value, &next) {
            let generation = old_meta
                .get("generation")
                .and_then(Value::as_i64)
                .unwrap_or(1);
            next["metadata"]["generation"] = json!(generation + 1);
        }
        check_metadata(rt, target.name, &next)?;
        Ok(next)
    }

    /// Stores `next` over `current` (if it changed). `Ok(None)` when `current` changed
    /// meanwhile (the caller retries or reports a conflict).
    pub(crate) fn commit_update(
        &self,
        target: Target<'_>,
        current: &Arc<Stored>,
        mut next: Value,
        status_only: bool,
        opts: &WriteOptions,
    ) -> ApiResult<Option<Written>> {
        let rt = target.rt;
        let mut warnings = Vec::new();
        self.prune(rt, &mut next, opts.field_validation, &mut warnings)?;
        super::write::fold_string_data(rt, &mut next);
        if rt.kind == "CustomResourceDefinition" && rt.is_builtin() {
            crd::prepare(&mut next).map_err(|(field, m)| {
                ApiError::invalid(target.subject(), target.name, &field, &m)
            })?;
        }
        next["apiVersion"] = current.value["apiVersion"].clone();
        next["metadata"]["resourceVersion"] = current.value["metadata"]["resourceVersion"].clone();
        if unchanged(&current.value, &next) {
            // The real server does not write (nor bump the resourceVersion) for a no-op.
            return Ok(Some(Written {
                object: current.clone(),
                warnings,
            }));
        }
        let subresource = status_only.then_some("status");
        self.record_update(rt, Some(&current.value), &mut next, opts, subresource);
        if opts.dry_run {
            return Ok(Some(Written {
                object: Arc::new(Stored {
                    json: serde_json::to_vec(&next).unwrap_or_default().into(),
                    value: next,
                    rv: current.rv,
                }),
                warnings,
            }));
        }
        let finished = meta::is_deleting(&next) && !meta::deletion_blocked(rt, &next);
        let result = if finished {
            // The last finalizer is gone: the deletion completes.
            self.store.remove(
                &target.key(),
                target.namespace,
                target.name,
                Some(current.rv),
            )
        } else {
            self.store.replace(&target.key(), next, Some(current.rv))
        };
        match result {
            Ok(object) => {
                self.after_write(rt, &object, finished);
                Ok(Some(Written { object, warnings }))
            }
            Err(WriteError::Conflict) => Ok(None),
            Err(WriteError::NotFound) => Err(ApiError::not_found(target.subject(), target.name)),
            Err(WriteError::AlreadyExists) => Err(ApiError::internal("unexpected AlreadyExists")),
        }
    }
}

/// Whether two versions of an object are the same but for what every write changes.
fn unchanged(a: &Value, b: &Value) -> bool {
    fn strip(v: &Value) -> Value {
        let mut v = v.clone();
        if let Some(m) = v.get_mut("metadata").and_then(Value::as_object_mut) {
            m.remove("managedFields");
            m.remove("resourceVersion");
        }
        v
    }
    strip(a) == strip(b)
}
