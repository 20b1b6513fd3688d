//! Job ids on the command line: `namespace/name`, or `name` in the default namespace.

use std::fmt;

use crate::files::is_label;
use crate::imgctl::exit::Failure;

/// The namespace a bare `name` means unless `--namespace` says otherwise.
pub const DEFAULT_NAMESPACE: &str = "default";

/// A job id: an ImageJob's namespace and name, both checked to be DNS-1123 labels (so they
/// go into URLs and file names as they are).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct JobId {
    /// The namespace.
    pub namespace: String,
    /// The ImageJob's name.
    pub name: String,
}

impl JobId {
    /// Parses `namespace/name`, or `name` in `default_namespace`; anything else (empty
    /// parts, `..`, upper case, more slashes) is a usage error.
    pub fn parse(id: &str, default_namespace: &str) -> Result<JobId, Failure> {
        let (namespace, name) = match id.split_once('/') {
            Some((ns, name)) => (ns, name),
            None => (default_namespace, id),
        };
        for (what, part) in [("namespace", namespace), ("name", name)] {
            if !is_label(part) {
                return Err(Failure::usage(format!(
                    "{id:?} is not a job id (namespace/name or name): the {what} {part:?} is \
                     not a Kubernetes name (lower-case letters, digits and '-', at most 63)"
                )));
            }
        }
        Ok(JobId {
            namespace: namespace.to_owned(),
            name: name.to_owned(),
        })
    }

    /// The API path of the job: `/api/v1/jobs/<namespace>/<name>`.
    pub fn api_path(&self) -> String {
        format!("/api/v1/jobs/{}/{}", self.namespace, self.name)
    }
}

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.namespace, self.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::imgctl::exit::Exit;

    #[test]
    fn ids_are_namespace_and_name() {
        let id = JobId::parse("team/job-x7k2p", "default").expect("full id");
        assert_eq!(
            (id.namespace.as_str(), id.name.as_str()),
            ("team", "job-x7k2p")
        );
        assert_eq!(id.to_string(), "team/job-x7k2p");
        assert_eq!(id.api_path(), "/api/v1/jobs/team/job-x7k2p");
        let id = JobId::parse("nb", "default").expect("bare name");
        assert_eq!(id.to_string(), "default/nb");
        let id = JobId::parse("nb", "team").expect("--namespace");
        assert_eq!(id.to_string(), "team/nb");
    }

    #[test]
    fn anything_else_is_a_usage_error() {
        for bad in [
            "", "/", "a/", "/b", "a/b/c", "../x", "..", "a/..", "A/b", "a/B", "a b", "a/b?c",
            "-a/b", "a/b-", "a%2fb", "a\\b", "a/b\n",
        ] {
            let e = JobId::parse(bad, "default").expect_err(bad);
            assert_eq!(e.exit, Exit::Usage, "{bad:?}");
        }
        assert!(JobId::parse("x", "Bad").is_err(), "a bad --namespace");
        let long = "a".repeat(64);
        assert!(JobId::parse(&long, "default").is_err());
    }
}
