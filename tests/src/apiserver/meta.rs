//! Object metadata as the server owns it: names and labels validated, uid, creationTimestamp
//! and generation set, and which changes count as a spec change.

use rand::Rng;
use serde_json::{Map, Value};

use super::resource::ResourceType;

/// The fields of `ObjectMeta`: all that survives pruning of a custom resource's metadata,
/// and all a `PartialObjectMetadata` carries.
pub const OBJECT_META_FIELDS: &[&str] = &[
    "name",
    "generateName",
    "namespace",
    "selfLink",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "labels",
    "annotations",
    "ownerReferences",
    "finalizers",
    "managedFields",
];

/// Now, as Kubernetes writes timestamps (RFC 3339, whole seconds, UTC). The fraction is cut
/// off, not rounded, as Go's RFC 3339 formatting does: a rounded-up creationTimestamp could come
/// after the time a controller saw the object (the job page once showed a job started before it
/// was created).
pub fn now() -> String {
    timestamp(jiff::Timestamp::now())
}

/// `t` as Kubernetes writes timestamps (see [`now`]).
pub fn timestamp(t: jiff::Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// A new uid.
pub fn new_uid() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// `generateName` plus five random characters, from the alphabet the real server uses
/// (no vowels, no confusable digits).
pub fn generate_name(prefix: &str) -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let mut rng = rand::rng();
    let suffix: String = (0..5)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect();
    format!("{prefix}{suffix}")
}

fn is_dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && s.starts_with(|c: char| c.is_ascii_alphanumeric())
        && s.ends_with(|c: char| c.is_ascii_alphanumeric())
}

fn is_dns_subdomain(s: &str) -> bool {
    !s.is_empty() && s.len() <= 253 && s.split('.').all(is_dns_label)
}

/// Checks an object name the way the real server does for the type (DNS-1123 label for
/// namespaces, DNS-1123 subdomain otherwise); returns the message on failure.
pub fn validate_name(rt: &ResourceType, name: &str) -> Result<(), String> {
    if rt.kind == "Namespace" {
        if !is_dns_label(name) {
            return Err(format!(
                "Invalid value: \"{name}\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
            ));
        }
    } else if !is_dns_subdomain(name) {
        return Err(format!(
            "Invalid value: \"{name}\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
        ));
    }
    Ok(())
}

fn is_label_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
        && s.starts_with(|c: char| c.is_ascii_alphanumeric())
        && s.ends_with(|c: char| c.is_ascii_alphanumeric())
}

/// Checks `metadata.labels`: qualified-name keys and label values; returns (field, message).
pub fn validate_labels(labels: &Map<String, Value>) -> Result<(), (String, String)> {
    for (key, value) in labels {
        let (prefix, name) = match key.rsplit_once('/') {
            Some((p, n)) => (Some(p), n),
            None => (None, key.as_str()),
        };
        if prefix.is_some_and(|p| !is_dns_subdomain(p)) || !is_label_name(name) {
            return Err((
                "metadata.labels".to_owned(),
                format!(
                    "Invalid value: \"{key}\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"
                ),
            ));
        }
        let Some(v) = value.as_str() else {
            return Err((
                format!("metadata.labels.{key}"),
                "label values must be strings".to_owned(),
            ));
        };
        if !v.is_empty() && !is_label_name(v) {
            return Err((
                "metadata.labels".to_owned(),
                format!(
                    "Invalid value: \"{v}\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"
                ),
            ));
        }
    }
    Ok(())
}

/// Whether the type keeps `metadata.generation` (custom resources, CRDs and Pods do;
/// ConfigMaps, Secrets and the like do not).
pub fn tracks_generation(rt: &ResourceType) -> bool {
    !rt.is_builtin() || matches!(rt.kind.as_str(), "Pod" | "CustomResourceDefinition")
}

/// Whether `new` differs from `old` in what bumps the generation: everything but metadata,
/// and but status when status is a subresource.
pub fn spec_changed(rt: &ResourceType, old: &Value, new: &Value) -> bool {
    let strip = |v: &Value| -> Value {
        let mut v = v.clone();
        if let Some(m) = v.as_object_mut() {
            m.remove("metadata");
            if rt.status_subresource {
                m.remove("status");
            }
        }
        v
    };
    strip(old) != strip(new)
}

/// The metadata map of an object (created if missing or not a map); `None` if `obj` is not
/// an object at all.
pub fn metadata_mut(obj: &mut Value) -> Option<&mut Map<String, Value>> {
    let root = obj.as_object_mut()?;
    let meta = root
        .entry("metadata")
        .or_insert_with(|| Value::Object(Map::new()));
    if !meta.is_object() {
        *meta = Value::Object(Map::new());
    }
    meta.as_object_mut()
}

/// The string list at `metadata.finalizers`.
pub fn finalizers(obj: &Value) -> Vec<String> {
    obj["metadata"]["finalizers"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|f| f.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Whether something still holds an object that is being deleted: its finalizers, or for a
/// namespace the `spec.finalizers` the namespace controller clears once it is empty.
pub fn deletion_blocked(rt: &ResourceType, obj: &Value) -> bool {
    !finalizers(obj).is_empty()
        || (rt.is_builtin()
            && rt.kind == "Namespace"
            && obj["spec"]["finalizers"]
                .as_array()
                .is_some_and(|f| !f.is_empty()))
}

/// Whether the object is being deleted (has a deletionTimestamp).
pub fn is_deleting(obj: &Value) -> bool {
    obj["metadata"]["deletionTimestamp"].is_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_dns_rules() {
        let ns = super::super::resource::builtins()
            .into_iter()
            .find(|t| t.kind == "Namespace")
            .unwrap();
        let cm = super::super::resource::builtins()
            .into_iter()
            .find(|t| t.kind == "ConfigMap")
            .unwrap();
        assert!(validate_name(&cm, "a.b-c").is_ok());
        assert!(validate_name(&ns, "a.b").is_err());
        assert!(validate_name(&cm, "Upper").is_err());
        assert!(validate_name(&cm, "").is_err());
        assert!(validate_name(&cm, "-a").is_err());
        assert_eq!(generate_name("job-").len(), 9);
    }

    #[test]
    fn labels_are_qualified_names_with_label_values() {
        let ok: Map<String, Value> =
            serde_json::from_str(r#"{"app":"x","img.example.org/job":"a-b_c.d","empty":""}"#)
                .unwrap();
        assert!(validate_labels(&ok).is_ok());
        let bad: Map<String, Value> = serde_json::from_str(r#"{"app":"has space"}"#).unwrap();
        assert!(validate_labels(&bad).is_err());
        let bad: Map<String, Value> = serde_json::from_str(r#"{"-x":"y"}"#).unwrap();
        assert!(validate_labels(&bad).is_err());
    }

    #[test]
    fn timestamps_cut_the_fraction_off() {
        let t: jiff::Timestamp = "2026-12-06T16:44:40.9Z".parse().unwrap();
        assert_eq!(timestamp(t), "2026-12-06T16:44:40Z");
        let t: jiff::Timestamp = "2026-12-31T23:59:59.999Z".parse().unwrap();
        assert_eq!(
            timestamp(t),
            "2026-12-31T23:59:59Z",
            "never the next second"
        );
    }
}
