//! Downloads: `GET /images/<namespace>/<name>/<file>` serves a job's image, log or kickstart
//! from the images volume, with Range requests and exact Content-Length (tower-http's
//! `ServeFile`). Every part of the path is checked before it touches the file system, and the
//! resolved file must still lie inside the images directory (no `..`, no symlink out).

use std::path::{Path, PathBuf};

use axum::body::Body;
use axum::extract::{Path as UrlPath, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use tower::ServiceExt as _;
use tower_http::services::ServeFile;

use crate::app::AppState;

/// Why a download path was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BadPath {
    /// Not a Kubernetes namespace or object name.
    #[error("{0:?} is not a namespace or job name")]
    Name(String),
    /// Not a plain file name.
    #[error("{0:?} is not a file name")]
    File(String),
}

/// A DNS-1123 label: what a namespace and an ImageJob name are.
pub fn is_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && !s.starts_with('-')
        && !s.ends_with('-')
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// A file name the runner writes: letters, digits, `-_.+`, not starting with a dot.
pub fn is_file_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 255
        && !s.starts_with('.')
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.+".contains(c))
}

/// The file a download names, below `images`.
pub fn resolve(images: &Path, ns: &str, name: &str, file: &str) -> Result<PathBuf, BadPath> {
    for part in [ns, name] {
        if !is_label(part) {
            return Err(BadPath::Name(part.to_owned()));
        }
    }
    if !is_file_name(file) {
        return Err(BadPath::File(file.to_owned()));
    }
    Ok(images.join(ns).join(name).join(file))
}

/// The download handler.
pub async fn download(
    State(state): State<AppState>,
    UrlPath((ns, name, file)): UrlPath<(String, String, String)>,
    request: Request,
) -> Response {
    let path = match resolve(&state.images, &ns, &name, &file) {
        Ok(p) => p,
        Err(e) => return (StatusCode::BAD_REQUEST, e.to_string()).into_response(),
    };
    // A symlink planted in a job directory must not lead out of the volume.
    let inside = match (path.canonicalize(), state.images.canonicalize()) {
        (Ok(real), Ok(root)) => real.starts_with(root) && real.is_file(),
        _ => false,
    };
    if !inside {
        return (StatusCode::NOT_FOUND, "no such file").into_response();
    }
    match ServeFile::new(&path).oneshot(request).await {
        Ok(response) => response.map(Body::new),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_cannot_escape() {
        let root = Path::new("/images");
        assert_eq!(
            resolve(root, "team", "nb", "nb-sda.raw"),
            Ok(PathBuf::from("/images/team/nb/nb-sda.raw"))
        );
        for (ns, name, file) in [
            ("..", "nb", "x"),
            ("team", "../etc", "x"),
            ("team", "nb", "../../etc/passwd"),
            ("team", "nb", ".hidden"),
            ("team", "nb", "a/b"),
            ("Team", "nb", "x"),
            ("team", "nb", ""),
            ("team", "nb", "a\0b"),
        ] {
            assert!(resolve(root, ns, name, file).is_err(), "{ns}/{name}/{file}");
        }
    }
}
