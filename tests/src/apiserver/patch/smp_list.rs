//! Strategic merge patch: lists, `$setElementOrder` and the ordering rules.
//!
//! The resulting order follows apimachinery: items named by the patch (or by
//! `$setElementOrder`) keep the patch's order, items only on the server keep theirs, and the
//! two runs are interleaved by the server's order where both sides know an item. New items
//! without `$setElementOrder` therefore come *before* the server-only items.

use serde_json::Value;

use super::error::PatchError;
use super::gofmt::{go_lists, go_type_name, go_value};
use super::schema::{SmpList, as_strs};
use super::smp::{
    DIRECTIVE, JsonMap, SET_ELEMENT_ORDER, Smp, bad_patch_type, extract_key, remove_directives,
};

/// What a list holds, as far as merging cares.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Maps,
    Scalars,
}

impl Smp<'_> {
    fn merge_key(&self, path: &[String]) -> (bool, Option<String>) {
        match self.schema.smp_list(&as_strs(path)) {
            SmpList::Merge(key) => (true, key.filter(|k| !k.is_empty())),
            SmpList::Replace => (false, None),
        }
    }

    /// apimachinery's `mergeSliceHandler`: merge-strategy lists and deletion lists merge,
    /// every other list is replaced by the patch verbatim.
    pub(super) fn merge_slice_handler(
        &self,
        original: Vec<Value>,
        patch: Vec<Value>,
        path: &[String],
        delete_list: bool,
    ) -> Result<Vec<Value>, PatchError> {
        let (merge, key) = self.merge_key(path);
        if !(merge || delete_list) {
            return Ok(patch);
        }
        if original.is_empty() && patch.is_empty() {
            return Ok(original);
        }
        if element_kind(&[&original, &patch])? == Kind::Scalars {
            if delete_list {
                return Ok(original
                    .into_iter()
                    .filter(|v| !patch.contains(v))
                    .collect());
            }
            let mut merged: Vec<Value> = Vec::with_capacity(original.len() + patch.len());
            for v in original.iter().chain(patch.iter()) {
                if !merged.contains(v) {
                    merged.push(v.clone());
                }
            }
            let (named, server_only) = partition_scalars(merged, &patch);
            return normalize(named, server_only, &patch, &original, None);
        }
        let Some(key) = key else {
            let field = path.last().map(String::as_str).unwrap_or_default();
            return Err(PatchError::Internal(format!(
                "cannot merge lists without merge key for {field}"
            )));
        };
        let (original, patch) = special_elements(original, patch, &key)?;
        let mut merged = original.clone();
        for item in &patch {
            let value = merge_value(item, &key)?;
            match merged.iter().position(|o| o.get(&key) == Some(value)) {
                Some(i) => {
                    let (Value::Object(o), Value::Object(p)) = (merged[i].take(), item.clone())
                    else {
                        return Err(bad_arg_type("map[string]interface {}", Some(item)));
                    };
                    merged[i] = Value::Object(self.merge_map(o, p, &mut path.to_vec())?);
                }
                None => merged.push(item.clone()),
            }
        }
        let (named, server_only) = partition_maps(merged, &patch, &key)?;
        normalize(named, server_only, &patch, &original, Some(&key))
    }

    /// Processes every `$setElementOrder/<field>` of `patch`, merging that field's list
    /// here and ordering it as the directive says (apimachinery's `mergePatchIntoOriginal`).
    pub(super) fn merge_set_element_order(
        &self,
        original: &mut JsonMap,
        patch: &mut JsonMap,
        path: &[String],
    ) -> Result<(), PatchError> {
        let mut keys: Vec<String> = patch
            .keys()
            .filter(|k| k.starts_with(SET_ELEMENT_ORDER))
            .cloned()
            .collect();
        keys.sort();
        for directive_key in keys {
            let order = patch.remove(&directive_key).unwrap_or(Value::Null);
            let Value::Array(order) = order else {
                return Err(bad_arg_type("[]interface {}", Some(&order)));
            };
            let field = extract_key(&directive_key, SET_ELEMENT_ORDER)?;
            let from_original = list_at(original, &field)?;
            let from_patch = list_at(patch, &field)?;
            let mut child = path.to_vec();
            child.push(field.clone());
            let (_, key) = self.merge_key(&child);
            validate_order(
                from_patch.as_deref().unwrap_or_default(),
                &order,
                key.as_deref(),
            )?;
            let merged = match (&from_original, &from_patch) {
                (Some(o), None) => o.clone(),
                (None, Some(p)) => match remove_directives(Value::Array(p.clone())) {
                    Some(Value::Array(items)) => items,
                    _ => continue,
                },
                (Some(o), Some(p)) => {
                    self.merge_slice_handler(o.clone(), p.clone(), &child, false)?
                }
                (None, None) => continue,
            };
            let (named, server_only) = match &key {
                None => partition_scalars(merged, &order),
                Some(k) => partition_maps(merged, &order, k)?,
            };
            let original_list = from_original.unwrap_or_default();
            let kind = element_kind(&[&original_list, from_patch.as_deref().unwrap_or_default()])?;
            let key = key.filter(|_| kind == Kind::Maps);
            let ordered = normalize(named, server_only, &order, &original_list, key.as_deref())?;
            original.insert(field.clone(), Value::Array(ordered));
            patch.remove(&field);
        }
        Ok(())
    }
}

/// The list under `field`, if present; anything else there is a Go type-assertion error.
fn list_at(map: &JsonMap, field: &str) -> Result<Option<Vec<Value>>, PatchError> {
    match map.get(field) {
        None => Ok(None),
        Some(Value::Array(items)) => Ok(Some(items.clone())),
        Some(other) => Err(bad_arg_type("[]interface {}", Some(other))),
    }
}

/// Every item of every list must have the same Go type, and none may be a list.
fn element_kind(lists: &[&[Value]]) -> Result<Kind, PatchError> {
    let mut first: Option<&'static str> = None;
    for item in lists.iter().flat_map(|l| l.iter()) {
        let ty = go_type_name(Some(item));
        match first {
            None if item.is_null() => {
                // `reflect.TypeOf(nil).Kind()` dereferences a nil type in Go.
                return Err(PatchError::Internal(
                    "runtime error: invalid memory address or nil pointer dereference".to_owned(),
                ));
            }
            None if item.is_array() => {
                return Err(PatchError::Invalid(
                    "lists of lists are not supported".to_owned(),
                ));
            }
            None => first = Some(ty),
            Some(t) if t != ty => {
                return Err(PatchError::Internal(format!(
                    "list element types are not identical: {}",
                    go_lists(lists)
                )));
            }
            Some(_) => {}
        }
    }
    match first {
        Some("map[string]interface {}") => Ok(Kind::Maps),
        Some(_) => Ok(Kind::Scalars),
        None => Err(PatchError::Internal(
            "no elements in any of the given slices".to_owned(),
        )),
    }
}

/// Applies `$patch` items of a merge list: `delete` removes the matching originals,
/// `replace` makes the remaining patch items the whole list.
fn special_elements(
    mut original: Vec<Value>,
    patch: Vec<Value>,
    key: &str,
) -> Result<(Vec<Value>, Vec<Value>), PatchError> {
    let mut plain = Vec::with_capacity(patch.len());
    let mut replace = false;
    for item in patch {
        let Some(directive) = item.get(DIRECTIVE) else {
            plain.push(item);
            continue;
        };
        match directive.as_str() {
            Some("delete") => {
                let value = merge_value(&item, key)?.clone();
                original.retain(|o| o.get(key) != Some(&value));
            }
            Some("replace") => replace = true,
            Some("merge") => {
                return Err(PatchError::Internal(
                    "merging lists cannot yet be specified in the patch".to_owned(),
                ));
            }
            _ => {
                let map = item.as_object().cloned().unwrap_or_default();
                return Err(bad_patch_type(directive, &map));
            }
        }
    }
    Ok(if replace {
        (plain, Vec::new())
    } else {
        (original, plain)
    })
}

/// The merge key's value of a list item, or apimachinery's `ErrNoMergeKey`.
fn merge_value<'v>(item: &'v Value, key: &str) -> Result<&'v Value, PatchError> {
    let Value::Object(map) = item else {
        return Err(bad_arg_type("map[string]interface {}", Some(item)));
    };
    map.get(key).ok_or_else(|| no_merge_key(map, key))
}

fn no_merge_key(map: &JsonMap, key: &str) -> PatchError {
    PatchError::Internal(format!(
        "map: {} does not contain declared merge key: {key}",
        go_value(&Value::Object(map.clone()))
    ))
}

/// apimachinery's `ErrBadArgType`.
fn bad_arg_type(expected: &str, actual: Option<&Value>) -> PatchError {
    PatchError::Internal(format!(
        "expected a {expected}, but received a {}",
        go_type_name(actual)
    ))
}

/// Checks that the patch list names its items in the order `$setElementOrder` gives.
fn validate_order(patch: &[Value], order: &[Value], key: Option<&str>) -> Result<(), PatchError> {
    if order.is_empty() || patch.is_empty() {
        return Ok(());
    }
    let mut kept = Vec::with_capacity(patch.len());
    for item in patch {
        if key.is_some() {
            let Value::Object(map) = item else {
                return Err(bad_arg_type("map[string]interface {}", Some(item)));
            };
            if map.get(DIRECTIVE).and_then(Value::as_str) == Some("delete") {
                continue;
            }
        }
        kept.push(item);
    }
    let (mut p, mut o) = (0, 0);
    while p < kept.len() && o < order.len() {
        if kept[p].get(DIRECTIVE).is_some() {
            p += 1;
            continue;
        }
        let equal = match key {
            None => kept[p] == &order[o],
            Some(k) => merge_value(kept[p], k)? == merge_value(&order[o], k)?,
        };
        if equal {
            p += 1;
        }
        o += 1;
    }
    if p < kept.len() && o >= order.len() {
        return Err(PatchError::Internal(format!(
            "the order in patch list:\n{}\n doesn't match {SET_ELEMENT_ORDER} list:\n{}",
            go_value(&Value::Array(patch.to_vec())),
            go_value(&Value::Array(order.to_vec()))
        )));
    }
    Ok(())
}

fn partition_scalars(merged: Vec<Value>, by: &[Value]) -> (Vec<Value>, Vec<Value>) {
    merged.into_iter().partition(|v| by.contains(v))
}

fn partition_maps(
    merged: Vec<Value>,
    by: &[Value],
    key: &str,
) -> Result<(Vec<Value>, Vec<Value>), PatchError> {
    let (mut named, mut server_only) = (Vec::new(), Vec::new());
    for item in merged {
        let value = merge_value(&item, key)?;
        let mut found = false;
        for (i, b) in by.iter().enumerate() {
            let Value::Object(b) = b else {
                return Err(PatchError::Internal(format!(
                    "value for key {i} is not a map"
                )));
            };
            if b.get(key) == Some(value) {
                found = true;
                break;
            }
        }
        if found {
            named.push(item);
        } else {
            server_only.push(item);
        }
    }
    Ok((named, server_only))
}

/// Position of `item` in `list`, comparing merge-key values for maps (`None == None`, as
/// Go's `nil == nil`) and whole values for scalars.
fn index_of(list: &[Value], item: &Value, key: Option<&str>) -> Option<usize> {
    list.iter().position(|v| match key {
        Some(k) => v.get(k) == item.get(k),
        None => v == item,
    })
}

/// Sorts `named` by `named_order` and `server_only` by `server_order`, then interleaves them.
fn normalize(
    named: Vec<Value>,
    server_only: Vec<Value>,
    named_order: &[Value],
    server_order: &[Value],
    key: Option<&str>,
) -> Result<Vec<Value>, PatchError> {
    let named = sort_by_order(named, named_order, key)?;
    let server_only = sort_by_order(server_only, server_order, key)?;
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::with_capacity(named.len() + server_only.len());
    while i < server_only.len() && j < named.len() {
        let left = index_of(server_order, &server_only[i], key);
        let right = index_of(server_order, &named[j], key);
        if let (Some(l), Some(r)) = (left, right)
            && l < r
        {
            out.push(server_only[i].clone());
            i += 1;
            continue;
        }
        out.push(named[j].clone());
        j += 1;
    }
    out.extend_from_slice(&server_only[i..]);
    out.extend_from_slice(&named[j..]);
    Ok(out)
}

fn sort_by_order(
    items: Vec<Value>,
    order: &[Value],
    key: Option<&str>,
) -> Result<Vec<Value>, PatchError> {
    let (mut keep, mut deletions) = (Vec::new(), Vec::new());
    if let Some(k) = key {
        for v in items.iter().chain(order.iter()) {
            merge_value(v, k)?;
        }
        for v in items {
            if v.get(DIRECTIVE).and_then(Value::as_str) == Some("delete") {
                deletions.push(v);
            } else {
                keep.push(v);
            }
        }
    } else {
        keep = items;
    }
    keep.sort_by_key(|v| index_of(order, v, key).unwrap_or(usize::MAX));
    keep.extend(deletions);
    Ok(keep)
}
