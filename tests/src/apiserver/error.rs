//! Errors as the real API server reports them: a `meta/v1 Status` body with the reason and
//! code that clients branch on (kube-rs `ErrorResponse`, kubectl's `apierrors.IsNotFound`).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// A failed request.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    /// HTTP status code.
    pub code: u16,
    /// The Status `reason` (`NotFound`, `AlreadyExists`, `Conflict`, `Invalid`, ...).
    pub reason: &'static str,
    /// Human-readable message, in the real server's wording where clients show it.
    pub message: String,
    /// `details` (name, group, kind, causes).
    pub details: Option<Value>,
}

/// Result with [`ApiError`].
pub type ApiResult<T> = Result<T, ApiError>;

/// What the resource in an error is called: its plural and group, as the real messages use
/// (`pods "x" not found`, `imagejobs.img.example.org "x" not found`).
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    /// Plural resource name.
    pub plural: &'a str,
    /// API group.
    pub group: &'a str,
}

impl Subject<'_> {
    fn qualified(&self) -> String {
        if self.group.is_empty() {
            self.plural.to_owned()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }

    fn details(&self, name: &str) -> Value {
        json!({"name": name, "group": self.group, "kind": self.plural})
    }
}

impl ApiError {
    fn new(code: u16, reason: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            code,
            reason,
            message: message.into(),
            details: None,
        }
    }

    /// 404 NotFound for a named object.
    pub fn not_found(subject: Subject<'_>, name: &str) -> Self {
        ApiError {
            details: Some(subject.details(name)),
            ..Self::new(
                404,
                "NotFound",
                format!("{} \"{name}\" not found", subject.qualified()),
            )
        }
    }

    /// 404 for a path that names no resource.
    pub fn no_route(path: &str) -> Self {
        Self::new(
            404,
            "NotFound",
            format!("the server could not find the requested resource ({path})"),
        )
    }

    /// 409 AlreadyExists.
    pub fn already_exists(subject: Subject<'_>, name: &str) -> Self {
        ApiError {
            details: Some(subject.details(name)),
            ..Self::new(
                409,
                "AlreadyExists",
                format!("{} \"{name}\" already exists", subject.qualified()),
            )
        }
    }

    /// 409 Conflict on a stale resourceVersion or failed precondition.
    pub fn conflict(subject: Subject<'_>, name: &str, why: &str) -> Self {
        ApiError {
            details: Some(subject.details(name)),
            ..Self::new(
                409,
                "Conflict",
                format!(
                    "Operation cannot be fulfilled on {} \"{name}\": {why}",
                    subject.qualified()
                ),
            )
        }
    }

    /// 409 Conflict for server-side apply field conflicts, with one cause per field.
    pub fn apply_conflict(message: String, causes: Vec<Value>) -> Self {
        ApiError {
            details: Some(json!({"causes": causes})),
            ..Self::new(409, "Conflict", message)
        }
    }

    /// 422 Invalid, with the offending field.
    pub fn invalid(subject: Subject<'_>, name: &str, field: &str, why: &str) -> Self {
        let kind_msg = subject.qualified();
        ApiError {
            details: Some(json!({
                "name": name,
                "group": subject.group,
                "kind": subject.plural,
                "causes": [{"reason": "FieldValueInvalid", "message": why, "field": field}],
            })),
            ..Self::new(
                422,
                "Invalid",
                format!("{kind_msg} \"{name}\" is invalid: {field}: {why}"),
            )
        }
    }

    /// 400 BadRequest.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, "BadRequest", message)
    }

    /// 405 MethodNotAllowed.
    pub fn method_not_allowed(message: impl Into<String>) -> Self {
        Self::new(405, "MethodNotAllowed", message)
    }

    /// 415 UnsupportedMediaType.
    pub fn unsupported_media_type(message: impl Into<String>) -> Self {
        Self::new(415, "UnsupportedMediaType", message)
    }

    /// 410 Expired: a resourceVersion older than the history the server keeps.
    pub fn expired(message: impl Into<String>) -> Self {
        Self::new(410, "Expired", message)
    }

    /// 403 Forbidden.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(403, "Forbidden", message)
    }

    /// 500 InternalError (a bug in the stand-in, never a client's fault).
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(500, "InternalError", message)
    }

    /// The `Status` object.
    pub fn status(&self) -> Value {
        let mut status = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        });
        if let Some(details) = &self.details {
            status["details"] = details.clone();
        }
        status
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}): {}", self.code, self.reason, self.message)
    }
}

impl std::error::Error for ApiError {}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let code = StatusCode::from_u16(self.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (
            code,
            [(axum::http::header::CONTENT_TYPE, "application/json")],
            self.status().to_string(),
        )
            .into_response()
    }
}
