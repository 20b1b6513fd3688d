//! Field paths and field sets in structured-merge-diff's model, and their `FieldsV1`
//! encoding.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

/// One step of a field path.
///
/// Variant order matters: sets sort fields before keys, values and indices, as
/// structured-merge-diff does.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(super) enum PathElement {
    /// A struct field or map key: `f:<name>`.
    Field(String),
    /// A map-list item by its key fields, sorted by name, values as canonical JSON:
    /// `k:{"name":"nginx"}`.
    Key(Vec<(String, String)>),
    /// A set item by its canonical JSON value: `v:"foo"`.
    Value(String),
    /// A list item by position (only where no key exists): `i:3`.
    Index(usize),
}

/// A path from the object root.
pub(super) type Path = Vec<PathElement>;

/// A set of paths. Every path in the set is a member (owned); prefixes of members are
/// members only when present themselves.
pub(super) type FieldSet = BTreeSet<Path>;

/// JSON with object keys sorted and no whitespace, independent of whether serde_json keeps
/// insertion order (its `preserve_order` feature may be on in a dependent crate).
pub(super) fn canonical_json(v: &Value) -> String {
    match v {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            let parts: Vec<String> = entries
                .into_iter()
                .map(|(k, v)| format!("{}:{}", quote(k), canonical_json(v)))
                .collect();
            format!("{{{}}}", parts.join(","))
        }
        Value::Array(items) => {
            let parts: Vec<String> = items.iter().map(canonical_json).collect();
            format!("[{}]", parts.join(","))
        }
        Value::String(s) => quote(s),
        other => other.to_string(),
    }
}

fn quote(s: &str) -> String {
    Value::String(s.to_owned()).to_string()
}

/// A path as structured-merge-diff prints it: `.spec.containers[name="nginx"].image`.
pub(super) fn display_path(path: &[PathElement]) -> String {
    let mut out = String::new();
    for pe in path {
        match pe {
            PathElement::Field(name) => {
                out.push('.');
                out.push_str(name);
            }
            PathElement::Key(fields) => {
                let parts: Vec<String> = fields.iter().map(|(k, v)| format!("{k}={v}")).collect();
                out.push_str(&format!("[{}]", parts.join(",")));
            }
            PathElement::Value(v) => out.push_str(&format!("[={v}]")),
            PathElement::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

/// Whether `set` contains `prefix` or any path below it. Paths below a prefix sort
/// contiguously right after it, so one range probe suffices.
pub(super) fn has_prefix(set: &FieldSet, prefix: &[PathElement]) -> bool {
    set.range(prefix.to_vec()..)
        .next()
        .is_some_and(|p| p.starts_with(prefix))
}

/// The `FieldsV1` key of one path element.
fn element_key(pe: &PathElement) -> String {
    match pe {
        PathElement::Field(name) => format!("f:{name}"),
        PathElement::Key(fields) => {
            let parts: Vec<String> = fields
                .iter()
                .map(|(k, v)| format!("{}:{v}", quote(k)))
                .collect();
            format!("k:{{{}}}", parts.join(","))
        }
        PathElement::Value(v) => format!("v:{v}"),
        PathElement::Index(i) => format!("i:{i}"),
    }
}

/// Encodes a field set as `FieldsV1`: a trie where `{}` marks an owned leaf and
/// `".": {}` marks an owned node that also has owned children.
pub(super) fn set_to_fields_v1(set: &FieldSet) -> Value {
    let mut root = Map::new();
    for path in set {
        insert_member(&mut root, path);
    }
    collapse_leaves(&mut root);
    Value::Object(root)
}

/// Creates the trie nodes down to `path` and marks the last one with `"."`.
fn insert_member(node: &mut Map<String, Value>, path: &[PathElement]) {
    match path.split_first() {
        None => {
            node.insert(".".to_owned(), Value::Object(Map::new()));
        }
        Some((pe, rest)) => {
            let child = node
                .entry(element_key(pe))
                .or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(next) = child {
                insert_member(next, rest);
            }
        }
    }
}

/// A node whose only entry is the `"."` marker is written as `{}`.
fn collapse_leaves(node: &mut Map<String, Value>) {
    for child in node.values_mut() {
        if let Value::Object(map) = child {
            if map.len() == 1 && map.contains_key(".") {
                map.clear();
            } else {
                collapse_leaves(map);
            }
        }
    }
}

/// Decodes `FieldsV1` into a field set.
pub(super) fn fields_v1_to_set(v: &Value) -> Result<FieldSet, String> {
    let mut out = FieldSet::new();
    decode(v, &mut Vec::new(), &mut out)?;
    Ok(out)
}

fn decode(v: &Value, prefix: &mut Path, out: &mut FieldSet) -> Result<(), String> {
    let Value::Object(map) = v else {
        return Err(format!("expected an object in FieldsV1, got {v}"));
    };
    for (key, child) in map {
        if key == "." {
            out.insert(prefix.clone());
            continue;
        }
        prefix.push(parse_element(key)?);
        match child {
            Value::Object(m) if m.is_empty() => {
                out.insert(prefix.clone());
            }
            _ => decode(child, prefix, out)?,
        }
        prefix.pop();
    }
    Ok(())
}

fn parse_element(key: &str) -> Result<PathElement, String> {
    let parse = |s: &str| -> Result<Value, String> {
        serde_json::from_str(s).map_err(|e| format!("parsing JSON of {key:?}: {e}"))
    };
    match key.split_at_checked(2) {
        Some(("f:", name)) => Ok(PathElement::Field(name.to_owned())),
        Some(("v:", json)) => Ok(PathElement::Value(canonical_json(&parse(json)?))),
        Some(("i:", index)) => index
            .parse()
            .map(PathElement::Index)
            .map_err(|e| format!("parsing index of {key:?}: {e}")),
        Some(("k:", json)) => match parse(json)? {
            Value::Object(fields) => {
                let mut fields: Vec<(String, String)> = fields
                    .iter()
                    .map(|(k, v)| (k.clone(), canonical_json(v)))
                    .collect();
                fields.sort();
                Ok(PathElement::Key(fields))
            }
            _ => Err(format!("key {key:?} is not a JSON object")),
        },
        _ => Err(format!("unknown path element {key:?}")),
    }
}
