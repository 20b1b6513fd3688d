//! A Pod's volumes as local directories: ConfigMaps and Secrets written out, `emptyDir`s made
//! per Pod, `hostPath`s used as they are, and PersistentVolumeClaims shared by every Pod that
//! mounts them (see [`super::pvc`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;

use super::pvc;
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
pub(super) fn data(
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
pub(super) fn safe_relative(p: &str) -> Result<&str, SetupError> {
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

/// Creates the Pod's volumes under `dir` (its claims' under `root`); returns volume name →
/// local directory.
pub(crate) fn materialize(
    cluster: &Cluster,
    pod: &Value,
    dir: &Path,
    root: &Path,
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
        } else if let Some(claim) = volume.get("persistentVolumeClaim") {
            let claim = claim["claimName"].as_str().unwrap_or("");
            out.insert(name.to_owned(), pvc::mount(cluster, root, ns, claim)?);
            continue;
        } else {
            return Err(format!(
                "volume {name}: only configMap, secret, emptyDir, hostPath and persistentVolumeClaim volumes are supported in kubelet mode"
            ));
        }
        out.insert(name.to_owned(), local);
    }
    Ok(out)
}
