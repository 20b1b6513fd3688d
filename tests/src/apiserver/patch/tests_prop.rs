//! Property tests: applying the same configuration twice changes nothing, and so does
//! applying the same strategic merge patch twice.

use proptest::prelude::*;
use serde_json::{Map, Value, json};

use super::{Apply, BuiltinSchema, apply, strategic_merge};

/// A pod configuration with labels, finalizers and containers with env.
fn pod_config() -> impl Strategy<Value = Value> {
    let labels = prop::collection::btree_map("[a-c]", "[x-z]{1,2}", 0..3);
    let finalizers = prop::sample::subsequence(vec!["f/1", "f/2", "f/3"], 0..3);
    let env =
        prop::collection::btree_map(prop::sample::select(vec!["E1", "E2", "E3"]), "[0-9]", 0..3);
    let container = ("[a-c]{1,3}", env);
    let containers =
        prop::collection::btree_map(prop::sample::select(vec!["a", "b", "c"]), container, 1..3);
    (labels, finalizers, containers).prop_map(|(labels, finalizers, containers)| {
        let containers: Vec<Value> = containers
            .into_iter()
            .map(|(name, (image, env))| {
                let env: Vec<Value> = env.into_iter().map(|(n, v)| json!({"name": n, "value": v})).collect();
                let mut c = json!({"name": name, "image": image});
                if !env.is_empty() {
                    c["env"] = Value::Array(env);
                }
                c
            })
            .collect();
        let mut metadata = json!({"name": "p", "labels": labels});
        if !finalizers.is_empty() {
            metadata["finalizers"] = json!(finalizers);
        }
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": {"containers": containers}})
    })
}

fn run(
    live: Option<&Value>,
    applied: &Value,
    manager: &str,
    force: bool,
    now: &str,
) -> Result<Value, String> {
    let schema = BuiltinSchema::for_kind("Pod").ok_or("no pod schema")?;
    let req = Apply {
        live,
        applied,
        manager,
        force,
        subresource: None,
        api_version: "v1",
        now,
    };
    apply(&req, &schema).map_err(|e| e.to_string())
}

/// The object with the `time` of every managedFields entry removed.
fn timeless(obj: &Value) -> Value {
    let mut out = obj.clone();
    if let Some(Value::Array(entries)) = out.pointer_mut("/metadata/managedFields") {
        for e in entries.iter_mut().filter_map(Value::as_object_mut) {
            e.remove("time");
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn applying_the_same_config_twice_is_idempotent(
        other in proptest::option::of(pod_config()),
        mine in pod_config(),
    ) {
        let before = match &other {
            Some(o) => Some(run(None, o, "other", false, "2024-01-01T00:00:00Z").map_err(TestCaseError::fail)?),
            None => None,
        };
        let once = run(before.as_ref(), &mine, "me", true, "2024-01-01T00:00:01Z")
            .map_err(TestCaseError::fail)?;
        let twice = run(Some(&once), &mine, "me", false, "2024-01-01T00:00:02Z")
            .map_err(TestCaseError::fail)?;
        prop_assert_eq!(timeless(&once), timeless(&twice));
        // Everything `mine` sets is in the result.
        for c in mine["spec"]["containers"].as_array().into_iter().flatten() {
            let found = once["spec"]["containers"].as_array().into_iter().flatten()
                .any(|l| l["name"] == c["name"] && l["image"] == c["image"]);
            prop_assert!(found, "container {} missing", c);
        }
        prop_assert!(once.pointer("/metadata/managedFields").is_some());
    }

    #[test]
    fn applying_the_same_strategic_patch_twice_is_idempotent(
        original in pod_config(),
        patch in pod_config(),
    ) {
        let schema = BuiltinSchema::for_kind("Pod").ok_or_else(|| TestCaseError::fail("schema"))?;
        let mut patch = patch;
        if let Some(meta) = patch.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.remove("name");
        }
        let once = strategic_merge(&original, &patch, &schema).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let twice = strategic_merge(&once, &patch, &schema).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(&once, &twice);
        let empty = strategic_merge(&once, &Value::Object(Map::new()), &schema)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(&once, &empty);
    }
}
