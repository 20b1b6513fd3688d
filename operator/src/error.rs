//! The operator's errors. Problems with a job's spec are not errors: they end the job as
//! Failed with a reason. What is left here is transient (the API server, a watch) and is
//! retried with a per-job backoff.

/// A reconcile or startup failure.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A Kubernetes API call failed.
    #[error("Kubernetes API: {0}")]
    Kube(#[from] kube::Error),

    /// A value could not be serialised.
    #[error("serialisation: {0}")]
    Json(#[from] serde_json::Error),

    /// An SSH key for a KubeVirt build could not be made or read.
    #[error("SSH key: {0}")]
    SshKey(#[from] ssh_key::Error),

    /// An object lacks a field the API server always sets.
    #[error("object has no {0}")]
    Missing(&'static str),
}

impl Error {
    /// The label of this error in the `img_reconcile_errors_total` metric.
    pub fn metric_label(&self) -> &'static str {
        match self {
            Error::Kube(kube::Error::Api(_)) => "api",
            Error::Kube(_) => "client",
            Error::Json(_) => "serialisation",
            Error::SshKey(_) => "ssh_key",
            Error::Missing(_) => "missing_field",
        }
    }
}

/// The operator's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
