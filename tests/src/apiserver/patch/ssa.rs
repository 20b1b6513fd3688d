//! Server-side apply and the ownership bookkeeping of ordinary writes, after
//! structured-merge-diff's `Updater` and the real server's field-manager chain.

use serde_json::{Map, Value};

use super::compare::compare;
use super::error::{FieldConflict, PatchError};
use super::fieldpath::{FieldSet, PathElement, display_path};
use super::managed::{
    APPLY, Entry, Managed, ManagerId, UPDATE, decode, stripped, with_managed_fields,
    without_managed_fields,
};
use super::merge::merge;
use super::schema::{Effective, Schema, as_strs};
use super::typed::{ensure_named, remove_items, schema_path, to_field_set};

/// The manager the real server charges with all existing fields when an object without
/// managedFields is applied to for the first time.
const BEFORE_FIRST_APPLY: &str = "before-first-apply";

/// One server-side apply request.
#[derive(Debug, Clone, Copy)]
pub struct Apply<'a> {
    /// The current object, with its managedFields; `None` when the apply creates it.
    pub live: Option<&'a Value>,
    /// The applied configuration, already filtered by the caller (no `.status` for the main
    /// resource, only `.status` for `/status`).
    pub applied: &'a Value,
    /// The `fieldManager` of the request (required for apply).
    pub manager: &'a str,
    /// `force=true`: take over conflicting fields instead of failing.
    pub force: bool,
    /// `Some("status")` for an apply to the status subresource; recorded in managedFields.
    pub subresource: Option<&'a str>,
    /// The API version of the request (`v1`, `apps/v1`), recorded in managedFields.
    pub api_version: &'a str,
    /// The current time (RFC 3339), recorded in managedFields.
    pub now: &'a str,
}

/// Server-side apply: returns the new object with `metadata.managedFields` updated, or the
/// conflicts with other managers.
///
/// The applied fields become the manager's new set; a field whose value would change and
/// that another manager owns is a conflict unless `force` moves it to this manager; equal
/// values are shared. Fields the manager applied before but no longer applies are removed
/// unless another manager still owns them. An apply that changes nothing leaves every
/// entry's time alone, as the real server does.
pub fn apply(req: &Apply<'_>, schema: &dyn Schema) -> Result<Value, PatchError> {
    if req.manager.is_empty() {
        return Err(PatchError::Invalid(
            "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is \
             required for apply patch"
                .to_owned(),
        ));
    }
    let Value::Object(_) = req.applied else {
        return Err(PatchError::BadRequest(
            "json: cannot unmarshal non-object into Go value of type map[string]interface {}"
                .to_owned(),
        ));
    };
    if req
        .applied
        .pointer("/metadata/managedFields")
        .is_some_and(|v| !v.is_null())
    {
        return Err(PatchError::BadRequest(
            "metadata.managedFields must be nil".to_owned(),
        ));
    }
    let schema = Effective(schema);
    let internal = |e: String| PatchError::Internal(e);
    let (live, mut managed) = match req.live {
        Some(live) => (
            without_managed_fields(live),
            decode(live).map_err(|e| internal(format!("failed to decode managed fields: {e}")))?,
        ),
        None => (Value::Object(Map::new()), Managed::new()),
    };
    if req.live.is_some() && managed.is_empty() {
        let id = ManagerId::new(BEFORE_FIRST_APPLY, UPDATE, req.api_version, req.subresource);
        let empty = Value::Object(Map::new());
        managed = record(
            &schema,
            &empty,
            &live,
            managed,
            &id,
            req.api_version,
            req.now,
        )
        .map_err(internal)?;
    }

    let id = ManagerId::new(req.manager, APPLY, req.api_version, req.subresource);
    let config = req.applied;
    let applied_set = to_field_set(&schema, config, false)
        .map_err(|e| internal(format!("failed to create typed patch object: {e}")))?;
    let merged = merge(&schema, &live, config, &mut Vec::new())
        .map_err(|e| internal(format!("failed to merge config: {e}")))?;
    let last = managed.get(&id).map(|e| e.set.clone()).unwrap_or_default();
    let time = managed.get(&id).and_then(|e| e.time.clone());
    managed.insert(
        id.clone(),
        Entry {
            api_version: req.api_version.to_owned(),
            time,
            // Unstripped until the end: while pruning, the applied `metadata.name` keeps
            // `metadata` itself owned, exactly as on the real server.
            set: applied_set,
        },
    );
    let result = prune(&schema, &merged, &managed, &last).map_err(internal)?;
    let cmp = compare(&schema, &live, &result).map_err(internal)?;
    let changed: FieldSet = cmp.modified.union(&cmp.added).cloned().collect();

    let mut conflicts = Vec::new();
    for (other, entry) in &managed {
        if *other == id {
            continue;
        }
        for path in entry.set.intersection(&changed) {
            conflicts.push(conflict(other, entry, path));
        }
    }
    if !conflicts.is_empty() && !req.force {
        conflicts.sort_by(|a, b| (&a.manager, &a.operation).cmp(&(&b.manager, &b.operation)));
        return Err(PatchError::Conflict(conflicts));
    }
    for (other, entry) in managed.iter_mut() {
        if *other != id {
            entry
                .set
                .retain(|p| !changed.contains(p) && !cmp.removed.contains(p));
        }
    }
    if let Some(entry) = managed.get_mut(&id) {
        entry.set = stripped(&entry.set);
        if result != live {
            entry.time = Some(req.now.to_owned());
        }
    }
    managed.retain(|_, e| !e.set.is_empty());
    Ok(with_managed_fields(result, &managed))
}

fn conflict(id: &ManagerId, entry: &Entry, path: &[PathElement]) -> FieldConflict {
    FieldConflict {
        manager: id.manager.clone(),
        operation: id.operation.clone(),
        api_version: entry.api_version.clone(),
        subresource: Some(id.subresource.clone()).filter(|s| !s.is_empty()),
        time: entry.time.clone(),
        field: display_path(path),
    }
}

/// Removes what the applier applied last time and no longer applies, unless some manager
/// (the applier's new configuration included) still owns it: structured-merge-diff's
/// `prune`, `addBackOwnedItems` and `addBackDanglingItems`.
fn prune(
    schema: &Effective<'_>,
    merged: &Value,
    managed: &Managed,
    last: &FieldSet,
) -> Result<Value, String> {
    if last.is_empty() {
        return Ok(merged.clone());
    }
    let last = ensure_named(schema, last);
    let set_of = |v: &Value| -> Result<FieldSet, String> {
        Ok(ensure_named(schema, &to_field_set(schema, v, true)?))
    };
    let owned: FieldSet = managed
        .values()
        .flat_map(|e| e.set.iter().cloned())
        .collect();
    let owned = ensure_named(schema, &owned);
    let merged_set = set_of(merged)?;
    let first = set_of(&remove_items(schema, merged, &last))?;
    let unowned: FieldSet = merged_set
        .iter()
        .filter(|p| !first.contains(*p) && !owned.contains(*p))
        .cloned()
        .collect();
    let kept = set_of(&remove_items(schema, merged, &unowned))?;
    let gone: FieldSet = merged_set
        .iter()
        .filter(|p| !kept.contains(*p) && last.contains(*p))
        .cloned()
        .collect();
    Ok(remove_items(schema, merged, &gone))
}

/// Records a non-apply write (create, update or patch by `manager`, operation `Update`):
/// the fields whose values changed or appeared between `old` and `new` become owned by
/// `manager` and are taken away from other managers; fields that disappeared are dropped
/// from every manager. Returns `new` with updated `metadata.managedFields`.
///
/// As on the real server, managedFields sent in `new` replace the stored ones when they
/// decode to at least one entry (so `[{}]` resets ownership), except on subresources;
/// otherwise the stored ones of `old` are kept. If the bookkeeping fails, the object is
/// returned without managedFields, as the real server does.
pub fn record_update(
    old: Option<&Value>,
    new: &Value,
    manager: &str,
    subresource: Option<&str>,
    api_version: &str,
    now: &str,
    schema: &dyn Schema,
) -> Value {
    let schema = Effective(schema);
    let new_object = without_managed_fields(new);
    let provided = decode(new)
        .ok()
        .filter(|m| !m.is_empty() && subresource.is_none());
    let managed = match (provided, old) {
        (Some(m), _) => m,
        (None, None) => Managed::new(),
        (None, Some(old)) => match decode(old) {
            Ok(m) => m,
            Err(_) => return new_object,
        },
    };
    let old_object = old
        .map(without_managed_fields)
        .unwrap_or_else(|| Value::Object(Map::new()));
    let id = ManagerId::new(manager, UPDATE, api_version, subresource);
    match record(
        &schema,
        &old_object,
        &new_object,
        managed,
        &id,
        api_version,
        now,
    ) {
        Ok(managed) => with_managed_fields(new_object, &managed),
        Err(_) => new_object,
    }
}

/// The ownership change of an `Update` by `id` from `old` to `new` (both without
/// managedFields).
fn record(
    schema: &Effective<'_>,
    old: &Value,
    new: &Value,
    mut managed: Managed,
    id: &ManagerId,
    api_version: &str,
    now: &str,
) -> Result<Managed, String> {
    let cmp = compare(schema, old, new)?;
    let changed: FieldSet = cmp.modified.union(&cmp.added).cloned().collect();
    for entry in managed.values_mut() {
        entry
            .set
            .retain(|p| !changed.contains(p) && !cmp.removed.contains(p));
    }
    let taken = stripped(
        &changed
            .into_iter()
            .filter(|p| records_as_owned(schema, new, p))
            .collect(),
    );
    if !taken.is_empty() {
        let entry = managed.entry(id.clone()).or_insert_with(|| Entry {
            api_version: api_version.to_owned(),
            time: None,
            set: FieldSet::new(),
        });
        entry.set.extend(taken);
        entry.api_version = api_version.to_owned();
        entry.time = Some(now.to_owned());
    }
    managed.retain(|_, e| !e.set.is_empty());
    Ok(managed)
}

/// Whether an updater owns `path` itself. The real server compares against the typed zero
/// value, in which non-pointer structs (`spec`, `template`, ...) always exist, so an
/// update never claims a struct that has content; it does claim leaves, list items, lists
/// and free-form maps that were absent. Pointer structs cannot be told apart here and are
/// treated like the others (see NOTES.md).
fn records_as_owned(schema: &Effective<'_>, object: &Value, path: &[PathElement]) -> bool {
    if !matches!(path.last(), Some(PathElement::Field(_))) {
        return true;
    }
    match value_at(object, path) {
        Some(Value::Object(map)) if !map.is_empty() => {
            let spath = schema_path(path);
            schema.free_form_map(&as_strs(&spath)) || schema.atomic_map(&as_strs(&spath))
        }
        _ => true,
    }
}

/// The value at a field path whose elements are all fields (list items are not needed).
fn value_at<'v>(object: &'v Value, path: &[PathElement]) -> Option<&'v Value> {
    let mut at = object;
    for pe in path {
        match pe {
            PathElement::Field(name) => at = at.get(name)?,
            _ => return None,
        }
    }
    Some(at)
}
