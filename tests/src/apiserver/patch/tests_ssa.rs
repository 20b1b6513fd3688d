//! Server-side apply and update bookkeeping, after the documented behaviour of the real
//! server (kubernetes.io, "Server-Side Apply").

use serde_json::{Value, json};

use super::{Apply, BuiltinSchema, PatchError, Schema, apply, record_update};

pub(super) const T1: &str = "2024-01-01T00:00:01Z";
pub(super) const T2: &str = "2024-01-01T00:00:02Z";
pub(super) const T3: &str = "2024-01-01T00:00:03Z";

pub(super) fn cm_schema() -> BuiltinSchema {
    BuiltinSchema::for_kind("ConfigMap").expect("configmap")
}

pub(super) fn cm(data: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm"}, "data": data})
}

pub(super) fn ssa(
    live: Option<&Value>,
    applied: &Value,
    manager: &str,
    force: bool,
    now: &str,
    schema: &dyn Schema,
) -> Result<Value, PatchError> {
    let req = Apply {
        live,
        applied,
        manager,
        force,
        subresource: None,
        api_version: "v1",
        now,
    };
    apply(&req, schema)
}

pub(super) fn managed(obj: &Value) -> Vec<Value> {
    obj.pointer("/metadata/managedFields")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

pub(super) fn entry<'a>(obj: &'a Value, manager: &str) -> Option<&'a Value> {
    obj.pointer("/metadata/managedFields")?
        .as_array()?
        .iter()
        .find(|e| e["manager"] == manager)
}

pub(super) fn without_managed(obj: &Value) -> Value {
    let mut out = obj.clone();
    if let Some(meta) = out.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.remove("managedFields");
    }
    out
}

#[test]
fn apply_creates_with_one_apply_entry() {
    let schema = BuiltinSchema::for_kind("Pod").expect("pod");
    let applied = json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "p", "labels": {"app": "web"}},
        "spec": {"containers": [{"name": "nginx", "image": "nginx:1",
            "ports": [{"containerPort": 80}]}]}});
    let out = ssa(None, &applied, "kubectl", false, T1, &schema).expect("applies");
    assert_eq!(without_managed(&out), applied);
    assert_eq!(
        managed(&out),
        vec![json!({
            "manager": "kubectl", "operation": "Apply", "apiVersion": "v1", "time": T1,
            "fieldsType": "FieldsV1",
            "fieldsV1": {
                "f:metadata": {"f:labels": {"f:app": {}}},
                "f:spec": {"f:containers": {"k:{\"name\":\"nginx\"}": {
                    ".": {}, "f:image": {}, "f:name": {},
                    "f:ports": {"k:{\"containerPort\":80,\"protocol\":\"TCP\"}": {
                        ".": {}, "f:containerPort": {}}}}}}
            }
        })]
    );
}

#[test]
fn reapply_without_a_field_removes_it() {
    let schema = cm_schema();
    let first = ssa(
        None,
        &cm(json!({"a": "1", "b": "2"})),
        "m",
        false,
        T1,
        &schema,
    )
    .expect("1");
    let second = ssa(
        Some(&first),
        &cm(json!({"a": "1"})),
        "m",
        false,
        T2,
        &schema,
    )
    .expect("2");
    assert_eq!(second["data"], json!({"a": "1"}));
    let e = entry(&second, "m").expect("entry");
    assert_eq!(e["fieldsV1"], json!({"f:data": {"f:a": {}}}));
    assert_eq!(e["time"], T2);
}

#[test]
fn same_value_is_shared_and_survives_one_manager_leaving() {
    let schema = cm_schema();
    let a = ssa(
        None,
        &cm(json!({"x": "1", "y": "1"})),
        "a",
        false,
        T1,
        &schema,
    )
    .expect("a");
    let b = ssa(Some(&a), &cm(json!({"x": "1"})), "b", false, T2, &schema).expect("no conflict");
    assert_eq!(without_managed(&b), without_managed(&a));
    let fields = |o: &Value, m: &str| entry(o, m).map(|e| e["fieldsV1"].clone());
    assert_eq!(
        fields(&b, "a"),
        Some(json!({"f:data": {"f:x": {}, "f:y": {}}}))
    );
    assert_eq!(fields(&b, "b"), Some(json!({"f:data": {"f:x": {}}})));
    // Nothing changed, so the real server records no time for the new entry.
    assert_eq!(entry(&b, "b").and_then(|e| e.get("time")), None);
    // `a` stops applying both fields: `x` is still owned by `b` and stays, `y` goes.
    let gone = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm"}});
    let c = ssa(Some(&b), &gone, "a", false, T3, &schema).expect("a leaves");
    assert_eq!(c["data"], json!({"x": "1"}));
    assert_eq!(entry(&c, "a"), None, "empty entries are dropped");
}

#[test]
fn different_value_conflicts_and_force_moves_ownership() {
    let schema = cm_schema();
    let a = ssa(
        None,
        &cm(json!({"x": "1", "y": "1"})),
        "a",
        false,
        T1,
        &schema,
    )
    .expect("a");
    let err = ssa(Some(&a), &cm(json!({"x": "2"})), "b", false, T2, &schema).expect_err("conflict");
    let PatchError::Conflict(conflicts) = &err else {
        panic!("expected a conflict, got {err:?}");
    };
    assert_eq!(conflicts.len(), 1);
    assert_eq!(
        (conflicts[0].manager.as_str(), conflicts[0].field.as_str()),
        ("a", ".data.x")
    );
    assert_eq!(
        err.to_string(),
        "Apply failed with 1 conflict: conflict with \"a\": .data.x"
    );
    assert_eq!(err.status_code(), 409);

    let forced = ssa(Some(&a), &cm(json!({"x": "2"})), "b", true, T2, &schema).expect("forced");
    assert_eq!(forced["data"], json!({"x": "2", "y": "1"}));
    let fields = |m: &str| entry(&forced, m).map(|e| e["fieldsV1"].clone());
    assert_eq!(fields("a"), Some(json!({"f:data": {"f:y": {}}})));
    assert_eq!(fields("b"), Some(json!({"f:data": {"f:x": {}}})));
}

#[test]
fn several_conflicts_are_grouped_by_manager() {
    let schema = cm_schema();
    let a = ssa(None, &cm(json!({"x": "1"})), "a", false, T1, &schema).expect("a");
    let b = ssa(Some(&a), &cm(json!({"y": "1"})), "b", false, T2, &schema).expect("b");
    let err = ssa(
        Some(&b),
        &cm(json!({"x": "2", "y": "2"})),
        "c",
        false,
        T3,
        &schema,
    )
    .expect_err("conflicts");
    assert_eq!(
        err.to_string(),
        "Apply failed with 2 conflicts: conflicts with \"a\":\n- .data.x\nconflicts with \"b\":\n- .data.y"
    );
}

#[test]
fn update_then_apply_conflicts_with_the_updater() {
    let schema = cm_schema();
    let created = ssa(None, &cm(json!({"x": "1"})), "ctrl", false, T1, &schema).expect("ctrl");
    let mut edited = created.clone();
    edited["data"]["x"] = json!("2");
    let edited = record_update(
        Some(&created),
        &edited,
        "kubectl-edit",
        None,
        "v1",
        T2,
        &schema,
    );
    let e = entry(&edited, "kubectl-edit").expect("updater entry");
    assert_eq!(e["operation"], "Update");
    assert_eq!(e["fieldsV1"], json!({"f:data": {"f:x": {}}}));
    assert_eq!(
        entry(&edited, "ctrl"),
        None,
        "the update took the only field of ctrl"
    );

    let err = ssa(
        Some(&edited),
        &cm(json!({"x": "1"})),
        "ctrl",
        false,
        T3,
        &schema,
    )
    .expect_err("conflict");
    assert_eq!(
        err.to_string(),
        format!(
            "Apply failed with 1 conflict: conflict with \"kubectl-edit\" using v1 at {T2}: .data.x"
        )
    );
    // Re-applying the updater's value is not a conflict: the value does not change.
    ssa(
        Some(&edited),
        &cm(json!({"x": "2"})),
        "ctrl",
        false,
        T3,
        &schema,
    )
    .expect("shared");
}

#[test]
fn update_on_create_owns_what_it_wrote() {
    let schema = BuiltinSchema::for_kind("Pod").expect("pod");
    let new = json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "p", "uid": "u", "labels": {"run": "p"}},
        "spec": {"containers": [{"name": "c", "image": "i", "resources": {}}],
            "restartPolicy": "Always"}});
    let out = record_update(None, &new, "kubectl-run", None, "v1", T1, &schema);
    assert_eq!(without_managed(&out), new);
    // The real server omits the `"."` under `f:containers` (that Go field has no
    // `omitempty`, so it exists in the zero object it compares against); see NOTES.md.
    assert_eq!(
        managed(&out),
        vec![
            json!({"manager": "kubectl-run", "operation": "Update", "apiVersion": "v1",
            "time": T1, "fieldsType": "FieldsV1", "fieldsV1": {
                "f:metadata": {"f:labels": {".": {}, "f:run": {}}},
                "f:spec": {
                    "f:containers": {".": {}, "k:{\"name\":\"c\"}": {
                        ".": {}, "f:image": {}, "f:name": {}, "f:resources": {}}},
                    "f:restartPolicy": {}}}})
        ]
    );
    // An update that changes nothing adds no entry and keeps the time.
    let same = record_update(
        Some(&out),
        &without_managed(&out),
        "other",
        None,
        "v1",
        T2,
        &schema,
    );
    assert_eq!(managed(&same), managed(&out));
    // `[{}]` resets ownership.
    let mut reset = without_managed(&out);
    reset["metadata"]["managedFields"] = json!([{}]);
    let reset = record_update(Some(&out), &reset, "x", None, "v1", T2, &schema);
    assert_eq!(managed(&reset), Vec::<Value>::new());
}

#[test]
fn objects_without_managed_fields_belong_to_before_first_apply() {
    let schema = cm_schema();
    let legacy = cm(json!({"x": "1"}));
    let err = ssa(
        Some(&legacy),
        &cm(json!({"x": "2"})),
        "a",
        false,
        T2,
        &schema,
    )
    .expect_err("conflict");
    assert_eq!(
        err.to_string(),
        format!(
            "Apply failed with 1 conflict: conflict with \"before-first-apply\" using v1 at {T2}: .data.x"
        )
    );
}

#[test]
fn invalid_apply_requests() {
    let schema = cm_schema();
    let mut body = cm(json!({}));
    body["metadata"]["managedFields"] = json!([]);
    assert_eq!(
        ssa(None, &body, "m", false, T1, &schema),
        Err(PatchError::BadRequest(
            "metadata.managedFields must be nil".into()
        ))
    );
    let err = ssa(None, &cm(json!({})), "", false, T1, &schema).expect_err("no manager");
    assert_eq!(err.status_code(), 422);
    let pod = BuiltinSchema::for_kind("Pod").expect("pod");
    let dup = json!({"spec": {"containers": [{"name": "a"}, {"name": "a"}]}});
    let err = ssa(None, &dup, "m", false, T1, &pod).expect_err("duplicate");
    assert_eq!(
        err.to_string(),
        "failed to create typed patch object: .spec.containers: duplicate entries for key [name=\"a\"]"
    );
}

#[test]
fn dropping_all_applied_metadata_keeps_server_metadata() {
    let schema = cm_schema();
    let mut labelled = cm(json!({"a": "1"}));
    labelled["metadata"]["labels"] = json!({"x": "1"});
    let mut live = ssa(None, &labelled, "m", false, T1, &schema).expect("first");
    live["metadata"]["uid"] = json!("u-1");
    let out = ssa(Some(&live), &cm(json!({"a": "1"})), "m", false, T2, &schema).expect("second");
    assert_eq!(out["metadata"]["name"], "cm");
    assert_eq!(out["metadata"]["uid"], "u-1");
    assert_eq!(
        out["metadata"].get("labels"),
        None,
        "the unowned label map goes"
    );
}
