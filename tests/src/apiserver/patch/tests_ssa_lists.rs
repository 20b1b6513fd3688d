//! Server-side apply of keyed lists, custom resources and the status subresource.

use serde_json::{Value, json};

use super::tests_ssa::{T1, T2, T3, entry, managed, ssa};
use super::{Apply, BuiltinSchema, CrdSchema, PatchError, apply};

fn crd_schema() -> CrdSchema {
    CrdSchema::from_openapi(&json!({"type": "object", "properties": {
        "spec": {"type": "object", "properties": {"size": {"type": "integer"}}},
        "status": {"type": "object", "properties": {"conditions": {
            "type": "array", "x-kubernetes-list-type": "map",
            "x-kubernetes-list-map-keys": ["type"],
            "items": {"type": "object", "properties": {
                "type": {"type": "string"}, "status": {"type": "string"}}}}}}}}))
}

fn status_apply(
    live: Option<&Value>,
    conditions: Value,
    manager: &str,
) -> Result<Value, PatchError> {
    let applied = json!({"apiVersion": "ex.io/v1", "kind": "Thing", "metadata": {"name": "t"},
        "status": {"conditions": conditions}});
    let req = Apply {
        live,
        applied: &applied,
        manager,
        force: false,
        subresource: Some("status"),
        api_version: "ex.io/v1",
        now: T2,
    };
    apply(&req, &crd_schema())
}

#[test]
fn map_list_items_are_owned_per_key_and_status_is_separate() {
    let schema = crd_schema();
    let thing = json!({"apiVersion": "ex.io/v1", "kind": "Thing", "metadata": {"name": "t"},
        "spec": {"size": 1}});
    let req = Apply {
        live: None,
        applied: &thing,
        manager: "ctrl",
        force: false,
        subresource: None,
        api_version: "ex.io/v1",
        now: T1,
    };
    let created = apply(&req, &schema).expect("created");
    let a = status_apply(
        Some(&created),
        json!([{"type": "Ready", "status": "True"}]),
        "ctrl",
    )
    .expect("ready");
    let b = status_apply(
        Some(&a),
        json!([{"type": "Synced", "status": "False"}]),
        "syncer",
    )
    .expect("synced");
    assert_eq!(
        b["status"]["conditions"],
        json!([
        {"type": "Ready", "status": "True"}, {"type": "Synced", "status": "False"}])
    );
    let entries = managed(&b);
    assert_eq!(entries.len(), 3, "{entries:#?}");
    let status_of = |m: &str| {
        entries
            .iter()
            .find(|e| e["manager"] == m && e["subresource"] == "status")
    };
    assert_eq!(
        status_of("ctrl").map(|e| e["fieldsV1"].clone()),
        Some(
            json!({"f:status": {"f:conditions": {"k:{\"type\":\"Ready\"}": {
            ".": {}, "f:status": {}, "f:type": {}}}}})
        )
    );
    let main = entries
        .iter()
        .find(|e| e["manager"] == "ctrl" && e.get("subresource").is_none());
    assert_eq!(
        main.map(|e| e["fieldsV1"].clone()),
        Some(json!({"f:spec": {"f:size": {}}}))
    );
    // Each manager changes its own condition freely; touching the other's conflicts.
    let c = status_apply(
        Some(&b),
        json!([{"type": "Ready", "status": "False"}]),
        "ctrl",
    )
    .expect("own condition");
    assert_eq!(
        c["status"]["conditions"][1],
        json!({"type": "Synced", "status": "False"})
    );
    let err = status_apply(
        Some(&c),
        json!([{"type": "Ready", "status": "True"}]),
        "syncer",
    )
    .expect_err("conflict");
    assert_eq!(
        err.to_string(),
        "Apply failed with 1 conflict: conflict with \"ctrl\" with subresource \"status\": \
         .status.conditions[type=\"Ready\"].status"
    );
    // Dropping an item the manager alone owned removes it.
    let d = status_apply(Some(&c), json!([]), "syncer").expect("syncer leaves");
    assert_eq!(
        d["status"]["conditions"],
        json!([{"type": "Ready", "status": "False"}])
    );
}

#[test]
fn removing_an_applied_list_item_keeps_items_others_own() {
    let schema = BuiltinSchema::for_kind("Pod").expect("pod");
    let spec = |names: &[&str]| {
        let containers: Vec<Value> = names
            .iter()
            .map(|n| json!({"name": n, "image": n}))
            .collect();
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
            "spec": {"containers": containers}})
    };
    let a = ssa(None, &spec(&["x", "y", "z"]), "a", false, T1, &schema).expect("a");
    let b = ssa(Some(&a), &spec(&["z"]), "b", false, T2, &schema).expect("b shares z");
    let c = ssa(Some(&b), &spec(&["x"]), "a", false, T3, &schema).expect("a drops y, z");
    let names: Vec<&Value> = c["spec"]["containers"]
        .as_array()
        .expect("list")
        .iter()
        .map(|c| &c["name"])
        .collect();
    assert_eq!(names, vec!["x", "z"]);
}

#[test]
fn preserve_unknown_fields_are_free_form() {
    let schema = CrdSchema::from_openapi(&json!({"type": "object", "properties": {
        "spec": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}));
    let applied = json!({"apiVersion": "ex.io/v1", "kind": "Thing", "metadata": {"name": "t"},
        "spec": {"a": {"b": 1}, "l": [1, 2]}});
    let req = Apply {
        live: None,
        applied: &applied,
        manager: "m",
        force: false,
        subresource: None,
        api_version: "ex.io/v1",
        now: T1,
    };
    let out = apply(&req, &schema).expect("applies");
    assert_eq!(
        entry(&out, "m").map(|e| e["fieldsV1"].clone()),
        Some(json!({"f:spec": {"f:a": {".": {}, "f:b": {}}, "f:l": {}}}))
    );
}
