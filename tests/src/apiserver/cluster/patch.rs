//! PATCH: JSON patch (RFC 6902, with `test`), JSON merge patch (RFC 7386), strategic merge
//! patch (built-in kinds only, as on the real server) and server-side apply.

use serde_json::Value;

use super::{Cluster, Target, WriteOptions, Written};
use crate::apiserver::error::{ApiError, ApiResult};

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
        if let json_patch::PatchOperation::Test(t) = &op {
            if t.value.is_null() {
                let actual = out.pointer(t.path.as_str()).unwrap_or(&Value::Null);
                if !actual.is_null() {
                    return Err(rejected(format!(
                        "testing value {} failed: test failed",
                        t.path.as_str()
                    )));
                }
                continue;
            }
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
        for _ in 0..8 {
            let current = self.get(target)?;
            let served = Cluster::in_version(rt, &current);
            let patched = match kind {
                PatchKind::Json => json_patch(&served, body)?,
                _ => merge_patch(&served, body)?,
            };
            if let Some(next) = self.checked_patch_result(target, &current, patched, status_only)? {
                if let Some(written) = self.commit_update(target, &current, next, opts)? {
                    return Ok(written);
                }
            }
        }
        Err(ApiError::conflict(
            target.subject(),
            target.name,
            "the object has been modified; please apply your changes to the latest version and try again",
        ))
    }

    /// Checks what a patch produced (identity and resourceVersion precondition) and merges it
    /// as an update would. `Ok(None)`: never, kept for symmetry with retries.
    pub(crate) fn checked_patch_result(
        &self,
        target: Target<'_>,
        current: &crate::apiserver::store::Stored,
        patched: Value,
        status_only: bool,
    ) -> ApiResult<Option<Value>> {
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
            return Err(ApiError::conflict(
                target.subject(),
                target.name,
                "the object has been modified; please apply your changes to the latest version and try again",
            ));
        }
        self.merge_update(target, current, patched, status_only)
            .map(Some)
    }

    fn strategic(
        &self,
        target: Target<'_>,
        _body: &[u8],
        _status_only: bool,
        _opts: &WriteOptions,
    ) -> ApiResult<Written> {
        Err(ApiError::unsupported_media_type(format!(
            "strategic merge patch is not available yet for {}",
            target.rt.plural
        )))
    }

    fn apply(
        &self,
        target: Target<'_>,
        _body: &[u8],
        _status_only: bool,
        _opts: &WriteOptions,
    ) -> ApiResult<Written> {
        Err(ApiError::unsupported_media_type(format!(
            "server-side apply is not available yet for {}",
            target.rt.plural
        )))
    }
}
