//! What the algorithms need to know about an object's schema: how each list merges, which
//! maps are atomic, which objects are free-form maps rather than structs.

use serde_json::Value;

/// How a list at some path merges under server-side apply
/// (`x-kubernetes-list-type`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListType {
    /// The list is one value: whoever applies it owns and replaces all of it.
    Atomic,
    /// A set of scalars: items are owned one by one (`v:<json>` in managedFields).
    Set,
    /// A list of objects identified by these key fields (`k:{...}` in managedFields).
    Map(Vec<String>),
}

/// How strategic merge patch treats a list: the Go struct tags `patchStrategy` and
/// `patchMergeKey` of built-in types, which differ from the apply list types (e.g.
/// `containers[].ports` merges by `containerPort` alone under SMP but is keyed by
/// `containerPort` and `protocol` under apply).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SmpList {
    /// No `patchStrategy`: the patch's list replaces the original list.
    Replace,
    /// `patchStrategy:"merge"`: lists of objects merge item by item on the merge key;
    /// lists of scalars take the union. `None` is only valid for lists of scalars.
    Merge(Option<String>),
}

/// Tells the algorithms how lists and maps at a given field path behave.
///
/// `path` is the field path from the object root with list positions omitted, e.g.
/// `["spec", "containers", "env"]`; keys of free-form maps appear as path segments.
/// The rules for `metadata` (labels, annotations, finalizers, ownerReferences,
/// managedFields) are the same for every kind and are applied on top of any `Schema`, so
/// implementations need not describe them.
pub trait Schema {
    /// The apply list type of the list at `path`. Lists a schema does not describe are
    /// atomic, as in structured-merge-diff.
    fn list_type(&self, path: &[&str]) -> ListType;

    /// Whether the map at `path` is atomic (`x-kubernetes-map-type: atomic`, or a
    /// `+structType=atomic` struct): applied and owned as one value.
    fn atomic_map(&self, _path: &[&str]) -> bool {
        false
    }

    /// Whether the object at `path` is a map with arbitrary keys (a Go map, an
    /// `additionalProperties` schema) rather than a struct with named fields. Apply owns map
    /// entries individually and, unlike struct fields, never claims the map itself when
    /// a nested field is owned.
    fn free_form_map(&self, _path: &[&str]) -> bool {
        false
    }

    /// The default of key field `key` for items of the map list at `path`, used when an
    /// item omits it (e.g. `protocol: TCP` for container ports), as the real server
    /// defaults before computing managed fields.
    fn list_key_default(&self, _path: &[&str], _key: &str) -> Option<Value> {
        None
    }

    /// The strategic-merge-patch strategy for the list at `path`. The default derives it
    /// from [`Schema::list_type`] (single-key map lists merge by that key, sets take the
    /// union); built-in kinds override it with their Go struct tags.
    fn smp_list(&self, path: &[&str]) -> SmpList {
        match self.list_type(path) {
            ListType::Map(keys) if keys.len() == 1 => SmpList::Merge(keys.into_iter().next()),
            ListType::Set => SmpList::Merge(None),
            _ => SmpList::Replace,
        }
    }
}

/// A `Schema` with the object-metadata rules of every kind layered on top.
pub(super) struct Effective<'a>(pub(super) &'a dyn Schema);

/// The well-known list fields of `metadata`, if `path` is one of them.
fn meta_list(path: &[&str]) -> Option<(ListType, SmpList)> {
    match path {
        ["metadata", "ownerReferences"] => Some((
            ListType::Map(vec!["uid".to_owned()]),
            SmpList::Merge(Some("uid".to_owned())),
        )),
        ["metadata", "finalizers"] => Some((ListType::Set, SmpList::Merge(None))),
        ["metadata", "managedFields"] => Some((ListType::Atomic, SmpList::Replace)),
        _ => None,
    }
}

impl Effective<'_> {
    pub(super) fn list_type(&self, path: &[&str]) -> ListType {
        match meta_list(path) {
            Some((list, _)) => list,
            None => self.0.list_type(path),
        }
    }

    pub(super) fn smp_list(&self, path: &[&str]) -> SmpList {
        match meta_list(path) {
            Some((_, smp)) => smp,
            None => self.0.smp_list(path),
        }
    }

    pub(super) fn atomic_map(&self, path: &[&str]) -> bool {
        match path {
            ["metadata"] | ["metadata", "labels" | "annotations"] => false,
            _ => self.0.atomic_map(path),
        }
    }

    pub(super) fn free_form_map(&self, path: &[&str]) -> bool {
        match path {
            ["metadata", "labels" | "annotations"] => true,
            [] | ["metadata"] => false,
            _ => self.0.free_form_map(path),
        }
    }

    pub(super) fn list_key_default(&self, path: &[&str], key: &str) -> Option<Value> {
        self.0.list_key_default(path, key)
    }
}

/// Borrows a schema path kept as owned strings in the shape the trait takes.
pub(super) fn as_strs(path: &[String]) -> Vec<&str> {
    path.iter().map(String::as_str).collect()
}
