//! Create: what the server sets and checks on a new object.

use std::sync::Arc;

use serde_json::{Value, json};

use super::write::{check_metadata, check_type, subject};
use super::{Cluster, WriteOptions, Written, type_key};
use crate::apiserver::crd;
use crate::apiserver::error::{ApiError, ApiResult};
use crate::apiserver::meta;
use crate::apiserver::resource::ResourceType;
use crate::apiserver::store::Stored;

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
        super::write::fold_string_data(rt, &mut obj);
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
}
