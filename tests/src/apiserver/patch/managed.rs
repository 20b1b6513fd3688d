//! `metadata.managedFields`: decoding entries into per-manager field sets and back.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::fieldpath::{FieldSet, PathElement, fields_v1_to_set, set_to_fields_v1};

/// `operation` of appliers.
pub(super) const APPLY: &str = "Apply";
/// `operation` of every other write.
pub(super) const UPDATE: &str = "Update";

/// What identifies one managedFields entry. As in the real server, appliers are identified
/// by name and subresource, updaters also by operation and API version.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct ManagerId {
    pub(super) manager: String,
    pub(super) operation: String,
    /// Empty for appliers, whose identity does not include the version.
    pub(super) version_key: String,
    pub(super) subresource: String,
}

impl ManagerId {
    pub(super) fn new(
        manager: &str,
        operation: &str,
        api_version: &str,
        sub: Option<&str>,
    ) -> Self {
        ManagerId {
            manager: manager.to_owned(),
            operation: operation.to_owned(),
            version_key: if operation == APPLY {
                String::new()
            } else {
                api_version.to_owned()
            },
            subresource: sub.unwrap_or_default().to_owned(),
        }
    }
}

/// One decoded managedFields entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Entry {
    pub(super) api_version: String,
    pub(super) time: Option<String>,
    pub(super) set: FieldSet,
}

/// All entries of an object, by identity.
pub(super) type Managed = BTreeMap<ManagerId, Entry>;

fn text<'v>(entry: &'v Map<String, Value>, field: &str) -> &'v str {
    entry.get(field).and_then(Value::as_str).unwrap_or_default()
}

/// Decodes `metadata.managedFields` of `object` (absent or `null`: no entries). Entries
/// without fields decode to empty sets, which is how `[{}]` resets ownership on update.
pub(super) fn decode(object: &Value) -> Result<Managed, String> {
    let mut out = Managed::new();
    let entries = match object.pointer("/metadata/managedFields") {
        None | Some(Value::Null) => return Ok(out),
        Some(Value::Array(entries)) => entries,
        Some(other) => return Err(format!("managedFields is not a list: {other}")),
    };
    for entry in entries {
        let Value::Object(e) = entry else {
            return Err(format!("managedFields entry is not an object: {entry}"));
        };
        let sub = Some(text(e, "subresource")).filter(|s| !s.is_empty());
        let id = ManagerId::new(
            text(e, "manager"),
            text(e, "operation"),
            text(e, "apiVersion"),
            sub,
        );
        let set = match e.get("fieldsV1") {
            None | Some(Value::Null) => FieldSet::new(),
            Some(fields) => fields_v1_to_set(fields)?,
        };
        let decoded = Entry {
            api_version: text(e, "apiVersion").to_owned(),
            time: e.get("time").and_then(Value::as_str).map(str::to_owned),
            set,
        };
        if out.insert(id.clone(), decoded).is_some() {
            return Err(format!("found duplicate manager: {}", id.manager));
        }
    }
    Ok(out)
}

/// Encodes entries in the real server's order: by operation (`Apply` first), time,
/// manager, API version and subresource. Empty entries are dropped.
pub(super) fn encode(managed: &Managed) -> Vec<Value> {
    let mut entries: Vec<(&ManagerId, &Entry)> =
        managed.iter().filter(|(_, e)| !e.set.is_empty()).collect();
    entries.sort_by(|(a, ea), (b, eb)| {
        let time = |e: &Entry| e.time.clone().unwrap_or_default();
        (
            &a.operation,
            time(ea),
            &a.manager,
            &ea.api_version,
            &a.subresource,
        )
            .cmp(&(
                &b.operation,
                time(eb),
                &b.manager,
                &eb.api_version,
                &b.subresource,
            ))
    });
    entries
        .into_iter()
        .map(|(id, e)| {
            let mut out = Map::new();
            let mut put = |k: &str, v: &str| {
                if !v.is_empty() {
                    out.insert(k.to_owned(), Value::String(v.to_owned()));
                }
            };
            put("manager", &id.manager);
            put("operation", &id.operation);
            put("apiVersion", &e.api_version);
            put("time", e.time.as_deref().unwrap_or_default());
            put("fieldsType", "FieldsV1");
            put("subresource", &id.subresource);
            out.insert("fieldsV1".to_owned(), set_to_fields_v1(&e.set));
            Value::Object(out)
        })
        .collect()
}

/// `object` without `metadata.managedFields`.
pub(super) fn without_managed_fields(object: &Value) -> Value {
    let mut out = object.clone();
    if let Some(Value::Object(meta)) = out.get_mut("metadata") {
        meta.remove("managedFields");
    }
    out
}

/// `object` with `metadata.managedFields` set from `managed` (removed when empty, as the
/// real server omits an empty list).
pub(super) fn with_managed_fields(object: Value, managed: &Managed) -> Value {
    let mut out = object;
    let entries = encode(managed);
    if let Value::Object(root) = &mut out {
        let meta = root
            .entry("metadata")
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(meta) = meta {
            if entries.is_empty() {
                meta.remove("managedFields");
            } else {
                meta.insert("managedFields".to_owned(), Value::Array(entries));
            }
        }
    }
    out
}

/// Fields the real server never tracks: type information and server-managed metadata.
pub(super) fn stripped(set: &FieldSet) -> FieldSet {
    const META: [&str; 10] = [
        "name",
        "namespace",
        "uid",
        "resourceVersion",
        "generation",
        "creationTimestamp",
        "deletionTimestamp",
        "managedFields",
        "selfLink",
        "clusterName",
    ];
    set.iter()
        .filter(|path| {
            let names: Vec<&str> = path
                .iter()
                .map(|pe| match pe {
                    PathElement::Field(n) => n.as_str(),
                    _ => "",
                })
                .collect();
            !matches!(names.as_slice(), ["apiVersion" | "kind" | "metadata"])
                && !matches!(names.as_slice(), ["metadata", m] if META.contains(m))
        })
        .cloned()
        .collect()
}
