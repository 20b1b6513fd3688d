//! PATCH: JSON patch (RFC 6902, with `test`), JSON merge patch (RFC 7386), strategic merge
//! patch (built-in kinds only, as on the real server) and server-side apply.

use serde_json::Value;

use super::write::RETRIES;
use super::{Cluster, FieldValidation, Target, WriteOptions, Written, schema_for};
use crate::apiserver::error::{ApiError, ApiResult};
use crate::apiserver::patch;

/// The patch formats, by `Content-Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchKind {
    /// `application/json-patch+json`.
    Json,
    /// `application/merge-patch+json`.
    Merge,
    /// `application/strategic-merge-patch+json`.
    Strategic,
    /// `application/apply-patch+yaml`.
    Apply,
}

impl PatchKind {
    /// The patch format of a `Content-Type` header.
    pub fn from_content_type(content_type: &str) -> ApiResult<Self> {
        let media = content_type.split(';').next().unwrap_or("").trim();
        match media {
            "application/json-patch+json" => Ok(Self::Json),
            "application/merge-patch+json" => Ok(Self::Merge),
            "application/strategic-merge-patch+json" => Ok(Self::Strategic),
            "application/apply-patch+yaml" => Ok(Self::Apply),
            other => Err(ApiError::unsupported_media_type(format!(
                "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml (got {other:?})"
            ))),
        }
    }
}

/// A JSON patch applied to `doc`; a failed `test` or a path that does not exist is 422.
///
/// As in the JSON patch library Kubernetes uses, `test` of a path that does not exist
/// against `null` succeeds: kube-runtime's finalizer helper depends on it to add the first
/// finalizer.
pub(crate) fn json_patch(doc: &Value, body: &[u8]) -> ApiResult<Value> {
    let patch: json_patch::Patch = serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("error decoding patch: {e}")))?;
    let rejected = |message: String| ApiError {
        code: 422,
        reason: "Invalid",
        message: format!(
            "the server rejected our request due to an error in our request: {message}"
        ),
        details: None,
    };
    let mut out = doc.clone();
    for op in patch.0 {
        if let json_patch::PatchOperation::Test(t) = &op
            && t.value.is_null()
        {
            let actual = out.pointer(t.path.as_str()).unwrap_or(&Value::Null);
            if !actual.is_null() {
                return Err(rejected(format!(
                    "testing value {} failed: test failed",
                    t.path.as_str()
                )));
            }
            continue;
        }
        json_patch::patch(&mut out, std::slice::from_ref(&op))
            .map_err(|e| rejected(e.to_string()))?;
    }
    Ok(out)
}

/// A JSON merge patch applied to `doc`.
pub(crate) fn merge_patch(doc: &Value, body: &[u8]) -> ApiResult<Value> {
    let patch: Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("error decoding patch: {e}")))?;
    if !patch.is_object() {
        return Err(ApiError::bad_request(
            "error decoding patch: a merge patch must be a JSON object",
        ));
    }
    let mut out = doc.clone();
    json_patch::merge(&mut out, &patch);
    Ok(out)
}

impl Cluster {
    /// Patches an object (or, with `status_only`, its status).
    pub fn patch(
        &self,
        target: Target<'_>,
        kind: PatchKind,
        body: &[u8],
        status_only: bool,
        opts: &WriteOptions,
    ) -> ApiResult<Written> {
        let rt = target.rt;
        if kind == PatchKind::Strategic && !rt.is_builtin() {
            return Err(ApiError::unsupported_media_type(
                "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml",
            ));
        }
        if kind == PatchKind::Apply {
            return self.apply(target, body, status_only, opts);
        }
        if kind == PatchKind::Strategic {
            return self.strategic(target, body, status_only, opts);
        }
        self.patch_with(target, status_only, opts, |served| match kind {
            PatchKind::Json => json_patch(served, body),
            _ => merge_patch(served, body),
        })
    }

    /// Reads the object, lets `produce` patch it (in the version `target` names), checks the
    /// result and writes it as an update, reading again if the object changed meanwhile.
    fn patch_with(
        &self,
        target: Target<'_>,
        status_only: bool,
        opts: &WriteOptions,
        mut produce: impl FnMut(&Value) -> ApiResult<Value>,
    ) -> ApiResult<Written> {
        for _ in 0..RETRIES {
            let current = self.get(target)?;
            let patched = produce(&Cluster::in_version(target.rt, &current))?;
            let next = self.checked_patch_result(target, &current, patched, status_only)?;
            if let Some(written) = self.commit_update(target, &current, next, status_only, opts)? {
                return Ok(written);
            }
        }
        Err(target.stale())
    }

    /// Checks what a patch produced (identity and resourceVersion precondition) and merges it
    /// as an update would.
    fn checked_patch_result(
        &self,
        target: Target<'_>,
        current: &crate::apiserver::store::Stored,
        patched: Value,
        status_only: bool,
    ) -> ApiResult<Value> {
        super::write::check_type(target.rt, &patched)?;
        let name = patched["metadata"]["name"].as_str().unwrap_or("");
        if name != target.name {
            return Err(ApiError::bad_request(format!(
                "the name of the object ({name}) does not match the name on the URL ({})",
                target.name
            )));
        }
        let rv = patched["metadata"]["resourceVersion"]
            .as_str()
            .unwrap_or("");
        if !rv.is_empty() && rv != current.rv.to_string() {
            return Err(target.stale());
        }
        self.merge_update(target, current, patched, status_only)
    }

    fn strategic(
        &self,
        target: Target<'_>,
        body: &[u8],
        status_only: bool,
        opts: &WriteOptions,
    ) -> ApiResult<Written> {
        let patch: Value = serde_json::from_slice(body)
            .map_err(|e| ApiError::bad_request(format!("error decoding patch: {e}")))?;
        let schema = schema_for(target.rt);
        self.patch_with(target, status_only, opts, |served| {
            let outcome = patch::strategic_merge_report(served, &patch, schema.as_ref())
                .map_err(patch_error)?;
            if opts.field_validation == FieldValidation::Strict
                && let Some(e) = outcome.strict_error(&patch)
            {
                return Err(patch_error(e));
            }
            Ok(outcome.object)
        })
    }

    /// Server-side apply: create the object, or merge the applied configuration into it,
    /// with field ownership in `managedFields`.
    fn apply(
        &self,
        target: Target<'_>,
        body: &[u8],
        status_only: bool,
        opts: &WriteOptions,
    ) -> ApiResult<Written> {
        let rt = target.rt;
        let Some(manager) = opts.field_manager.as_deref().filter(|m| !m.is_empty()) else {
            return Err(ApiError::bad_request(
                "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch",
            ));
        };
        let mut applied: Value = serde_yaml::from_slice(body)
            .map_err(|e| ApiError::bad_request(format!("error decoding YAML: {e}")))?;
        super::write::check_type(rt, &applied)?;
        match applied["metadata"]["name"].as_str() {
            Some(n) if n == target.name => {}
            None => applied["metadata"]["name"] = Value::String(target.name.to_owned()),
            Some(n) => {
                return Err(ApiError::bad_request(format!(
                    "the name of the object ({n}) does not match the name on the URL ({})",
                    target.name
                )));
            }
        }
        if rt.namespaced {
            applied["metadata"]["namespace"] = Value::String(target.namespace.to_owned());
        }
        // Status and the rest are applied separately when status is a subresource.
        if rt.status_subresource
            && let Some(root) = applied.as_object_mut()
        {
            if status_only {
                root.retain(|k, _| {
                    matches!(k.as_str(), "apiVersion" | "kind" | "metadata" | "status")
                });
            } else {
                root.remove("status");
            }
        }
        let schema = schema_for(rt);
        let now = crate::apiserver::meta::now();
        let api_version = rt.api_version();
        let apply_opts = WriteOptions {
            applied: true,
            ..opts.clone()
        };
        for _ in 0..RETRIES {
            let current = self.store.get(&target.key(), target.namespace, target.name);
            let served = current.as_ref().map(|c| Cluster::in_version(rt, c));
            let request = patch::Apply {
                live: served.as_ref(),
                applied: &applied,
                manager,
                force: opts.force,
                subresource: status_only.then_some("status"),
                api_version: &api_version,
                now: &now,
            };
            let next = patch::apply(&request, schema.as_ref()).map_err(patch_error)?;
            let Some(current) = current else {
                if status_only {
                    return Err(ApiError::not_found(target.subject(), target.name));
                }
                return self.create(rt, target.namespace, next, &apply_opts);
            };
            let next = self.merge_update(target, &current, next, status_only)?;
            if let Some(written) =
                self.commit_update(target, &current, next, status_only, &apply_opts)?
            {
                return Ok(written);
            }
        }
        Err(target.stale())
    }
}

/// A patch failure as the real server reports it.
fn patch_error(e: patch::PatchError) -> ApiError {
    match e {
        patch::PatchError::Conflict(conflicts) => {
            let causes = conflicts
                .iter()
                .map(|c| {
                    serde_json::json!({
                        "type": "FieldManagerConflict",
                        "message": format!("conflict with {}", c.manager_description()),
                        "field": c.field,
                    })
                })
                .collect();
            ApiError::apply_conflict(patch::PatchError::Conflict(conflicts).to_string(), causes)
        }
        patch::PatchError::BadRequest(m) => ApiError::bad_request(m),
        patch::PatchError::Invalid(m) => ApiError {
            code: 422,
            reason: "Invalid",
            message: m,
            details: None,
        },
        patch::PatchError::Internal(m) => ApiError::internal(m),
    }
}
