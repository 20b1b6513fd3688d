//! The mount table of a container: which local directory each mount path stands for, with
//! `subPath` and `subPathExpr` resolved, and the rewriting of container paths to local ones
//! that lets a local process find files where the container would have them mounted.

use std::collections::BTreeMap;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::env::expand;
use super::volumes::{SetupError, safe_relative};

/// Rewrites container paths to local ones: the longest mount path that prefixes (or occurs
/// in) a string wins.
#[derive(Debug, Clone, Default)]
pub(crate) struct PathMap {
    mounts: Vec<(String, PathBuf)>,
}

impl PathMap {
    /// The mount table of a container, given its volumes' local directories and its
    /// environment (for `subPathExpr`); missing `subPath` directories are made.
    pub(crate) fn for_container(
        container: &Value,
        volumes: &BTreeMap<String, PathBuf>,
        termination_log: (&str, &Path),
        env: &BTreeMap<String, String>,
    ) -> Result<PathMap, SetupError> {
        let mut mounts = Vec::new();
        for m in container["volumeMounts"].as_array().into_iter().flatten() {
            let vol = m["name"].as_str().unwrap_or("");
            let local = volumes
                .get(vol)
                .ok_or_else(|| format!("volumeMount {vol}: no such volume"))?;
            let local = match sub_path(m, env)? {
                Some(sub) => make_sub_path(local, &sub)?,
                None => local.clone(),
            };
            let mount_path = m["mountPath"].as_str().unwrap_or("").trim_end_matches('/');
            if !mount_path.starts_with('/') {
                return Err(format!("volumeMount {vol}: mountPath must be absolute"));
            }
            mounts.push((mount_path.to_owned(), local));
        }
        mounts.push((
            termination_log.0.to_owned(),
            termination_log.1.to_path_buf(),
        ));
        // Longest first, so that nested mounts win.
        mounts.sort_by_key(|m| std::cmp::Reverse(m.0.len()));
        Ok(PathMap { mounts })
    }

    /// `s` with every container path replaced by its local path, in one left-to-right pass
    /// (so a replacement is never rewritten again), longest mount first at each position.
    pub(crate) fn rewrite(&self, s: &str) -> String {
        let mut out = String::with_capacity(s.len());
        let mut i = 0;
        'scan: while i < s.len() {
            let rest = &s[i..];
            for (mount, local) in &self.mounts {
                if mount.is_empty() || !rest.starts_with(mount.as_str()) {
                    continue;
                }
                let after = &rest[mount.len()..];
                // Only whole path components: `/data` must not match `/database`.
                let boundary = after.is_empty()
                    || after.starts_with('/')
                    || !after.starts_with(|c: char| {
                        c.is_alphanumeric() || c == '_' || c == '-' || c == '.'
                    });
                if boundary {
                    out.push_str(&local.to_string_lossy());
                    i += mount.len();
                    continue 'scan;
                }
            }
            let c = rest.chars().next().unwrap_or_default();
            out.push(c);
            i += c.len_utf8().max(1);
        }
        out
    }
}

/// The `subPath` of a mount, or its `subPathExpr` expanded with the container's environment
/// (an unset or empty variable is an error, as on a real kubelet).
fn sub_path(mount: &Value, env: &BTreeMap<String, String>) -> Result<Option<String>, SetupError> {
    let non_empty = |key: &str| mount[key].as_str().filter(|s| !s.is_empty());
    let name = mount["name"].as_str().unwrap_or("");
    match (non_empty("subPath"), non_empty("subPathExpr")) {
        (Some(_), Some(_)) => Err(format!(
            "volumeMount {name}: subPath and subPathExpr are mutually exclusive"
        )),
        (Some(sub), None) => Ok(Some(sub.to_owned())),
        (None, Some(expr)) => {
            let mut missing = Vec::new();
            let sub = expand(expr, |var| match env.get(var).filter(|v| !v.is_empty()) {
                Some(v) => v.clone(),
                None => {
                    missing.push(var.to_owned());
                    String::new()
                }
            });
            if missing.is_empty() {
                Ok(Some(sub))
            } else {
                Err(format!(
                    "volumeMount {name}: missing value for {}",
                    missing.join(", ")
                ))
            }
        }
        (None, None) => Ok(None),
    }
}

/// `sub` inside the volume at `volume`, made (with the volume's mode) when missing: a real
/// kubelet makes it before the container starts, so that it is a directory.
fn make_sub_path(volume: &Path, sub: &str) -> Result<PathBuf, SetupError> {
    let path = volume.join(safe_relative(sub)?);
    if !path.exists() {
        let mode = std::fs::metadata(volume)
            .map(|m| m.permissions().mode())
            .unwrap_or(0o755);
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(mode)
            .create(&path)
            .map_err(|e| format!("subPath {sub}: {e}"))?;
    }
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_rewritten_by_whole_components_longest_first() {
        let map = PathMap {
            mounts: vec![
                ("/etc/img/job".into(), PathBuf::from("/tmp/p/job")),
                ("/etc/img".into(), PathBuf::from("/tmp/p/cfg")),
                ("/dev/termination-log".into(), PathBuf::from("/tmp/p/term")),
            ],
        };
        assert_eq!(
            map.rewrite("/etc/img/job/spec.json"),
            "/tmp/p/job/spec.json"
        );
        assert_eq!(map.rewrite("--config=/etc/img/x"), "--config=/tmp/p/cfg/x");
        assert_eq!(
            map.rewrite("echo hi > /dev/termination-log; exit 3"),
            "echo hi > /tmp/p/term; exit 3"
        );
        assert_eq!(map.rewrite("/etc/imgs/x"), "/etc/imgs/x");
        assert_eq!(map.rewrite("/etc/img"), "/tmp/p/cfg");
        // A local path is never rewritten again by a shorter mount.
        let nested = PathMap {
            mounts: vec![
                ("/etc/img".into(), PathBuf::from("/tmp/kubelet/cfg")),
                ("/tmp".into(), PathBuf::from("/tmp/kubelet/scratch")),
            ],
        };
        assert_eq!(
            nested.rewrite("/etc/img/a /tmp/b"),
            "/tmp/kubelet/cfg/a /tmp/kubelet/scratch/b"
        );
    }

    #[test]
    fn sub_paths_are_made_and_expanded() {
        let dir = tempfile::tempdir().unwrap();
        let volumes = BTreeMap::from([("data".to_owned(), dir.path().to_path_buf())]);
        let env = BTreeMap::from([("POD".to_owned(), "runner-1".to_owned())]);
        let container = serde_json::json!({"volumeMounts": [
            {"name": "data", "mountPath": "/out", "subPath": "a/b"},
            {"name": "data", "mountPath": "/runs", "subPathExpr": "runs/$(POD)"},
        ]});
        let term = ("/dev/termination-log", Path::new("/tmp/t"));
        let map = PathMap::for_container(&container, &volumes, term, &env).unwrap();
        assert!(dir.path().join("a/b").is_dir());
        assert!(dir.path().join("runs/runner-1").is_dir());
        let local = dir.path().to_string_lossy();
        assert_eq!(map.rewrite("/out/x"), format!("{local}/a/b/x"));
        assert_eq!(map.rewrite("/runs"), format!("{local}/runs/runner-1"));
        for bad in [
            serde_json::json!({"name": "data", "mountPath": "/x", "subPath": "../up"}),
            serde_json::json!({"name": "data", "mountPath": "/x", "subPath": "/abs"}),
            serde_json::json!({"name": "data", "mountPath": "/x", "subPathExpr": "$(UNSET)"}),
            serde_json::json!({"name": "data", "mountPath": "/x", "subPath": "a", "subPathExpr": "b"}),
        ] {
            let c = serde_json::json!({"volumeMounts": [bad]});
            assert!(
                PathMap::for_container(&c, &volumes, term, &env).is_err(),
                "{c}"
            );
        }
    }
}
