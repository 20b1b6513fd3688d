//! Strategic merge patch cases, taken from apimachinery's documented behaviour.

use serde_json::{Value, json};

use super::{BuiltinSchema, PatchError, strategic_merge, strategic_merge_report};

fn pod(spec: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": spec})
}

fn smp(kind: &str, original: &Value, patch: &Value) -> Result<Value, PatchError> {
    let schema = BuiltinSchema::for_kind(kind).expect("known kind");
    strategic_merge(original, patch, &schema)
}

struct Case {
    name: &'static str,
    original: Value,
    patch: Value,
    expected: Value,
}

fn cases() -> Vec<Case> {
    let two = pod(json!({"containers": [
        {"name": "a", "image": "a:1", "env": [{"name": "X", "value": "1"}, {"name": "Y", "value": "2"}]},
        {"name": "b", "image": "b:1"}
    ]}));
    vec![
        Case {
            name: "containers merge by name, env merges by name",
            original: two.clone(),
            patch: json!({"spec": {"containers": [{"name": "a", "image": "a:2",
                "env": [{"name": "Y", "value": "3"}, {"name": "Z", "value": "4"}]}]}}),
            expected: pod(json!({"containers": [
                {"name": "a", "image": "a:2", "env": [
                    {"name": "X", "value": "1"}, {"name": "Y", "value": "3"}, {"name": "Z", "value": "4"}]},
                {"name": "b", "image": "b:1"}
            ]})),
        },
        Case {
            name: "$patch: delete removes a container",
            original: two.clone(),
            patch: json!({"spec": {"containers": [{"name": "b", "$patch": "delete"}]}}),
            expected: pod(json!({"containers": [{"name": "a", "image": "a:1",
                "env": [{"name": "X", "value": "1"}, {"name": "Y", "value": "2"}]}]})),
        },
        Case {
            name: "$patch: replace on a list keeps only the patch items",
            original: two.clone(),
            patch: json!({"spec": {"containers": [{"name": "c", "image": "c:1"}, {"$patch": "replace"}]}}),
            expected: pod(json!({"containers": [{"name": "c", "image": "c:1"}]})),
        },
        Case {
            name: "$patch: replace on a map",
            original: json!({"metadata": {"name": "p", "labels": {"a": "1", "b": "2"}}}),
            patch: json!({"metadata": {"labels": {"$patch": "replace", "c": "3"}}}),
            expected: json!({"metadata": {"name": "p", "labels": {"c": "3"}}}),
        },
        Case {
            name: "$patch: delete on an existing map leaves it empty",
            original: json!({"metadata": {"name": "p", "labels": {"a": "1"}}}),
            patch: json!({"metadata": {"labels": {"$patch": "delete"}}}),
            expected: json!({"metadata": {"name": "p", "labels": {}}}),
        },
        Case {
            name: "a new map carrying $patch is dropped entirely",
            original: json!({"metadata": {"name": "p"}}),
            patch: json!({"metadata": {"labels": {"$patch": "replace", "c": "3"}}}),
            expected: json!({"metadata": {"name": "p"}}),
        },
        Case {
            name: "$retainKeys clears unlisted keys of a volume",
            original: pod(json!({"volumes": [{"name": "v", "emptyDir": {}}]})),
            patch: json!({"spec": {"volumes": [{"name": "v", "hostPath": {"path": "/x"},
                "$retainKeys": ["hostPath", "name"]}]}}),
            expected: pod(json!({"volumes": [{"name": "v", "hostPath": {"path": "/x"}}]})),
        },
        Case {
            name: "$deleteFromPrimitiveList/finalizers",
            original: json!({"metadata": {"name": "p", "finalizers": ["a", "b", "c"]}}),
            patch: json!({"metadata": {"$deleteFromPrimitiveList/finalizers": ["b"]}}),
            expected: json!({"metadata": {"name": "p", "finalizers": ["a", "c"]}}),
        },
        Case {
            name: "$setElementOrder/containers orders the merged list",
            original: pod(json!({"containers": [{"name": "a"}, {"name": "b"}]})),
            patch: json!({"spec": {
                "$setElementOrder/containers": [{"name": "b"}, {"name": "a"}, {"name": "c"}],
                "containers": [{"name": "c", "image": "c:1"}]}}),
            expected: pod(
                json!({"containers": [{"name": "b"}, {"name": "a"}, {"name": "c", "image": "c:1"}]}),
            ),
        },
        Case {
            name: "without $setElementOrder new items come first (apimachinery ordering)",
            original: pod(json!({"containers": [{"name": "a"}, {"name": "b"}]})),
            patch: json!({"spec": {"containers": [{"name": "c"}]}}),
            expected: pod(json!({"containers": [{"name": "c"}, {"name": "a"}, {"name": "b"}]})),
        },
        Case {
            name: "kubectl client-side apply removing a container",
            original: pod(
                json!({"containers": [{"name": "a", "image": "a"}, {"name": "b", "image": "b"}]}),
            ),
            patch: json!({"spec": {"$setElementOrder/containers": [{"name": "a"}],
                "containers": [{"$patch": "delete", "name": "b"}]}}),
            expected: pod(json!({"containers": [{"name": "a", "image": "a"}]})),
        },
        Case {
            name: "null deletes a label",
            original: json!({"metadata": {"name": "p", "labels": {"a": "1", "b": "2"}}}),
            patch: json!({"metadata": {"labels": {"a": null}}}),
            expected: json!({"metadata": {"name": "p", "labels": {"b": "2"}}}),
        },
        Case {
            name: "nulls inside a new map are discarded",
            original: json!({"metadata": {"name": "p"}}),
            patch: json!({"metadata": {"annotations": {"a": null, "b": "x"}}}),
            expected: json!({"metadata": {"name": "p", "annotations": {"b": "x"}}}),
        },
        Case {
            name: "ownerReferences merge by uid",
            original: json!({"metadata": {"name": "p", "ownerReferences": [
                {"uid": "u1", "name": "x", "kind": "K", "apiVersion": "v1"}]}}),
            patch: json!({"metadata": {"ownerReferences": [
                {"uid": "u1", "controller": true},
                {"uid": "u2", "name": "y", "kind": "K", "apiVersion": "v1"}]}}),
            expected: json!({"metadata": {"name": "p", "ownerReferences": [
                {"uid": "u1", "name": "x", "kind": "K", "apiVersion": "v1", "controller": true},
                {"uid": "u2", "name": "y", "kind": "K", "apiVersion": "v1"}]}}),
        },
        Case {
            name: "finalizers take the union",
            original: json!({"metadata": {"name": "p", "finalizers": ["a", "b"]}}),
            patch: json!({"metadata": {"finalizers": ["b", "c"]}}),
            expected: json!({"metadata": {"name": "p", "finalizers": ["a", "b", "c"]}}),
        },
        Case {
            name: "atomic lists (tolerations, args) are replaced",
            original: pod(json!({"tolerations": [{"key": "a"}],
                "containers": [{"name": "a", "args": ["x", "y"]}]})),
            patch: json!({"spec": {"tolerations": [{"key": "b"}],
                "containers": [{"name": "a", "args": ["z"]}]}}),
            expected: pod(json!({"tolerations": [{"key": "b"}],
                "containers": [{"name": "a", "args": ["z"]}]})),
        },
        Case {
            name: "service ports merge on port alone under SMP",
            original: json!({"spec": {"ports": [{"port": 80, "protocol": "TCP", "name": "http"}]}}),
            patch: json!({"spec": {"ports": [{"port": 80, "protocol": "UDP"}]}}),
            expected: json!({"spec": {"ports": [{"port": 80, "protocol": "UDP", "name": "http"}]}}),
        },
    ]
}

#[test]
fn documented_behaviour() {
    for case in cases() {
        let kind = if case.name.starts_with("service") {
            "Service"
        } else {
            "Pod"
        };
        let got = smp(kind, &case.original, &case.patch)
            .unwrap_or_else(|e| panic!("{}: unexpected error {e}", case.name));
        assert_eq!(got, case.expected, "{}", case.name);
    }
}

#[test]
fn malformed_directives_fail_with_the_real_messages() {
    let labelled = json!({"metadata": {"name": "p", "labels": {"a": "1"}, "finalizers": []}});
    let two = pod(json!({"containers": [{"name": "a"}, {"name": "b"}]}));
    let table: Vec<(Value, Value, PatchError)> = vec![
        (
            labelled.clone(),
            json!({"metadata": {"labels": {"$patch": "bogus", "x": "y"}}}),
            PatchError::Internal("unknown patch type: bogus in map: map[$patch:bogus x:y]".into()),
        ),
        (
            two.clone(),
            json!({"spec": {"containers": [{"name": "a", "$patch": "bogus"}]}}),
            PatchError::Internal("unknown patch type: bogus in map: map[$patch:bogus name:a]".into()),
        ),
        (
            two.clone(),
            json!({"spec": {"containers": [{"$patch": "merge"}]}}),
            PatchError::Internal("merging lists cannot yet be specified in the patch".into()),
        ),
        (
            two.clone(),
            json!({"spec": {"$setElementOrder/containers": "a"}}),
            PatchError::Internal("expected a []interface {}, but received a string".into()),
        ),
        (
            two.clone(),
            json!({"spec": {"$setElementOrder": []}}),
            PatchError::BadRequest("invalid patch format of setElementOrder list".into()),
        ),
        (
            two.clone(),
            json!({"spec": {"$setElementOrder/containers": [{"name": "a"}],
                "containers": [{"name": "b"}]}}),
            PatchError::Internal(
                "the order in patch list:\n[map[name:b]]\n doesn't match $setElementOrder list:\n[map[name:a]]"
                    .into(),
            ),
        ),
        (
            labelled.clone(),
            json!({"metadata": {"$deleteFromPrimitiveListfinalizers": ["a"]}}),
            PatchError::BadRequest("invalid patch format of primitive list".into()),
        ),
        (
            labelled.clone(),
            json!({"metadata": {"$retainKeys": "labels"}}),
            PatchError::BadRequest("invalid patch format of retainKeys".into()),
        ),
        (
            labelled.clone(),
            json!({"metadata": {"$retainKeys": ["name"], "labels": {"b": "2"}}}),
            PatchError::BadRequest("invalid patch format of retainKeys".into()),
        ),
        (
            two.clone(),
            json!({"spec": {"containers": [{"image": "x"}]}}),
            PatchError::Internal("map: map[image:x] does not contain declared merge key: name".into()),
        ),
        (
            labelled.clone(),
            json!({"metadata": {"finalizers": [["a"]]}}),
            PatchError::Invalid("lists of lists are not supported".into()),
        ),
        (
            json!({"metadata": {"finalizers": ["a"]}}),
            json!({"metadata": {"finalizers": [1]}}),
            PatchError::Internal("list element types are not identical: [[a] [1]]".into()),
        ),
        (
            labelled.clone(),
            json!(["not", "an", "object"]),
            PatchError::BadRequest(
                "json: cannot unmarshal array into Go value of type map[string]interface {}".into(),
            ),
        ),
    ];
    for (original, patch, expected) in table {
        let got = smp("Pod", &original, &patch);
        assert_eq!(got.as_ref().err(), Some(&expected), "patch {patch}");
        let status = expected.status_code();
        assert!(matches!(status, 400 | 422 | 500), "{status}");
    }
}

#[test]
fn no_directive_survives_and_leftovers_are_reported() {
    let schema = BuiltinSchema::for_kind("Pod").expect("pod");
    let original = pod(json!({"tolerations": [{"key": "a"}]}));
    // `tolerations` has no merge strategy: apimachinery copies the list verbatim and the
    // typed decoding drops `$patch`, keeping the item.
    let patch = json!({"spec": {"tolerations": [{"key": "b", "$patch": "delete"}],
        "containers": [{"name": "n", "env": [{"name": "E", "$retainKeys": ["name"]}]}]}});
    let out = strategic_merge_report(&original, &patch, &schema).expect("merges");
    assert_eq!(
        out.object,
        pod(
            json!({"tolerations": [{"key": "b"}], "containers": [{"name": "n", "env": [{"name": "E"}]}]})
        )
    );
    assert_eq!(
        out.unknown_fields,
        vec![
            "spec.containers[0].env[0].$retainKeys",
            "spec.tolerations[0].$patch"
        ]
    );
    let strict = out.strict_error(&patch).expect("strict mode rejects");
    assert_eq!(strict.status_code(), 422);
    assert!(strict.to_string().contains(
        "strict decoding error: unknown field \"spec.containers[0].env[0].$retainKeys\", unknown field \"spec.tolerations[0].$patch\""
    ));
    assert!(!out.object.to_string().contains('$'));
}

#[test]
fn delete_list_null_removes_list_and_null_patch_is_noop() {
    let original = json!({"metadata": {"name": "p", "finalizers": ["a"]}});
    let got = smp(
        "Pod",
        &original,
        &json!({"metadata": {"$deleteFromPrimitiveList/finalizers": null}}),
    );
    assert_eq!(got, Ok(json!({"metadata": {"name": "p"}})));
    assert_eq!(smp("Pod", &original, &Value::Null), Ok(original.clone()));
}
