//! Strategic merge patch: maps, directives and the entry point.
//!
//! Mirrors the server half of apimachinery's `strategicpatch` (`StrategicMergeMapPatch` with
//! `MergeParallelList` and `IgnoreUnmatchedNulls`) as of Kubernetes 1.36/1.37, including its
//! quirks, because clients (kubectl's three-way patches, hand-written kube-rs patches) are
//! built against exactly that behaviour. Lists live in [`super::smp_list`].

use serde_json::{Map, Value};

use super::error::PatchError;
use super::gofmt::{go_percent_s, go_value};
use super::schema::{Effective, Schema};

pub(super) type JsonMap = Map<String, Value>;

pub(super) const DIRECTIVE: &str = "$patch";
pub(super) const RETAIN_KEYS: &str = "$retainKeys";
pub(super) const DELETE_FROM_PRIMITIVE_LIST: &str = "$deleteFromPrimitiveList";
pub(super) const SET_ELEMENT_ORDER: &str = "$setElementOrder";

pub(super) const ERR_PRIMITIVE_LIST: &str = "invalid patch format of primitive list";
pub(super) const ERR_RETAIN_KEYS: &str = "invalid patch format of retainKeys";
pub(super) const ERR_SET_ELEMENT_ORDER: &str = "invalid patch format of setElementOrder list";

/// The result of a strategic merge patch together with what the real server would have
/// reported as unknown fields.
#[derive(Debug, Clone, PartialEq)]
pub struct SmpOutcome {
    /// The patched object, with every patch directive removed.
    pub object: Value,
    /// Directive keys that apimachinery leaves in the patched map (e.g. `$patch` inside a
    /// list without a merge strategy) and that the real server then drops while decoding
    /// into the typed object, as field paths like `spec.tolerations[0].$patch`. With
    /// `fieldValidation=Strict` (kubectl's default) the real server rejects such a patch
    /// with 422; see [`SmpOutcome::strict_error`].
    pub unknown_fields: Vec<String>,
}

impl SmpOutcome {
    /// The 422 error the real server returns for this patch under
    /// `fieldValidation=Strict`, if the patch left unknown fields behind.
    pub fn strict_error(&self, patch: &Value) -> Option<PatchError> {
        if self.unknown_fields.is_empty() {
            return None;
        }
        let fields: Vec<String> = self
            .unknown_fields
            .iter()
            .map(|f| format!("unknown field {}", super::error::go_quote(f)))
            .collect();
        Some(PatchError::Invalid(format!(
            " {} is invalid: patch: Invalid value: {}: strict decoding error: {}",
            super::error::go_quote(""),
            super::error::go_quote(&go_value(patch)),
            fields.join(", ")
        )))
    }
}

/// Strategic merge patch of `original` by `patch` (both full JSON objects), following
/// apimachinery's `strategicpatch` semantics for the kinds in [`super::BuiltinSchema`]:
/// maps merge recursively and `null` deletes; lists with a merge key merge item by item;
/// primitive lists with the merge strategy take the union; all other lists are replaced;
/// the directives `$patch: replace|merge|delete` (on maps and on list items),
/// `$retainKeys`, `$deleteFromPrimitiveList/<field>` and `$setElementOrder/<field>` are
/// honoured, and no directive survives into the result.
///
/// Errors carry the real server's messages and statuses: malformed directive lists are
/// 400, lists of lists 422, and everything apimachinery reports as a plain Go error
/// (`unknown patch type: bogus in map: ...`, a missing merge key, ...) is 500.
pub fn strategic_merge(
    original: &Value,
    patch: &Value,
    schema: &dyn Schema,
) -> Result<Value, PatchError> {
    strategic_merge_report(original, patch, schema).map(|outcome| outcome.object)
}

/// Like [`strategic_merge`], but also reports the directive keys the real server would
/// have treated as unknown fields, so a caller can honour `fieldValidation`.
pub fn strategic_merge_report(
    original: &Value,
    patch: &Value,
    schema: &dyn Schema,
) -> Result<SmpOutcome, PatchError> {
    let Value::Object(original) = original else {
        return Err(PatchError::Internal(
            "original object is not a JSON object".to_owned(),
        ));
    };
    let patch = match patch {
        Value::Object(p) => p.clone(),
        // Go unmarshals `null` into a nil map, which patches nothing.
        Value::Null => JsonMap::new(),
        other => {
            return Err(PatchError::BadRequest(format!(
                "json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
                json_kind(other)
            )));
        }
    };
    let smp = Smp {
        schema: Effective(schema),
    };
    let merged = smp.merge_map(original.clone(), patch, &mut Vec::new())?;
    let mut object = Value::Object(merged);
    let mut unknown_fields = Vec::new();
    strip_directives(&mut object, "", &mut unknown_fields);
    Ok(SmpOutcome {
        object,
        unknown_fields,
    })
}

/// Shared state of one strategic merge: the schema consulted along the way.
pub(super) struct Smp<'a> {
    pub(super) schema: Effective<'a>,
}

impl Smp<'_> {
    /// Merges `patch` into `original` at schema path `path` (apimachinery's `mergeMap`).
    pub(super) fn merge_map(
        &self,
        mut original: JsonMap,
        mut patch: JsonMap,
        path: &mut Vec<String>,
    ) -> Result<JsonMap, PatchError> {
        if let Some(directive) = patch.get(DIRECTIVE) {
            return map_directive(directive.clone(), patch);
        }
        apply_retain_keys(&mut original, &mut patch)?;
        self.merge_set_element_order(&mut original, &mut patch, path)?;

        // Go walks the patch in random map order; sorted order keeps results deterministic
        // and handles `$deleteFromPrimitiveList/x` before `x`, which gives the same set.
        let mut entries: Vec<(String, Value)> = patch.into_iter().collect();
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        for (raw_key, mut value) in entries {
            let (key, delete_list) = if raw_key.starts_with(DELETE_FROM_PRIMITIVE_LIST) {
                (extract_key(&raw_key, DELETE_FROM_PRIMITIVE_LIST)?, true)
            } else {
                (raw_key, false)
            };
            // `null` deletes, even for a deletion list (which then removes the whole list).
            if value.is_null() {
                original.remove(&key);
                continue;
            }
            let Some(current) = original.get_mut(&key) else {
                if !delete_list {
                    discard_nulls(&mut value);
                    if let Some(v) = remove_directives(value) {
                        original.insert(key, v);
                    }
                }
                continue;
            };
            if !same_go_type(current, &value) {
                if !delete_list {
                    discard_nulls(&mut value);
                    match remove_directives(value) {
                        Some(v) => *current = v,
                        None => {
                            original.remove(&key);
                        }
                    }
                }
                continue;
            }
            path.push(key);
            let merged = match (current.take(), value) {
                (Value::Object(o), Value::Object(p)) => {
                    self.merge_map(o, p, path).map(Value::Object)
                }
                (Value::Array(o), Value::Array(p)) => self
                    .merge_slice_handler(o, p, path, delete_list)
                    .map(Value::Array),
                (_, scalar) => Ok(scalar),
            };
            let key = path.pop().unwrap_or_default();
            original.insert(key, merged?);
        }
        Ok(original)
    }
}

/// `$patch` on a map: `replace` keeps only the patch, `delete` leaves an empty map.
fn map_directive(directive: Value, mut patch: JsonMap) -> Result<JsonMap, PatchError> {
    match directive.as_str() {
        Some("replace") => {
            patch.remove(DIRECTIVE);
            Ok(patch)
        }
        Some("delete") => Ok(JsonMap::new()),
        _ => Err(bad_patch_type(&directive, &patch)),
    }
}

/// apimachinery's `ErrBadPatchType`, a plain Go error (HTTP 500).
pub(super) fn bad_patch_type(directive: &Value, map: &JsonMap) -> PatchError {
    PatchError::Internal(format!(
        "unknown patch type: {} in map: {}",
        go_percent_s(directive),
        go_value(&Value::Object(map.clone()))
    ))
}

/// `$retainKeys`: every non-null patch key must be listed, and original keys that are not
/// listed are cleared.
fn apply_retain_keys(original: &mut JsonMap, patch: &mut JsonMap) -> Result<(), PatchError> {
    let Some(retain) = patch.remove(RETAIN_KEYS) else {
        return Ok(());
    };
    let Value::Array(retain) = retain else {
        return Err(PatchError::BadRequest(ERR_RETAIN_KEYS.to_owned()));
    };
    // Go builds a map keyed by the list items, which panics on maps and slices.
    if let Some(bad) = retain.iter().find(|v| v.is_object() || v.is_array()) {
        return Err(PatchError::Internal(format!(
            "runtime error: hash of unhashable type {}",
            super::gofmt::go_type_name(Some(bad))
        )));
    }
    let listed = |k: &str| retain.iter().any(|v| v.as_str() == Some(k));
    for (key, value) in patch.iter() {
        let parallel =
            key.starts_with(DELETE_FROM_PRIMITIVE_LIST) || key.starts_with(SET_ELEMENT_ORDER);
        if !value.is_null() && !parallel && !listed(key) {
            return Err(PatchError::BadRequest(ERR_RETAIN_KEYS.to_owned()));
        }
    }
    original.retain(|k, _| listed(k));
    Ok(())
}

/// Splits `prefix/field` into `field`; malformed keys are 400s.
pub(super) fn extract_key(key: &str, prefix: &str) -> Result<String, PatchError> {
    match key.split_once('/') {
        Some((head, field)) if head == prefix => Ok(field.to_owned()),
        _ if prefix == SET_ELEMENT_ORDER => {
            Err(PatchError::BadRequest(ERR_SET_ELEMENT_ORDER.to_owned()))
        }
        _ => Err(PatchError::BadRequest(ERR_PRIMITIVE_LIST.to_owned())),
    }
}

/// Drops every map that carries `$patch`, recursively (apimachinery's `removeDirectives`,
/// applied to patch values copied into the result). `None`: drop the value itself.
pub(super) fn remove_directives(value: Value) -> Option<Value> {
    match value {
        Value::Object(map) if map.contains_key(DIRECTIVE) => None,
        Value::Object(map) => Some(Value::Object(
            map.into_iter()
                .filter_map(|(k, v)| remove_directives(v).map(|v| (k, v)))
                .collect(),
        )),
        Value::Array(items) => Some(Value::Array(
            items.into_iter().filter_map(remove_directives).collect(),
        )),
        scalar => Some(scalar),
    }
}

/// Removes `null` map values anywhere below `value` (patch values copied verbatim must not
/// introduce nulls; `IgnoreUnmatchedNulls`).
fn discard_nulls(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|_, v| !v.is_null());
            map.values_mut().for_each(discard_nulls);
        }
        Value::Array(items) => items.iter_mut().for_each(discard_nulls),
        _ => {}
    }
}

/// Go compares `reflect.TypeOf` of the decoded values: maps, slices and each scalar type
/// (with `int64` distinct from `float64`) are different types.
fn same_go_type(a: &Value, b: &Value) -> bool {
    super::gofmt::go_type_name(Some(a)) == super::gofmt::go_type_name(Some(b))
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Array(_) => "array",
        Value::String(_) => "string",
        Value::Number(_) => "number",
        Value::Bool(_) => "bool",
        Value::Object(_) | Value::Null => "object",
    }
}

/// Whether `key` is one of the patch directives.
fn is_directive_key(key: &str) -> bool {
    key == DIRECTIVE
        || key == RETAIN_KEYS
        || key.starts_with(&format!("{SET_ELEMENT_ORDER}/"))
        || key.starts_with(&format!("{DELETE_FROM_PRIMITIVE_LIST}/"))
}

/// Removes the directive keys apimachinery leaves behind (the typed decoding on the real
/// server drops them as unknown fields) and records where they were.
fn strip_directives(value: &mut Value, at: &str, found: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<String> = map.keys().cloned().collect();
            keys.sort();
            for key in keys {
                let child = if at.is_empty() {
                    key.clone()
                } else {
                    format!("{at}.{key}")
                };
                if is_directive_key(&key) {
                    map.remove(&key);
                    found.push(child);
                } else if let Some(v) = map.get_mut(&key) {
                    strip_directives(v, &child, found);
                }
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                strip_directives(item, &format!("{at}[{i}]"), found);
            }
        }
        _ => {}
    }
}
