//! Create and update: what the server sets, checks and keeps on every write.

use std::sync::Arc;

use serde_json::{Value, json};

use super::{Cluster, FieldValidation, Target, WriteOptions, Written, type_key};
use crate::apiserver::crd;
use crate::apiserver::error::{ApiError, ApiResult, Subject};
use crate::apiserver::meta;
use crate::apiserver::resource::ResourceType;
use crate::apiserver::store::{Stored, WriteError};

/// How many times a write without a client precondition is retried on a concurrent change.
const RETRIES: usize = 8;

fn subject(rt: &ResourceType) -> Subject<'_> {
    Subject {
        plural: &rt.plural,
        group: &rt.group,
    }
}

/// Checks `apiVersion` and `kind` of a request body against the type the URL names.
pub(crate) fn check_type(rt: &ResourceType, obj: &Value) -> ApiResult<()> {
    if !obj.is_object() {
        return Err(ApiError::bad_request(
            "the body of the request is not a JSON object",
        ));
    }
    match obj["kind"].as_str() {
        None | Some("") => {
            return Err(ApiError::bad_request(format!(
                "Object 'Kind' is missing in '{}'",
                truncate(&obj.to_string())
            )));
        }
        Some(kind) if kind != rt.kind => {
            return Err(ApiError::bad_request(format!(
                "the kind of the object ({kind}) does not match the kind on the URL ({})",
                rt.kind
            )));
        }
        Some(_) => {}
    }
    match obj["apiVersion"].as_str() {
        Some(v) if v == rt.api_version() => Ok(()),
        Some(v) => Err(ApiError::bad_request(format!(
            "the API version in the data ({v}) does not match the expected API version ({})",
            rt.api_version()
        ))),
        None => Err(ApiError::bad_request(format!(
            "Object 'apiVersion' is missing in '{}'",
            truncate(&obj.to_string())
        ))),
    }
}

fn truncate(s: &str) -> String {
    s.chars().take(200).collect()
}

/// Validates the parts of metadata every write must respect.
fn check_metadata(rt: &ResourceType, name: &str, obj: &Value) -> ApiResult<()> {
    meta::validate_name(rt, name)
        .map_err(|m| ApiError::invalid(subject(rt), name, "metadata.name", &m))?;
    if let Some(labels) = obj["metadata"]["labels"].as_object() {
        meta::validate_labels(labels)
            .map_err(|(field, m)| ApiError::invalid(subject(rt), name, &field, &m))?;
    }
    Ok(())
}

/// The status a new object of a built-in kind starts with (what the real strategies set).
fn initial_status(rt: &ResourceType, obj: &mut Value) {
    if !rt.status_subresource {
        return;
    }
    let status = match (rt.is_builtin(), rt.kind.as_str()) {
        (false, _) => None,
        (true, "Pod") => Some(json!({"phase": "Pending", "qosClass": "BestEffort"})),
        (true, "PersistentVolumeClaim") => Some(json!({"phase": "Pending"})),
        (true, "Namespace") => {
            // The namespace strategy adds the finalizer the namespace controller removes.
            if obj["spec"]["finalizers"]
                .as_array()
                .is_none_or(Vec::is_empty)
            {
                obj["spec"]["finalizers"] = json!(["kubernetes"]);
            }
            Some(json!({"phase": "Active"}))
        }
        (true, "Service") => Some(json!({"loadBalancer": {}})),
        (true, _) => return,
    };
    let Some(root) = obj.as_object_mut() else {
        return;
    };
    match status {
        // Custom resources with a status subresource start without status.
        None => {
            root.remove("status");
        }
        Some(s) => {
            root.insert("status".to_owned(), s);
        }
    }
}

impl Cluster {
    /// Creates an object in namespace `ns` ("" for cluster-scoped types).
    pub fn create(
        &self,
        rt: &ResourceType,
        ns: &str,
        mut obj: Value,
        opts: &WriteOptions,
    ) -> ApiResult<Written> {
        check_type(rt, &obj)?;
        let meta_map = meta::metadata_mut(&mut obj)
            .ok_or_else(|| ApiError::bad_request("the body is not a JSON object"))?;
        if rt.namespaced {
            match meta_map.get("namespace").and_then(Value::as_str) {
                None | Some("") => {
                    meta_map.insert("namespace".to_owned(), json!(ns));
                }
                Some(n) if n != ns => {
                    return Err(ApiError::bad_request(
                        "the namespace of the provided object does not match the namespace sent on the request",
                    ));
                }
                Some(_) => {}
            }
        } else {
            meta_map.remove("namespace");
        }
        let name = match meta_map.get("name").and_then(Value::as_str) {
            Some(n) if !n.is_empty() => n.to_owned(),
            _ => match meta_map.get("generateName").and_then(Value::as_str) {
                Some(prefix) if !prefix.is_empty() => meta::generate_name(prefix),
                _ => {
                    return Err(ApiError::invalid(
                        subject(rt),
                        "",
                        "metadata.name",
                        "Required value: name or generateName is required",
                    ));
                }
            },
        };
        if meta_map
            .get("resourceVersion")
            .and_then(Value::as_str)
            .is_some_and(|v| !v.is_empty())
        {
            return Err(ApiError::internal(
                "Internal error occurred: resourceVersion should not be set on objects to be created",
            ));
        }
        meta_map.insert("name".to_owned(), json!(name));
        meta_map.insert("uid".to_owned(), json!(meta::new_uid()));
        meta_map.insert("creationTimestamp".to_owned(), json!(meta::now()));
        for server_only in [
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "selfLink",
        ] {
            meta_map.remove(server_only);
        }
        if meta::tracks_generation(rt) {
            meta_map.insert("generation".to_owned(), json!(1));
        } else {
            meta_map.remove("generation");
        }
        check_metadata(rt, &name, &obj)?;
        self.check_namespace(rt, ns, &name)?;
        initial_status(rt, &mut obj);
        let mut warnings = Vec::new();
        self.prune(rt, &mut obj, opts.field_validation, &mut warnings)?;
        if rt.kind == "CustomResourceDefinition" && rt.is_builtin() {
            crd::prepare(&mut obj)
                .map_err(|(field, m)| ApiError::invalid(subject(rt), &name, &field, &m))?;
        }
        self.record_update(rt, None, &mut obj, opts, None);
        let stored_rt = self.storage_type(rt);
        obj["apiVersion"] = json!(stored_rt.api_version());
        if opts.dry_run {
            return Ok(Written {
                object: Arc::new(Stored {
                    json: serde_json::to_vec(&obj).unwrap_or_default().into(),
                    value: obj,
                    rv: 0,
                }),
                warnings,
            });
        }
        let stored = self
            .store
            .create(&type_key(rt), obj)
            .map_err(|_| ApiError::already_exists(subject(rt), &name))?;
        self.after_write(rt, &stored, false);
        Ok(Written {
            object: stored,
            warnings,
        })
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
                return Err(ApiError::conflict(
                    target.subject(),
                    target.name,
                    "the object has been modified; please apply your changes to the latest version and try again",
                ));
            }
            let next = self.merge_update(target, &current, body.clone(), status_only)?;
            match self.commit_update(target, &current, next, status_only, opts)? {
                Some(written) => return Ok(written),
                None if attempt + 1 < RETRIES && precondition.is_none() => continue,
                None => break,
            }
        }
        Err(ApiError::conflict(
            target.subject(),
            target.name,
            "the object has been modified; please apply your changes to the latest version and try again",
        ))
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

    /// Drops the fields of a custom resource its schema does not declare, as the real server
    /// prunes structural schemas, reporting them as `fieldValidation` asks.
    pub(crate) fn prune(
        &self,
        rt: &ResourceType,
        obj: &mut Value,
        validation: FieldValidation,
        warnings: &mut Vec<String>,
    ) -> ApiResult<()> {
        let Some(schema) = &rt.schema else {
            return Ok(());
        };
        let unknown = crd::prune(obj, schema);
        if unknown.is_empty() {
            return Ok(());
        }
        match validation {
            FieldValidation::Ignore => Ok(()),
            FieldValidation::Warn => {
                warnings.extend(unknown.iter().map(|f| format!("unknown field \"{f}\"")));
                Ok(())
            }
            FieldValidation::Strict => Err(ApiError::bad_request(format!(
                "{} in version \"{}\" cannot be handled as a {}: strict decoding error: {}",
                rt.kind,
                rt.api_version(),
                rt.kind,
                unknown
                    .iter()
                    .map(|f| format!("unknown field \"{f}\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        }
    }

    /// Records the write in `metadata.managedFields` (operation `Update`).
    pub(crate) fn record_update(
        &self,
        rt: &ResourceType,
        old: Option<&Value>,
        new: &mut Value,
        opts: &WriteOptions,
        subresource: Option<&str>,
    ) {
        if opts.applied {
            return;
        }
        let Some(manager) = opts.manager() else {
            return;
        };
        let schema = super::schema_for(rt);
        *new = crate::apiserver::patch::record_update(
            old,
            new,
            manager,
            subresource,
            &rt.api_version(),
            &meta::now(),
            schema.as_ref(),
        );
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
