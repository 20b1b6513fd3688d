//! Schema-aware walks over objects for server-side apply: the field set an object sets,
//! named-field closure of a set, and removal of owned items.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use super::fieldpath::{FieldSet, Path, PathElement, canonical_json, display_path, has_prefix};
use super::schema::{Effective, ListType, as_strs};

/// The schema path (field names, list positions omitted) of a field path.
pub(super) fn schema_path(path: &[PathElement]) -> Vec<String> {
    path.iter()
        .filter_map(|pe| match pe {
            PathElement::Field(name) => Some(name.clone()),
            _ => None,
        })
        .collect()
}

/// The path element naming `item` inside the non-atomic list at schema path `spath`.
pub(super) fn item_element(
    schema: &Effective<'_>,
    spath: &[String],
    list: &ListType,
    item: &Value,
    index: usize,
) -> Result<PathElement, String> {
    match list {
        ListType::Atomic => Ok(PathElement::Index(index)),
        ListType::Set => Ok(PathElement::Value(canonical_json(item))),
        ListType::Map(keys) => {
            let Value::Object(fields) = item else {
                return Err(format!(
                    "element {index}: associative list with keys has an element that's not a map"
                ));
            };
            let mut key = Vec::with_capacity(keys.len());
            for name in keys {
                let value = match fields.get(name) {
                    Some(v) => v.clone(),
                    None => schema
                        .list_key_default(&as_strs(spath), name)
                        .ok_or_else(|| {
                            format!(
                                "element {index}: associative list with keys has an element \
                                 that omits key field {name:?} (and doesn't have default value)"
                            )
                        })?,
                };
                key.push((name.clone(), canonical_json(&value)));
            }
            key.sort();
            Ok(PathElement::Key(key))
        }
    }
}

/// The fields `value` sets, as structured-merge-diff's `ToFieldSet` computes them: leaves,
/// atomic values, items of non-atomic lists, entries of free-form maps, and empty or null
/// struct fields. Struct fields with content are not members themselves.
pub(super) fn to_field_set(
    schema: &Effective<'_>,
    value: &Value,
    allow_duplicates: bool,
) -> Result<FieldSet, String> {
    let mut out = FieldSet::new();
    let mut walker = SetWalker {
        schema,
        allow_duplicates,
        out: &mut out,
    };
    walker.walk(value, &mut Vec::new())?;
    Ok(out)
}

struct SetWalker<'s, 'a> {
    schema: &'s Effective<'a>,
    allow_duplicates: bool,
    out: &'s mut FieldSet,
}

impl SetWalker<'_, '_> {
    fn walk(&mut self, value: &Value, path: &mut Path) -> Result<(), String> {
        let spath = schema_path(path);
        match value {
            Value::Object(map) => {
                if !path.is_empty() && self.schema.atomic_map(&as_strs(&spath)) {
                    self.out.insert(path.clone());
                    return Ok(());
                }
                let free = !path.is_empty() && self.schema.free_form_map(&as_strs(&spath));
                for (key, child) in map {
                    path.push(PathElement::Field(key.clone()));
                    self.walk(child, path)?;
                    let empty = child.as_object().is_some_and(Map::is_empty);
                    if child.is_null() || empty || free {
                        self.out.insert(path.clone());
                    }
                    path.pop();
                }
            }
            Value::Array(items) => {
                let list = self.schema.list_type(&as_strs(&spath));
                if list == ListType::Atomic {
                    self.out.insert(path.clone());
                    return Ok(());
                }
                let mut seen = BTreeSet::new();
                for (i, item) in items.iter().enumerate() {
                    let pe = item_element(self.schema, &spath, &list, item, i)
                        .map_err(|e| format!("{}: {e}", display_path(path)))?;
                    if !seen.insert(pe.clone()) && !self.allow_duplicates {
                        return Err(format!(
                            "{}: duplicate entries for key {}",
                            display_path(path),
                            display_path(&[pe])
                        ));
                    }
                    path.push(pe);
                    self.walk(item, path)?;
                    self.out.insert(path.clone());
                    path.pop();
                }
            }
            _ => {
                self.out.insert(path.clone());
            }
        }
        Ok(())
    }
}

/// Adds every named struct field on the way to a member, as structured-merge-diff's
/// `EnsureNamedFieldsAreMembers`: owning `spec.template.spec.x` then also means owning
/// `spec`, `spec.template` and `spec.template.spec`, but never a free-form map itself
/// because one of its entries is owned.
pub(super) fn ensure_named(schema: &Effective<'_>, set: &FieldSet) -> FieldSet {
    let mut out = set.clone();
    for path in set {
        for end in 1..path.len() {
            let prefix = &path[..end];
            if !matches!(prefix.last(), Some(PathElement::Field(_))) {
                continue;
            }
            let parent = schema_path(&prefix[..end - 1]);
            if end == 1 || !schema.free_form_map(&as_strs(&parent)) {
                out.insert(prefix.to_vec());
            }
        }
    }
    out
}

/// Removes from `value` every field and list item whose path is in `set` (together with
/// everything below it), as structured-merge-diff's `RemoveItems`.
pub(super) fn remove_items(schema: &Effective<'_>, value: &Value, set: &FieldSet) -> Value {
    let mut out = value.clone();
    if !set.is_empty() {
        remove_in(schema, &mut out, &mut Vec::new(), set);
    }
    out
}

fn remove_in(schema: &Effective<'_>, value: &mut Value, path: &mut Path, set: &FieldSet) {
    match value {
        Value::Object(map) => {
            let keys: Vec<String> = map.keys().cloned().collect();
            for key in keys {
                path.push(PathElement::Field(key.clone()));
                if set.contains(path) {
                    map.remove(&key);
                } else if has_prefix(set, path)
                    && let Some(child) = map.get_mut(&key)
                {
                    remove_in(schema, child, path, set);
                }
                path.pop();
            }
        }
        Value::Array(items) => {
            let spath = schema_path(path);
            let list = schema.list_type(&as_strs(&spath));
            if list == ListType::Atomic {
                return;
            }
            let mut kept = Vec::with_capacity(items.len());
            for (i, mut item) in std::mem::take(items).into_iter().enumerate() {
                // Items whose key cannot be computed cannot be addressed; keep them.
                let Ok(pe) = item_element(schema, &spath, &list, &item, i) else {
                    kept.push(item);
                    continue;
                };
                path.push(pe);
                if !set.contains(path) {
                    if has_prefix(set, path) {
                        remove_in(schema, &mut item, path, set);
                    }
                    kept.push(item);
                }
                path.pop();
            }
            *items = kept;
        }
        _ => {}
    }
}
