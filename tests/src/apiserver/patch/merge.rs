//! The object merge of server-side apply: the live object with the applied configuration
//! laid over it (structured-merge-diff's `TypedValue.Merge`).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use super::fieldpath::{PathElement, display_path};
use super::schema::{Effective, ListType, as_strs};
use super::typed::item_element;

/// Merges `config` over `live`: maps recursively (atomic maps replaced), atomic lists
/// replaced, map lists merged by key, sets unioned, scalars replaced. A `null` in the
/// configuration removes the field: the typed round trip of the real server drops nulls.
pub(super) fn merge(
    schema: &Effective<'_>,
    live: &Value,
    config: &Value,
    spath: &mut Vec<String>,
) -> Result<Value, String> {
    match (live, config) {
        (Value::Object(l), Value::Object(c)) if !schema.atomic_map(&as_strs(spath)) => {
            let mut out = l.clone();
            for (key, cv) in c {
                if cv.is_null() {
                    out.remove(key);
                    continue;
                }
                spath.push(key.clone());
                let merged = match l.get(key) {
                    Some(lv) => merge(schema, lv, cv, spath),
                    None => Ok(without_nulls(cv)),
                };
                spath.pop();
                out.insert(key.clone(), merged?);
            }
            Ok(Value::Object(out))
        }
        (Value::Array(l), Value::Array(c)) => {
            let list = schema.list_type(&as_strs(spath));
            if list == ListType::Atomic {
                return Ok(without_nulls(config));
            }
            merge_lists(schema, l, c, &list, spath).map(Value::Array)
        }
        _ => Ok(without_nulls(config)),
    }
}

/// A configuration value with its `null` fields dropped (list items stay as they are).
fn without_nulls(v: &Value) -> Value {
    match v {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), without_nulls(v)))
                .collect::<Map<String, Value>>(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(without_nulls).collect()),
        other => other.clone(),
    }
}

/// Merges two keyed lists. Items only in `live` keep their place; items in `config` come
/// in the configuration's order, with live-only items interleaved where they were.
fn merge_lists(
    schema: &Effective<'_>,
    live: &[Value],
    config: &[Value],
    list: &ListType,
    spath: &mut Vec<String>,
) -> Result<Vec<Value>, String> {
    let elements = |items: &[Value]| -> Result<Vec<PathElement>, String> {
        items
            .iter()
            .enumerate()
            .map(|(i, item)| item_element(schema, spath, list, item, i))
            .collect()
    };
    let lpes = elements(live)?;
    let rpes = elements(config)?;
    let mut live_at: BTreeMap<&PathElement, Vec<usize>> = BTreeMap::new();
    for (i, pe) in lpes.iter().enumerate() {
        live_at.entry(pe).or_default().push(i);
    }
    let mut config_at: BTreeMap<&PathElement, usize> = BTreeMap::new();
    for (i, pe) in rpes.iter().enumerate() {
        if config_at.insert(pe, i).is_some() {
            return Err(format!(
                "duplicate entries for key {}",
                display_path(std::slice::from_ref(pe))
            ));
        }
    }
    // A duplicated live item cannot be matched: the configured item replaces them all.
    let live_item = |pe: &PathElement| match live_at.get(pe).map(Vec::as_slice) {
        Some([only]) => Some(&live[*only]),
        _ => None,
    };
    let mut shared = rpes.iter().filter(|pe| live_at.contains_key(pe));
    let mut next_shared = shared.next();
    let mut merged_config: BTreeSet<&PathElement> = BTreeSet::new();
    let mut out = Vec::with_capacity(live.len().max(config.len()));
    let (mut li, mut ri) = (0, 0);
    while li < live.len() || ri < config.len() {
        if li < live.len() && ri < config.len() {
            if lpes[li] == rpes[ri] {
                merged_config.insert(&rpes[ri]);
                out.push(merge_item(
                    schema,
                    live_item(&rpes[ri]),
                    &config[ri],
                    spath,
                )?);
                li += 1;
                ri += 1;
                next_shared = shared.next();
                continue;
            }
            if config_at.contains_key(&lpes[li]) && next_shared != Some(&lpes[li]) {
                li += 1;
                continue;
            }
        }
        if li < live.len() {
            if !config_at.contains_key(&lpes[li]) {
                out.push(live[li].clone());
                li += 1;
                continue;
            }
            if merged_config.contains(&lpes[li]) {
                li += 1;
                continue;
            }
        }
        if ri < config.len() {
            let pe = &rpes[ri];
            merged_config.insert(pe);
            out.push(merge_item(schema, live_item(pe), &config[ri], spath)?);
            ri += 1;
            if next_shared == Some(pe) {
                next_shared = shared.next();
            }
        }
    }
    Ok(out)
}

fn merge_item(
    schema: &Effective<'_>,
    live: Option<&Value>,
    config: &Value,
    spath: &mut Vec<String>,
) -> Result<Value, String> {
    match live {
        Some(l) => merge(schema, l, config, spath),
        None => Ok(without_nulls(config)),
    }
}
