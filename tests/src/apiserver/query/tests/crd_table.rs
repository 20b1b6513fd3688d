use super::super::{IncludeObject, TableMeta, crd_column, crd_columns, table};
use jiff::Timestamp;
use serde_json::{Value, json};

const NAME_DESC: &str = "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names";
const CREATED_DESC: &str = "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata";

fn now() -> Timestamp {
    "2024-05-01T12:00:00Z".parse().expect("valid")
}

fn crd(columns: Value) -> Value {
    json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {
            "group": "example.com",
            "names": {"kind": "Widget", "plural": "widgets"},
            "scope": "Namespaced",
            "versions": [
                {"name": "v1alpha1", "served": true, "storage": false},
                {"name": "v1", "served": true, "storage": true, "additionalPrinterColumns": columns},
            ],
        },
    })
}

fn widget_1() -> Value {
    json!({
        "apiVersion": "example.com/v1",
        "kind": "Widget",
        "metadata": {
            "name": "w1", "namespace": "default", "uid": "u-1", "resourceVersion": "40",
            "generation": 1, "creationTimestamp": "2024-05-01T10:00:00Z",
            "labels": {"app": "demo"}, "annotations": {},
        },
        "spec": {"replicas": 3, "paused": false, "hosts": ["a.example.com", "b.example.com"]},
        "status": {
            "phase": "Ready", "ratio": 0.5, "lastSync": "2024-05-01T11:59:15Z",
            "conditions": [{"type": "Synced", "status": "True"}, {"type": "Ready", "status": "False"}],
        },
    })
}

fn widget_2() -> Value {
    json!({
        "apiVersion": "example.com/v1",
        "kind": "Widget",
        "metadata": {
            "name": "w2", "namespace": "default", "uid": "u-2", "resourceVersion": "41",
            "creationTimestamp": "2024-04-28T08:00:00Z",
        },
        "spec": {"replicas": 2.7},
    })
}

fn printer_columns() -> Value {
    json!([
        {"name": "Phase", "type": "string", "jsonPath": ".status.phase"},
        {"name": "Replicas", "type": "integer", "jsonPath": ".spec.replicas", "description": "Desired replicas"},
        {"name": "Ready", "type": "string", "jsonPath": ".status.conditions[?(@.type==\"Ready\")].status"},
        {"name": "Ratio", "type": "number", "format": "float", "jsonPath": ".status.ratio", "priority": 1},
        {"name": "Paused", "type": "boolean", "jsonPath": ".spec.paused"},
        {"name": "Hosts", "type": "string", "jsonPath": ".spec.hosts"},
        {"name": "Last Sync", "type": "date", "jsonPath": ".status.lastSync"},
        {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
    ])
}

fn default_desc(path: &str) -> String {
    format!("Custom resource definition column (in JSONPath format): {path}")
}

#[test]
fn crd_with_printer_columns_exact_json() {
    let crd = crd(printer_columns());
    let columns = crd_columns(&crd, "v1");
    let (w1, w2) = (widget_1(), widget_2());
    let meta = TableMeta {
        resource_version: Some("42".to_owned()),
        ..TableMeta::default()
    };
    let got = table(
        &columns,
        &[&w1, &w2],
        &meta,
        IncludeObject::default(),
        now(),
    );
    let expected = json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": "42"},
        "columnDefinitions": [
            {"name": "Name", "type": "string", "format": "name", "description": NAME_DESC, "priority": 0},
            {"name": "Phase", "type": "string", "format": "", "description": default_desc(".status.phase"), "priority": 0},
            {"name": "Replicas", "type": "integer", "format": "", "description": "Desired replicas", "priority": 0},
            {"name": "Ready", "type": "string", "format": "", "description": default_desc(".status.conditions[?(@.type==\"Ready\")].status"), "priority": 0},
            {"name": "Ratio", "type": "number", "format": "float", "description": default_desc(".status.ratio"), "priority": 1},
            {"name": "Paused", "type": "boolean", "format": "", "description": default_desc(".spec.paused"), "priority": 0},
            {"name": "Hosts", "type": "string", "format": "", "description": default_desc(".spec.hosts"), "priority": 0},
            {"name": "Last Sync", "type": "date", "format": "", "description": default_desc(".status.lastSync"), "priority": 0},
            {"name": "Age", "type": "date", "format": "", "description": default_desc(".metadata.creationTimestamp"), "priority": 0},
        ],
        "rows": [
            {
                "cells": ["w1", "Ready", 3, "False", 0.5, false, "[\"a.example.com\",\"b.example.com\"]", "45s", "120m"],
                "object": {
                    "kind": "PartialObjectMetadata",
                    "apiVersion": "meta.k8s.io/v1",
                    "metadata": {
                        "name": "w1", "namespace": "default", "uid": "u-1", "resourceVersion": "40",
                        "generation": 1, "creationTimestamp": "2024-05-01T10:00:00Z", "labels": {"app": "demo"},
                    },
                },
            },
            {
                "cells": ["w2", null, 2, null, null, null, null, null, "3d4h"],
                "object": {
                    "kind": "PartialObjectMetadata",
                    "apiVersion": "meta.k8s.io/v1",
                    "metadata": {
                        "name": "w2", "namespace": "default", "uid": "u-2", "resourceVersion": "41",
                        "creationTimestamp": "2024-04-28T08:00:00Z",
                    },
                },
            },
        ],
    });
    assert_eq!(got, expected);
    // Wire form of the number cell: Go writes float64 0.5 as 0.5.
    assert_eq!(
        serde_json::to_string(&got["rows"][0]["cells"][4]).expect("json"),
        "0.5"
    );
}

#[test]
fn crd_without_columns_gets_name_and_age() {
    let crd = crd(json!([]));
    let columns = crd_columns(&crd, "v1");
    let definitions: Vec<Value> = columns.iter().map(|c| c.definition()).collect();
    assert_eq!(
        definitions,
        vec![
            json!({"name": "Name", "type": "string", "format": "name", "description": NAME_DESC, "priority": 0}),
            json!({"name": "Age", "type": "date", "format": "", "description": CREATED_DESC, "priority": 0}),
        ]
    );
    // A version without the field at all behaves the same.
    assert_eq!(crd_columns(&crd, "v1alpha1"), columns);
    let w = widget_1();
    let got = table(
        &columns,
        &[&w],
        &TableMeta::default(),
        IncludeObject::None,
        now(),
    );
    assert_eq!(
        got,
        json!({
            "kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": {},
            "columnDefinitions": definitions,
            "rows": [{"cells": ["w1", "120m"], "object": null}],
        })
    );
    let empty = table(
        &columns,
        &[],
        &TableMeta::default(),
        IncludeObject::Metadata,
        now(),
    );
    assert_eq!(empty["rows"], json!([]));
}

#[test]
fn age_is_not_appended_when_columns_are_given() {
    let crd = crd(json!([{"name": "Phase", "type": "string", "jsonPath": ".status.phase"}]));
    let names: Vec<String> = crd_columns(&crd, "v1")
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(names, vec!["Name", "Phase"]);
}

#[test]
fn unparsable_column_keeps_the_columns_before_it() {
    let crd = crd(json!([
        {"name": "Phase", "type": "string", "jsonPath": ".status.phase"},
        {"name": "Bad", "type": "string", "jsonPath": ".spec..x"},
        {"name": "After", "type": "string", "jsonPath": ".spec.after"},
    ]));
    let names: Vec<String> = crd_columns(&crd, "v1")
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(names, vec!["Name", "Phase"]);
    let err = crd_column(&json!({"name": "Bad", "type": "string", "jsonPath": ".a[x]"}))
        .expect_err("bad path");
    assert_eq!(err.to_string(), "unrecognized column definition \".a[x]\"");
}

#[test]
fn cell_formatting_by_type() {
    let object = json!({
        "s": "text", "i": 42, "f": 3.75, "big": 1000000.0, "t": true, "n": null,
        "list": [1, "<b>", {"z": 1, "a": [0.5, 1e21]}], "map": {"b": "x&y", "a": 1e-7},
        "when": "2024-05-01T11:55:00Z", "zero": "0001-01-01T00:00:00Z", "bad": "yesterday",
        "empty": "", "multi": [{"v": "first"}, {"v": "second"}],
    });
    let cell = |type_: &str, path: &str| {
        let column =
            crd_column(&json!({"name": "C", "type": type_, "jsonPath": path})).expect(path);
        column.cell(&object, now())
    };
    let cases: Vec<(&str, &str, Value)> = vec![
        ("string", ".s", json!("text")),
        ("string", ".i", json!("42")),
        ("string", ".f", json!("3.75")),
        ("string", ".big", json!("1e+06")),
        ("string", ".t", json!("true")),
        ("string", ".n", json!("<no value>")),
        (
            "string",
            ".list",
            json!("[1,\"\\u003cb\\u003e\",{\"a\":[0.5,1e+21],\"z\":1}]"),
        ),
        ("string", ".map", json!("{\"a\":1e-7,\"b\":\"x\\u0026y\"}")),
        ("string", ".missing", Value::Null),
        // Several matches: only the first is shown.
        ("string", ".multi[*].v", json!("first")),
        ("integer", ".i", json!(42)),
        ("integer", ".f", json!(3)),
        ("integer", ".s", Value::Null),
        ("integer", ".n", Value::Null),
        ("number", ".f", json!(3.75)),
        ("number", ".i", json!(42)),
        ("number", ".t", Value::Null),
        ("boolean", ".t", json!(true)),
        ("boolean", ".s", Value::Null),
        ("date", ".when", json!("5m")),
        ("date", ".zero", json!("<unknown>")),
        ("date", ".empty", json!("<unknown>")),
        ("date", ".bad", json!("<invalid>")),
        ("date", ".i", Value::Null),
        ("date", ".missing", Value::Null),
        ("unknown-type", ".s", Value::Null),
        // Evaluation errors give an empty cell.
        ("string", ".list[9]", Value::Null),
    ];
    for (type_, path, expected) in cases {
        assert_eq!(cell(type_, path), expected, "{type_} {path}");
    }
    // Go's float64 42 is written without a fraction.
    assert_eq!(
        serde_json::to_string(&cell("number", ".i")).expect("json"),
        "42"
    );
}

#[test]
fn include_object_variants_and_list_meta() {
    let columns = crd_columns(&crd(json!([])), "v1");
    let w = widget_1();
    let full = table(
        &columns,
        &[&w],
        &TableMeta::for_object(&w),
        IncludeObject::Object,
        now(),
    );
    assert_eq!(full["rows"][0]["object"], w);
    assert_eq!(full["metadata"], json!({"resourceVersion": "40"}));
    let meta = TableMeta {
        resource_version: Some("7".to_owned()),
        continue_token: Some("abc".to_owned()),
        remaining_item_count: Some(3),
    };
    let listed = table(&columns, &[&w], &meta, IncludeObject::None, now());
    assert_eq!(
        listed["metadata"],
        json!({"resourceVersion": "7", "continue": "abc", "remainingItemCount": 3})
    );
    assert_eq!(listed["rows"][0]["object"], Value::Null);
    assert!(listed["rows"][0].get("conditions").is_none());
    assert_eq!(IncludeObject::from_query(None), Ok(IncludeObject::Metadata));
    assert_eq!(
        IncludeObject::from_query(Some("")),
        Ok(IncludeObject::Metadata)
    );
    assert_eq!(
        IncludeObject::from_query(Some("None")),
        Ok(IncludeObject::None)
    );
    assert_eq!(
        IncludeObject::from_query(Some("Object")),
        Ok(IncludeObject::Object)
    );
    assert_eq!(
        IncludeObject::from_query(Some("object")),
        Err("unrecognized includeObject value: \"object\"".to_owned())
    );
}
