//! Field-level comparison of two objects (structured-merge-diff's `TypedValue.Compare`):
//! which fields a write added, removed or modified.

use std::collections::BTreeMap;

use serde_json::Value;

use super::fieldpath::{FieldSet, Path, PathElement};
use super::schema::{Effective, ListType, as_strs};
use super::typed::{item_element, schema_path};

/// The difference between two objects. A path appears in at most one of the sets.
#[derive(Debug, Default)]
pub(super) struct Comparison {
    /// Present in the new object only: leaves, and every node (map, list, list item) that
    /// did not exist before, together with everything below it.
    pub(super) added: FieldSet,
    /// Present in the old object only.
    pub(super) removed: FieldSet,
    /// Leaves (scalars, atomic values, empty maps and lists) present in both with
    /// different values.
    pub(super) modified: FieldSet,
}

/// Compares `old` with `new` under `schema`.
pub(super) fn compare(
    schema: &Effective<'_>,
    old: &Value,
    new: &Value,
) -> Result<Comparison, String> {
    let mut out = Comparison::default();
    Walker {
        schema,
        out: &mut out,
    }
    .cmp(Some(old), Some(new), &mut Vec::new())?;
    Ok(out)
}

struct Walker<'s, 'a> {
    schema: &'s Effective<'a>,
    out: &'s mut Comparison,
}

fn is_empty(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => true,
        Some(Value::Object(m)) => m.is_empty(),
        Some(Value::Array(a)) => a.is_empty(),
        Some(_) => false,
    }
}

impl Walker<'_, '_> {
    fn cmp(&mut self, l: Option<&Value>, r: Option<&Value>, path: &mut Path) -> Result<(), String> {
        let both = |f: fn(&Value) -> bool| l.is_none_or(f) && r.is_none_or(f);
        if both(Value::is_object) {
            self.maps(l, r, path)
        } else if both(Value::is_array) {
            self.lists(l, r, path)
        } else if l.is_some() && r.is_some() && !(both(is_scalar)) {
            // The value changed shape (say a map became a string): the old content is
            // gone, the new content is new, and the field itself was modified.
            self.cmp(l, None, path)?;
            self.cmp(None, r, path)?;
            self.out.added.remove(path);
            self.out.removed.remove(path);
            self.out.modified.insert(path.clone());
            Ok(())
        } else {
            self.leaf(l, r, path);
            Ok(())
        }
    }

    fn leaf(&mut self, l: Option<&Value>, r: Option<&Value>, path: &Path) {
        match (l, r) {
            (None, Some(_)) => {
                self.out.added.insert(path.clone());
            }
            (Some(_), None) => {
                self.out.removed.insert(path.clone());
            }
            (Some(a), Some(b)) if a != b => {
                self.out.modified.insert(path.clone());
            }
            _ => {}
        }
    }

    /// Records a node that exists on one side only (after its children were visited).
    fn node(&mut self, l: bool, r: bool, path: &Path) {
        if !path.is_empty() && l != r {
            let set = if r {
                &mut self.out.added
            } else {
                &mut self.out.removed
            };
            set.insert(path.clone());
        }
    }

    fn maps(
        &mut self,
        lv: Option<&Value>,
        rv: Option<&Value>,
        path: &mut Path,
    ) -> Result<(), String> {
        let spath = schema_path(path);
        let atomic = !path.is_empty() && self.schema.atomic_map(&as_strs(&spath));
        if atomic || (is_empty(lv) && is_empty(rv)) {
            self.leaf(lv, rv, path);
            return Ok(());
        }
        let (l, r) = (lv.and_then(Value::as_object), rv.and_then(Value::as_object));
        let mut keys: Vec<&String> = l.iter().chain(r.iter()).flat_map(|m| m.keys()).collect();
        keys.sort();
        keys.dedup();
        for key in keys {
            path.push(PathElement::Field(key.clone()));
            self.cmp(l.and_then(|m| m.get(key)), r.and_then(|m| m.get(key)), path)?;
            path.pop();
        }
        self.node(l.is_some(), r.is_some(), path);
        Ok(())
    }

    fn lists(
        &mut self,
        lv: Option<&Value>,
        rv: Option<&Value>,
        path: &mut Path,
    ) -> Result<(), String> {
        let spath = schema_path(path);
        let list = self.schema.list_type(&as_strs(&spath));
        if list == ListType::Atomic || (is_empty(lv) && is_empty(rv)) {
            self.leaf(lv, rv, path);
            return Ok(());
        }
        let (l, r) = (lv.and_then(Value::as_array), rv.and_then(Value::as_array));
        let (left, right) = (self.group(&spath, &list, l)?, self.group(&spath, &list, r)?);
        let mut pes: Vec<&PathElement> = left.keys().chain(right.keys()).collect();
        pes.sort();
        pes.dedup();
        for pe in pes {
            let ls = left.get(pe).map(Vec::as_slice).unwrap_or_default();
            let rs = right.get(pe).map(Vec::as_slice).unwrap_or_default();
            path.push(pe.clone());
            match (ls.len(), rs.len()) {
                (0 | 1, 0 | 1) => self.cmp(ls.first().copied(), rs.first().copied(), path)?,
                // Duplicated keys are compared as one atomic value.
                (2.., 2..) => {
                    if ls != rs {
                        self.out.modified.insert(path.clone());
                    }
                }
                (2.., _) => {
                    if let Some(only) = rs.first() {
                        self.cmp(None, Some(only), path)?;
                    }
                    self.out.added.remove(path);
                    self.out.removed.insert(path.clone());
                }
                (_, _) => {
                    if let Some(only) = ls.first() {
                        self.cmp(Some(only), None, path)?;
                    }
                    self.out.removed.remove(path);
                    self.out.added.insert(path.clone());
                }
            }
            path.pop();
        }
        self.node(l.is_some(), r.is_some(), path);
        Ok(())
    }
}

impl Walker<'_, '_> {
    /// The items of a keyed list by path element (several items for duplicated keys).
    fn group<'v>(
        &self,
        spath: &[String],
        list: &ListType,
        items: Option<&'v Vec<Value>>,
    ) -> Result<BTreeMap<PathElement, Vec<&'v Value>>, String> {
        let mut out: BTreeMap<PathElement, Vec<&'v Value>> = BTreeMap::new();
        for (i, item) in items.into_iter().flatten().enumerate() {
            out.entry(item_element(self.schema, spath, list, item, i)?)
                .or_default()
                .push(item);
        }
        Ok(out)
    }
}

fn is_scalar(v: &Value) -> bool {
    !v.is_object() && !v.is_array()
}
