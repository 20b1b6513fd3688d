//! A Pod's volumes as local directories, its environment, and the path rewriting that lets a
//! local process find files where the container would have them mounted.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;

use crate::apiserver::cluster::Cluster;

/// Why a Pod cannot be started.
pub(crate) type SetupError = String;

fn lookup(cluster: &Cluster, plural: &str, ns: &str, name: &str) -> Option<Value> {
    cluster
        .store
        .get(&(String::new(), plural.to_owned()), ns, name)
        .map(|s| s.value.clone())
}

/// The key/value data of a ConfigMap or Secret (Secret values decoded).
fn data(
    cluster: &Cluster,
    plural: &str,
    ns: &str,
    name: &str,
) -> Result<BTreeMap<String, Vec<u8>>, SetupError> {
    let obj = lookup(cluster, plural, ns, name)
        .ok_or_else(|| format!("{} \"{name}\" not found", plural.trim_end_matches('s')))?;
    let mut out = BTreeMap::new();
    if let Some(d) = obj["data"].as_object() {
        for (k, v) in d {
            let text = v.as_str().unwrap_or("");
            let bytes = if plural == "secrets" {
                STANDARD
                    .decode(text)
                    .map_err(|e| format!("secret \"{name}\" key {k}: {e}"))?
            } else {
                text.as_bytes().to_vec()
            };
            out.insert(k.clone(), bytes);
        }
    }
    if let Some(d) = obj["stringData"].as_object() {
        for (k, v) in d {
            out.insert(k.clone(), v.as_str().unwrap_or("").as_bytes().to_vec());
        }
    }
    if let Some(d) = obj["binaryData"].as_object() {
        for (k, v) in d {
            let bytes = STANDARD
                .decode(v.as_str().unwrap_or(""))
                .map_err(|e| format!("configmap \"{name}\" binary key {k}: {e}"))?;
            out.insert(k.clone(), bytes);
        }
    }
    Ok(out)
}

/// A relative path inside a volume that may not climb out of it.
fn safe_relative(p: &str) -> Result<&str, SetupError> {
    let path = Path::new(p);
    if p.is_empty()
        || path.is_absolute()
        || path
            .components()
            .any(|c| matches!(c, std::path::Component::ParentDir))
    {
        return Err(format!("invalid volume item path {p:?}"));
    }
    Ok(p)
}

fn write_items(
    dir: &Path,
    source: &Value,
    data: &BTreeMap<String, Vec<u8>>,
    name: &str,
) -> Result<(), SetupError> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let items: Vec<(String, String)> = match source["items"].as_array() {
        Some(items) => items
            .iter()
            .map(|i| {
                (
                    i["key"].as_str().unwrap_or("").to_owned(),
                    i["path"].as_str().unwrap_or("").to_owned(),
                )
            })
            .collect(),
        None => data.keys().map(|k| (k.clone(), k.clone())).collect(),
    };
    for (key, path) in items {
        let bytes = data
            .get(&key)
            .ok_or_else(|| format!("key {key} not found in {name}"))?;
        let target = dir.join(safe_relative(&path)?);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
        }
        std::fs::write(&target, bytes).map_err(|e| format!("{}: {e}", target.display()))?;
    }
    Ok(())
}

/// Creates the Pod's volumes under `dir`; returns volume name → local directory.
pub(crate) fn materialize(
    cluster: &Cluster,
    pod: &Value,
    dir: &Path,
) -> Result<BTreeMap<String, PathBuf>, SetupError> {
    let ns = pod["metadata"]["namespace"].as_str().unwrap_or("");
    let mut out = BTreeMap::new();
    for volume in pod["spec"]["volumes"].as_array().into_iter().flatten() {
        let name = volume["name"].as_str().unwrap_or("");
        safe_relative(name)?;
        let local = dir.join(name);
        if let Some(cm) = volume.get("configMap") {
            let cm_name = cm["name"].as_str().unwrap_or("");
            let d = data(cluster, "configmaps", ns, cm_name)?;
            write_items(&local, cm, &d, cm_name)?;
        } else if let Some(secret) = volume.get("secret") {
            let s_name = secret["secretName"].as_str().unwrap_or("");
            let d = data(cluster, "secrets", ns, s_name)?;
            write_items(&local, secret, &d, s_name)?;
        } else if volume.get("emptyDir").is_some() {
            std::fs::create_dir_all(&local).map_err(|e| format!("{}: {e}", local.display()))?;
        } else if let Some(host) = volume.get("hostPath") {
            let path = PathBuf::from(host["path"].as_str().unwrap_or(""));
            if host["type"] == "DirectoryOrCreate" {
                std::fs::create_dir_all(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            }
            if !path.exists() {
                return Err(format!("hostPath {} does not exist", path.display()));
            }
            out.insert(name.to_owned(), path);
            continue;
        } else {
            return Err(format!(
                "volume {name}: only configMap, secret, emptyDir and hostPath volumes are supported in kubelet mode"
            ));
        }
        out.insert(name.to_owned(), local);
    }
    Ok(out)
}

/// Rewrites container paths to local ones: the longest mount path that prefixes (or occurs
/// in) a string wins.
#[derive(Debug, Clone, Default)]
pub(crate) struct PathMap {
    mounts: Vec<(String, PathBuf)>,
}

impl PathMap {
    /// The mount table of a container.
    pub(crate) fn for_container(
        container: &Value,
        volumes: &BTreeMap<String, PathBuf>,
        termination_log: (&str, &Path),
    ) -> Result<PathMap, SetupError> {
        let mut mounts = Vec::new();
        for m in container["volumeMounts"].as_array().into_iter().flatten() {
            let vol = m["name"].as_str().unwrap_or("");
            let local = volumes
                .get(vol)
                .ok_or_else(|| format!("volumeMount {vol}: no such volume"))?;
            let local = match m["subPath"].as_str().filter(|s| !s.is_empty()) {
                Some(sub) => local.join(safe_relative(sub)?),
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

/// The environment of a container: a small base (PATH, HOME), then `envFrom`, then `env`
/// with `valueFrom` resolved, each value path-rewritten.
pub(crate) fn environment(
    cluster: &Cluster,
    pod: &Value,
    container: &Value,
    paths: &PathMap,
) -> Result<Vec<(String, String)>, SetupError> {
    let ns = pod["metadata"]["namespace"].as_str().unwrap_or("");
    let mut env: BTreeMap<String, String> = BTreeMap::new();
    env.insert(
        "PATH".into(),
        std::env::var("PATH").unwrap_or_else(|_| "/usr/local/bin:/usr/bin:/bin".into()),
    );
    env.insert(
        "HOME".into(),
        std::env::var("HOME").unwrap_or_else(|_| "/root".into()),
    );
    env.insert(
        "HOSTNAME".into(),
        pod["metadata"]["name"].as_str().unwrap_or("").into(),
    );
    for from in container["envFrom"].as_array().into_iter().flatten() {
        let prefix = from["prefix"].as_str().unwrap_or("");
        let (plural, name) = if let Some(cm) = from.get("configMapRef") {
            ("configmaps", cm["name"].as_str().unwrap_or(""))
        } else if let Some(s) = from.get("secretRef") {
            ("secrets", s["name"].as_str().unwrap_or(""))
        } else {
            continue;
        };
        for (k, v) in data(cluster, plural, ns, name)? {
            env.insert(
                format!("{prefix}{k}"),
                String::from_utf8_lossy(&v).into_owned(),
            );
        }
    }
    for e in container["env"].as_array().into_iter().flatten() {
        let name = e["name"].as_str().unwrap_or("").to_owned();
        let value = if let Some(v) = e["value"].as_str() {
            v.to_owned()
        } else if let Some(from) = e.get("valueFrom") {
            value_from(cluster, pod, ns, from).map_err(|m| format!("env {name}: {m}"))?
        } else {
            String::new()
        };
        env.insert(name, value);
    }
    Ok(env
        .into_iter()
        .map(|(k, v)| {
            let v = paths.rewrite(&v);
            (k, v)
        })
        .collect())
}

fn value_from(
    cluster: &Cluster,
    pod: &Value,
    ns: &str,
    from: &Value,
) -> Result<String, SetupError> {
    let key_ref = |plural: &str, r: &Value| -> Result<String, SetupError> {
        let name = r["name"].as_str().unwrap_or("");
        let key = r["key"].as_str().unwrap_or("");
        let d = data(cluster, plural, ns, name)?;
        d.get(key)
            .map(|v| String::from_utf8_lossy(v).into_owned())
            .ok_or_else(|| format!("key {key} not found in {name}"))
    };
    if let Some(r) = from.get("configMapKeyRef") {
        return key_ref("configmaps", r);
    }
    if let Some(r) = from.get("secretKeyRef") {
        return key_ref("secrets", r);
    }
    if let Some(f) = from.get("fieldRef") {
        let path = f["fieldPath"].as_str().unwrap_or("");
        let meta = &pod["metadata"];
        return Ok(match path {
            "metadata.name" => meta["name"].as_str().unwrap_or("").to_owned(),
            "metadata.namespace" => meta["namespace"].as_str().unwrap_or("").to_owned(),
            "metadata.uid" => meta["uid"].as_str().unwrap_or("").to_owned(),
            "spec.nodeName" => pod["spec"]["nodeName"].as_str().unwrap_or("").to_owned(),
            "status.podIP" | "status.hostIP" => "127.0.0.1".to_owned(),
            p if p.starts_with("metadata.labels['") => {
                let key = p
                    .trim_start_matches("metadata.labels['")
                    .trim_end_matches("']");
                meta["labels"][key].as_str().unwrap_or("").to_owned()
            }
            p if p.starts_with("metadata.annotations['") => {
                let key = p
                    .trim_start_matches("metadata.annotations['")
                    .trim_end_matches("']");
                meta["annotations"][key].as_str().unwrap_or("").to_owned()
            }
            other => return Err(format!("fieldRef {other} is not supported")),
        });
    }
    Err("only configMapKeyRef, secretKeyRef and fieldRef are supported".to_owned())
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
}
