//! Where a job's files are, on the images volume and on the web: the layout the operator
//! writes into status and the web frontend serves.

/// The job's directory on the images volume, relative to its root: `<namespace>/<name>`.
pub fn job_dir(namespace: &str, name: &str) -> String {
    format!("{namespace}/{name}")
}

/// The file name of a job's build log in its directory (the runner writes it as the build
/// goes, so the web frontend can tail it before status names it).
pub fn log_file(name: &str) -> String {
    format!("{name}.log")
}

/// The download URL of `file` of a job, under the web frontend's public base URL
/// (`https://img.example.org` gives `https://img.example.org/images/<namespace>/<name>/<file>`).
pub fn artifact_url(base: &str, namespace: &str, name: &str, file: &str) -> String {
    format!(
        "{}/images/{}/{file}",
        base.trim_end_matches('/'),
        job_dir(namespace, name)
    )
}

/// The job page (with its log) under the web frontend's public base URL.
pub fn job_url(base: &str, namespace: &str, name: &str) -> String {
    format!(
        "{}/job/{}",
        base.trim_end_matches('/'),
        job_dir(namespace, name)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_join_cleanly() {
        assert_eq!(
            artifact_url("http://img/", "team", "nb", "nb.raw"),
            "http://img/images/team/nb/nb.raw"
        );
        assert_eq!(
            job_url("http://img", "team", "nb"),
            "http://img/job/team/nb"
        );
    }
}
