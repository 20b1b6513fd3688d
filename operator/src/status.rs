//! Building status: conditions that keep their transition times, and the merge patch that
//! carries only what changed (so a status write always changes something, and the reconciler
//! is never fed by its own no-op writes).

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use serde_json::{Map, Value};

/// Now, to the second (as Kubernetes writes times).
pub fn now() -> Time {
    let t = jiff::Timestamp::now();
    Time(jiff::Timestamp::from_second(t.as_second()).unwrap_or(t))
}

/// A condition to set.
#[derive(Debug, Clone, Copy)]
pub struct Cond<'a> {
    /// The type ([`img_crd::conditions::types`]).
    pub type_: &'a str,
    /// True or False.
    pub status: bool,
    /// The reason ([`img_crd::conditions::reasons`]).
    pub reason: &'a str,
    /// The message.
    pub message: &'a str,
}

/// Sets `cond` in `conditions`, keeping `lastTransitionTime` when the status did not change.
pub fn set_condition(
    conditions: &mut Vec<Condition>,
    cond: Cond<'_>,
    generation: Option<i64>,
    now: &Time,
) {
    let status = if cond.status { "True" } else { "False" };
    let transition = conditions
        .iter()
        .find(|c| c.type_ == cond.type_)
        .filter(|c| c.status == status)
        .map_or_else(|| now.clone(), |c| c.last_transition_time.clone());
    let new = Condition {
        type_: cond.type_.to_owned(),
        status: status.to_owned(),
        reason: cond.reason.to_owned(),
        message: cond.message.to_owned(),
        observed_generation: generation,
        last_transition_time: transition,
    };
    match conditions.iter_mut().find(|c| c.type_ == cond.type_) {
        Some(slot) => *slot = new,
        None => conditions.push(new),
    }
}

/// Whether condition `type_` is True.
pub fn is_true(conditions: &[Condition], type_: &str) -> bool {
    conditions
        .iter()
        .any(|c| c.type_ == type_ && c.status == "True")
}

/// The JSON merge patch (RFC 7386) that turns `old` into `new`, or `None` when they are equal.
/// Removed keys become `null`; arrays are replaced whole, as merge patches do.
pub fn merge_diff(old: &Value, new: &Value) -> Option<Value> {
    if old == new {
        return None;
    }
    let (Value::Object(old), Value::Object(new)) = (old, new) else {
        return Some(new.clone());
    };
    let mut patch = Map::new();
    for (key, old_value) in old {
        match new.get(key) {
            None => {
                patch.insert(key.clone(), Value::Null);
            }
            Some(new_value) => {
                if let Some(p) = merge_diff(old_value, new_value) {
                    patch.insert(key.clone(), p);
                }
            }
        }
    }
    for (key, new_value) in new {
        if !old.contains_key(key) {
            patch.insert(key.clone(), new_value.clone());
        }
    }
    Some(Value::Object(patch))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_diff_carries_only_changes() {
        let old = json!({"phase": "Queued", "queuePosition": 3, "conditions": [{"type": "A"}], "x": {"a": 1, "b": 2}});
        let new = json!({"phase": "Running", "conditions": [{"type": "A"}], "x": {"a": 1, "b": 3}, "startTime": "t"});
        assert_eq!(
            merge_diff(&old, &new).unwrap(),
            json!({"phase": "Running", "queuePosition": null, "x": {"b": 3}, "startTime": "t"})
        );
        assert_eq!(merge_diff(&new, &new), None);
        // Applying the patch gives `new` back.
        let mut patched = old.clone();
        json_merge(&mut patched, &merge_diff(&old, &new).unwrap());
        assert_eq!(patched, new);
    }

    fn json_merge(target: &mut Value, patch: &Value) {
        let Value::Object(p) = patch else {
            *target = patch.clone();
            return;
        };
        if !target.is_object() {
            *target = json!({});
        }
        if let Value::Object(t) = target {
            for (k, v) in p {
                if v.is_null() {
                    t.remove(k);
                } else {
                    json_merge(t.entry(k.clone()).or_insert(Value::Null), v);
                }
            }
        }
    }

    #[test]
    fn conditions_keep_their_transition_time_until_the_status_flips() {
        let t1 = Time(jiff::Timestamp::from_second(1000).unwrap());
        let t2 = Time(jiff::Timestamp::from_second(2000).unwrap());
        let mut conds = Vec::new();
        let accepted = |status, reason| Cond {
            type_: "Accepted",
            status,
            reason,
            message: "",
        };
        set_condition(&mut conds, accepted(true, "Valid"), Some(1), &t1);
        set_condition(&mut conds, accepted(true, "Valid"), Some(2), &t2);
        assert_eq!(conds.len(), 1);
        assert_eq!(conds[0].last_transition_time, t1);
        assert_eq!(conds[0].observed_generation, Some(2));
        set_condition(
            &mut conds,
            accepted(false, "InvalidKickstart"),
            Some(3),
            &t2,
        );
        assert_eq!(conds[0].last_transition_time, t2);
        assert!(!is_true(&conds, "Accepted"));
    }
}
