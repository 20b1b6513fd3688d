//! A container's environment, and the `$(VAR)` references that `subPathExpr` expands with it.

use std::collections::BTreeMap;

use serde_json::Value;

use super::volumes::{SetupError, data};
use crate::apiserver::cluster::Cluster;

/// The environment of a container: a small base (PATH, HOME, HOSTNAME), then `envFrom`, then
/// `env` with `valueFrom` resolved. Values are as the Pod gives them; the caller rewrites paths.
pub(crate) fn environment(
    cluster: &Cluster,
    pod: &Value,
    container: &Value,
) -> Result<BTreeMap<String, String>, SetupError> {
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
    Ok(env)
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

/// `input` with every `$(NAME)` replaced by `lookup(NAME)`, `$$` standing for `$`, and any
/// other `$` kept: Kubernetes' expansion syntax (`third_party/forked/golang/expansion`).
pub(crate) fn expand(input: &str, mut lookup: impl FnMut(&str) -> String) -> String {
    let mut out = String::with_capacity(input.len());
    let mut rest = input;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some((name, tail)) = after.strip_prefix('(').and_then(|a| a.split_once(')')) {
            out.push_str(&lookup(name));
            rest = tail;
        } else {
            // Not a reference (or an unclosed one): the `$` stays as it is.
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_expand_as_in_kubernetes() {
        let vars = |name: &str| match name {
            "POD" => "runner-1".to_owned(),
            other => format!("<{other}>"),
        };
        assert_eq!(expand("runs/$(POD)/out", vars), "runs/runner-1/out");
        assert_eq!(expand("$$(POD) $(POD)", vars), "$(POD) runner-1");
        assert_eq!(expand("cost $5 $(POD", vars), "cost $5 $(POD");
        assert_eq!(expand("$(POD)$", vars), "runner-1$");
        assert_eq!(expand("$(A)$(B)", vars), "<A><B>");
    }
}
