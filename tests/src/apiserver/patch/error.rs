//! Errors returned by the patch algorithms, shaped after the HTTP statuses the real
//! kube-apiserver answers with.

use std::fmt;

/// A failed patch. Each variant maps to one HTTP status; the message is the `message` the
/// real server puts into its `Status` body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatchError {
    /// The patch itself is malformed (HTTP 400, reason `BadRequest`), e.g.
    /// `invalid patch format of retainKeys`.
    #[error("{0}")]
    BadRequest(String),
    /// The patch is well formed but cannot be applied to this object (HTTP 422, reason
    /// `Invalid`), e.g. `lists of lists are not supported`.
    #[error("{0}")]
    Invalid(String),
    /// Server-side apply found fields owned by other managers (HTTP 409, reason `Conflict`).
    #[error("{}", conflict_message(.0))]
    Conflict(Vec<FieldConflict>),
    /// The real server fails with a plain Go error here, which it reports as HTTP 500 (reason
    /// `InternalError`) carrying the error text, e.g. `unknown patch type: bogus in map: ...`.
    /// Kept distinct so the fake server never answers 4xx where the real one answers 500.
    #[error("{0}")]
    Internal(String),
}

impl PatchError {
    /// The HTTP status code the real server answers with for this error.
    pub fn status_code(&self) -> u16 {
        match self {
            PatchError::BadRequest(_) => 400,
            PatchError::Invalid(_) => 422,
            PatchError::Conflict(_) => 409,
            PatchError::Internal(_) => 500,
        }
    }
}

/// One field that server-side apply refused to take over from another manager.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldConflict {
    /// The other manager's name (`fieldManager` of its request).
    pub manager: String,
    /// The other manager's operation: `"Apply"` or `"Update"`.
    pub operation: String,
    /// The API version recorded in the other manager's entry.
    pub api_version: String,
    /// The subresource recorded in the other manager's entry, if any.
    pub subresource: Option<String>,
    /// The time recorded in the other manager's entry, if any (RFC 3339).
    pub time: Option<String>,
    /// The conflicting field in structured-merge-diff notation, e.g. `.spec.replicas` or
    /// `.spec.containers[name="nginx"].image`.
    pub field: String,
}

impl FieldConflict {
    /// The manager as the real server prints it in conflict messages: `"name"` for
    /// appliers, `"name" using v1 at 2024-01-01T00:00:00Z` for updaters, with
    /// ` with subresource "status"` after the name where a subresource is recorded.
    pub fn manager_description(&self) -> String {
        let mut out = go_quote(&self.manager);
        if let Some(sub) = self.subresource.as_deref().filter(|s| !s.is_empty()) {
            out.push_str(&format!(" with subresource {}", go_quote(sub)));
        }
        if self.operation == "Update" {
            out.push_str(&format!(" using {}", self.api_version));
            if let Some(time) = &self.time {
                out.push_str(&format!(" at {}", rfc3339_seconds(time)));
            }
        }
        out
    }

    /// Grouping key: the real server groups conflicts by the encoded manager identity.
    fn identity(&self) -> (String, String, String, Option<String>) {
        let version = if self.operation == "Apply" {
            String::new()
        } else {
            self.api_version.clone()
        };
        (
            self.manager.clone(),
            self.operation.clone(),
            version,
            self.subresource.clone(),
        )
    }
}

impl fmt::Display for FieldConflict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "conflict with {}: {}",
            self.manager_description(),
            self.field
        )
    }
}

/// Builds the message of the real server's apply conflict error (one conflict on one line;
/// several grouped by manager, one `- path` line each).
fn conflict_message(conflicts: &[FieldConflict]) -> String {
    if let [only] = conflicts {
        return format!("Apply failed with 1 conflict: {only}");
    }
    let mut groups: Vec<(String, String, Vec<&str>)> = Vec::new();
    for c in conflicts {
        let key = format!("{:?}", c.identity());
        match groups.iter_mut().find(|(k, _, _)| *k == key) {
            Some((_, _, paths)) => paths.push(&c.field),
            None => groups.push((key, c.manager_description(), vec![&c.field])),
        }
    }
    // The real server sorts the encoded manager identities, whose JSON starts with the
    // manager name, so sorting by description is close enough.
    groups.sort_by(|a, b| a.1.cmp(&b.1));
    let mut lines = Vec::new();
    for (_, who, paths) in groups {
        lines.push(format!("conflicts with {who}:"));
        lines.extend(paths.into_iter().map(|p| format!("- {p}")));
    }
    format!(
        "Apply failed with {} conflicts: {}",
        conflicts.len(),
        lines.join("\n")
    )
}

/// Quotes like Go's `%q` for the printable ASCII names managers use in practice.
pub(super) fn go_quote(s: &str) -> String {
    serde_json::Value::String(s.to_owned()).to_string()
}

/// Go prints times as `time.RFC3339` in UTC, i.e. without fractional seconds.
fn rfc3339_seconds(time: &str) -> String {
    match (time.find('.'), time.strip_suffix('Z')) {
        (Some(dot), Some(_)) => format!("{}Z", &time[..dot]),
        _ => time.to_owned(),
    }
}
