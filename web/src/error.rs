//! Errors a handler returns: a status and a message (JSON for the API, a page for browsers).

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::submit::FieldError;

/// What went wrong with a request.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ApiError {
    /// No such job (or file).
    #[error("{0}")]
    NotFound(String),
    /// The request is malformed (a bad id, a bad parameter).
    #[error("{0}")]
    BadRequest(String),
    /// Who is asking is not known.
    #[error("{0}")]
    Unauthorized(String),
    /// The user may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// The job is not in a state that allows it.
    #[error("{0}")]
    Conflict(String),
    /// The submission has problems, each at its field.
    #[error("the submission has {} problem(s)", .0.len())]
    Invalid(Vec<FieldError>),
    /// The body is larger than allowed.
    #[error("{0}")]
    TooLarge(String),
    /// The Kubernetes API failed.
    #[error("the Kubernetes API: {0}")]
    Upstream(String),
}

impl ApiError {
    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Upstream(_) => StatusCode::BAD_GATEWAY,
        }
    }

    /// The problems at fields (for [`ApiError::Invalid`]), else one problem with no field.
    pub fn field_errors(&self) -> Vec<FieldError> {
        match self {
            ApiError::Invalid(errors) => errors.clone(),
            other => vec![FieldError {
                field: String::new(),
                line: None,
                message: other.to_string(),
            }],
        }
    }
}

impl From<kube::Error> for ApiError {
    fn from(e: kube::Error) -> ApiError {
        match e {
            kube::Error::Api(s) if s.code == 404 => ApiError::NotFound(s.message),
            kube::Error::Api(s) if s.code == 409 => ApiError::Conflict(s.message),
            kube::Error::Api(s) if s.code == 403 => ApiError::Forbidden(s.message),
            kube::Error::Api(s) if s.code == 422 || s.code == 400 => {
                ApiError::BadRequest(s.message)
            }
            other => ApiError::Upstream(other.to_string()),
        }
    }
}

/// JSON: `{"error": "...", "errors": [{"field", "line", "message"}]}`.
impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({
            "error": self.to_string(),
            "errors": self.field_errors(),
        });
        (self.status(), Json(body)).into_response()
    }
}
