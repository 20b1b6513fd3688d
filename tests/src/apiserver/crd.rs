//! CustomResourceDefinitions: what the server checks on them (names, versions, structural
//! schemas), the types they define, the status it gives them, and the pruning of fields their
//! schemas do not declare.
//!
//! Not implemented (documented in the crate README): validation of custom resources against
//! their schema beyond pruning, defaulting, conversion webhooks, CEL rules.

use serde_json::{Map, Value, json};

use super::meta::OBJECT_META_FIELDS;
use super::resource::ResourceType;

/// The finalizer the real server puts on CRDs so their objects are removed before they are.
pub const CLEANUP_FINALIZER: &str = "customresourcecleanup.apiextensions.k8s.io";

type Problem = (String, String);

/// Validates a CRD and sets what the server sets: the cleanup finalizer and the status
/// (accepted names, `NamesAccepted` and `Established` conditions, stored versions).
pub fn prepare(crd: &mut Value) -> Result<(), Problem> {
    let spec = crd["spec"].clone();
    let group = spec["group"].as_str().unwrap_or("");
    if group.is_empty() {
        return Err(("spec.group".into(), "Required value".into()));
    }
    let plural = spec["names"]["plural"].as_str().unwrap_or("");
    let kind = spec["names"]["kind"].as_str().unwrap_or("");
    if plural.is_empty() {
        return Err(("spec.names.plural".into(), "Required value".into()));
    }
    if kind.is_empty() {
        return Err(("spec.names.kind".into(), "Required value".into()));
    }
    let name = crd["metadata"]["name"].as_str().unwrap_or("");
    if name != format!("{plural}.{group}") {
        return Err((
            "metadata.name".into(),
            format!("Invalid value: \"{name}\": must be spec.names.plural+\".\"+spec.group"),
        ));
    }
    match spec["scope"].as_str() {
        Some("Namespaced" | "Cluster") => {}
        other => {
            return Err((
                "spec.scope".into(),
                format!(
                    "Unsupported value: \"{}\": supported values: \"Cluster\", \"Namespaced\"",
                    other.unwrap_or("")
                ),
            ));
        }
    }
    let versions = spec["versions"].as_array().cloned().unwrap_or_default();
    if versions.is_empty() {
        return Err((
            "spec.versions".into(),
            "Invalid value: must have exactly one version marked as storage version".into(),
        ));
    }
    if versions.iter().filter(|v| v["storage"] == true).count() != 1 {
        return Err((
            "spec.versions".into(),
            "Invalid value: must have exactly one version marked as storage version".into(),
        ));
    }
    if !versions.iter().any(|v| v["served"] == true) {
        return Err((
            "spec.versions".into(),
            "Invalid value: must serve at least one version".into(),
        ));
    }
    for (i, v) in versions.iter().enumerate() {
        if v["name"].as_str().unwrap_or("").is_empty() {
            return Err((format!("spec.versions[{i}].name"), "Required value".into()));
        }
        if let Some(schema) = v.get("schema").and_then(|s| s.get("openAPIV3Schema")) {
            let path = format!("spec.versions[{i}].schema.openAPIV3Schema");
            structural(schema, &path, true)?;
        }
    }
    let deleting = crd["metadata"]["deletionTimestamp"].is_string();
    let finalizers = crd["metadata"]["finalizers"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if !deleting && !finalizers.iter().any(|f| f == CLEANUP_FINALIZER) {
        let mut f = finalizers;
        f.push(json!(CLEANUP_FINALIZER));
        crd["metadata"]["finalizers"] = json!(f);
    }
    let names = &spec["names"];
    let mut accepted = names.clone();
    if accepted["singular"].as_str().unwrap_or("").is_empty() {
        accepted["singular"] = json!(kind.to_lowercase());
    }
    if accepted["listKind"].as_str().unwrap_or("").is_empty() {
        accepted["listKind"] = json!(format!("{kind}List"));
    }
    let storage = versions
        .iter()
        .find(|v| v["storage"] == true)
        .and_then(|v| v["name"].as_str())
        .unwrap_or("");
    let since = crd["metadata"]["creationTimestamp"].clone();
    crd["status"] = json!({
        "acceptedNames": accepted,
        "conditions": [
            {"type": "NamesAccepted", "status": "True", "reason": "NoConflicts",
             "message": "no conflicts found", "lastTransitionTime": since},
            {"type": "Established", "status": "True", "reason": "InitialNamesAccepted",
             "message": "the initial names have been accepted", "lastTransitionTime": since},
        ],
        "storedVersions": [storage],
    });
    Ok(())
}

/// Keywords a CRD schema may not use anywhere, with the real server's complaint.
const FORBIDDEN_KEYWORDS: &[(&str, &str)] = &[
    ("$ref", "$ref is not supported"),
    ("$schema", "$schema is not supported"),
    ("id", "id is not supported"),
    ("definitions", "definitions are not supported"),
    ("additionalItems", "additionalItems cannot be set to false"),
    ("patternProperties", "patternProperties is not supported"),
];

/// Refuses the keywords of [`FORBIDDEN_KEYWORDS`].
fn forbidden_keywords(s: &Map<String, Value>, path: &str) -> Result<(), Problem> {
    match FORBIDDEN_KEYWORDS
        .iter()
        .find(|(key, _)| s.contains_key(*key))
    {
        Some((key, what)) => Err((format!("{path}.{key}"), format!("Forbidden: {what}"))),
        None => Ok(()),
    }
}

/// Keywords a schema inside `allOf`, `anyOf`, `oneOf` or `not` may not set (value validation
/// only there).
const NOT_IN_JUNCTORS: &[&str] = &[
    "description",
    "type",
    "default",
    "additionalProperties",
    "nullable",
];

/// The logical junctors of a schema node: their subschemas may only validate values, not
/// declare structure (the int-or-string pattern `anyOf: [{type: integer}, {type: string}]`
/// excepted).
fn junctors(s: &Map<String, Value>, path: &str, int_or_string: bool) -> Result<(), Problem> {
    let mut subschemas: Vec<(String, &Value)> = Vec::new();
    for key in ["allOf", "anyOf", "oneOf"] {
        if let Some(list) = s.get(key).and_then(Value::as_array) {
            subschemas.extend(
                list.iter()
                    .enumerate()
                    .map(|(i, sub)| (format!("{path}.{key}[{i}]"), sub)),
            );
        }
    }
    if let Some(not) = s.get("not") {
        subschemas.push((format!("{path}.not"), not));
    }
    let int_or_string_pattern = |p: &str, sub: &Value| {
        int_or_string
            && p.contains(".anyOf[")
            && sub.as_object().is_some_and(|o| {
                o.len() == 1 && matches!(o["type"].as_str(), Some("integer" | "string"))
            })
    };
    for (sub_path, sub) in subschemas {
        if int_or_string_pattern(&sub_path, sub) {
            continue;
        }
        in_junctor(sub, &sub_path)?;
    }
    Ok(())
}

/// Checks a schema inside a junctor, and everything below it.
fn in_junctor(schema: &Value, path: &str) -> Result<(), Problem> {
    let Some(s) = schema.as_object() else {
        return Ok(());
    };
    for key in NOT_IN_JUNCTORS {
        if s.contains_key(*key) {
            return Err((
                format!("{path}.{key}"),
                "Forbidden: must be empty to be structural".to_owned(),
            ));
        }
    }
    forbidden_keywords(s, path)?;
    if let Some(props) = s.get("properties").and_then(Value::as_object) {
        for (name, sub) in props {
            in_junctor(sub, &format!("{path}.properties[{name}]"))?;
        }
    }
    if let Some(items) = s.get("items") {
        in_junctor(items, &format!("{path}.items"))?;
    }
    for key in ["allOf", "anyOf", "oneOf"] {
        for (i, sub) in s
            .get(key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            in_junctor(sub, &format!("{path}.{key}[{i}]"))?;
        }
    }
    if let Some(not) = s.get("not") {
        in_junctor(not, &format!("{path}.not"))?;
    }
    Ok(())
}

/// The structural-schema rules of the real server: types present, properties and
/// additionalProperties exclusive, array items given, metadata restricted at the root,
/// int-or-string without a type, junctors (`allOf`/`anyOf`/`oneOf`/`not`) only validating,
/// and no `$ref`, `definitions`, `uniqueItems: true` and the like.
fn structural(schema: &Value, path: &str, root: bool) -> Result<(), Problem> {
    let Some(s) = schema.as_object() else {
        return Err((path.into(), "Invalid value: must be an object".into()));
    };
    let typ = s.get("type").and_then(Value::as_str).unwrap_or("");
    let int_or_string = s.get("x-kubernetes-int-or-string") == Some(&Value::Bool(true));
    let preserve = s.get("x-kubernetes-preserve-unknown-fields") == Some(&Value::Bool(true));
    forbidden_keywords(s, path)?;
    if int_or_string && !typ.is_empty() {
        return Err((
            format!("{path}.type"),
            "Invalid value: must be empty if x-kubernetes-int-or-string is true".into(),
        ));
    }
    if typ.is_empty() && !int_or_string && !preserve {
        let what = if root {
            "must not be empty at the root"
        } else {
            "must not be empty for specified object fields"
        };
        return Err((format!("{path}.type"), format!("Required value: {what}")));
    }
    if root && typ != "object" {
        return Err((
            format!("{path}.type"),
            format!("Invalid value: \"{typ}\": must be object at the root"),
        ));
    }
    if s.get("uniqueItems") == Some(&Value::Bool(true)) {
        return Err((
            format!("{path}.uniqueItems"),
            "Forbidden: uniqueItems cannot be set to true since the runtime complexity becomes quadratic".into(),
        ));
    }
    junctors(s, path, int_or_string)?;
    let additional = s.get("additionalProperties").filter(|a| a.is_object());
    if s.contains_key("properties") && additional.is_some() {
        return Err((
            format!("{path}.additionalProperties"),
            "Forbidden: additionalProperties and properties are mutual exclusive".into(),
        ));
    }
    if typ == "array" && !s.contains_key("items") {
        return Err((
            format!("{path}.items"),
            "Required value: must be specified".into(),
        ));
    }
    if let Some(props) = s.get("properties").and_then(Value::as_object) {
        for (name, sub) in props {
            if root && name == "metadata" {
                let extra = sub
                    .get("properties")
                    .and_then(Value::as_object)
                    .is_some_and(|p| p.keys().any(|k| k != "name" && k != "generateName"));
                if extra {
                    return Err((
                        format!("{path}.properties[metadata]"),
                        "Forbidden: must not specify anything other than name and generateName, but metadata is implicitly specified".into(),
                    ));
                }
            }
            structural(sub, &format!("{path}.properties[{name}]"), false)?;
        }
    }
    if let Some(items) = s.get("items") {
        structural(items, &format!("{path}.items"), false)?;
    }
    if let Some(a) = additional {
        structural(a, &format!("{path}.additionalProperties"), false)?;
    }
    Ok(())
}

/// The types a CRD defines: one per served version.
pub fn types(crd: &Value) -> Vec<ResourceType> {
    let spec = crd["spec"].clone();
    let names = &spec["names"];
    let strings = |v: &Value| -> Vec<String> {
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    let kind = names["kind"].as_str().unwrap_or("").to_owned();
    let singular = names["singular"]
        .as_str()
        .filter(|s| !s.is_empty())
        .map_or_else(|| kind.to_lowercase(), str::to_owned);
    spec["versions"]
        .as_array()
        .map(|versions| {
            versions
                .iter()
                .filter(|v| v["served"] == true)
                .map(|v| ResourceType {
                    group: spec["group"].as_str().unwrap_or("").to_owned(),
                    version: v["name"].as_str().unwrap_or("").to_owned(),
                    plural: names["plural"].as_str().unwrap_or("").to_owned(),
                    singular: singular.clone(),
                    kind: kind.clone(),
                    namespaced: spec["scope"] == "Namespaced",
                    short_names: strings(&names["shortNames"]),
                    categories: strings(&names["categories"]),
                    status_subresource: v["subresources"]["status"].is_object(),
                    storage: v["storage"] == true,
                    printer_columns: v["additionalPrinterColumns"]
                        .as_array()
                        .cloned()
                        .unwrap_or_default(),
                    schema: v["schema"]["openAPIV3Schema"]
                        .is_object()
                        .then(|| v["schema"]["openAPIV3Schema"].clone()),
                    crd: crd["metadata"]["name"].as_str().map(str::to_owned),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Removes from a custom resource every field its schema does not declare; returns their
/// paths (`spec.foo`, `spec.items[0].bar`).
pub fn prune(obj: &mut Value, schema: &Value) -> Vec<String> {
    let mut removed = Vec::new();
    if let Some(root) = obj.as_object_mut() {
        for (key, value) in root.iter_mut() {
            match key.as_str() {
                "apiVersion" | "kind" => {}
                "metadata" => prune_metadata(value, &mut removed),
                _ => {}
            }
        }
        let declared = schema.get("properties").and_then(Value::as_object);
        let preserve =
            schema.get("x-kubernetes-preserve-unknown-fields") == Some(&Value::Bool(true));
        let keys: Vec<String> = root.keys().cloned().collect();
        for key in keys {
            if matches!(key.as_str(), "apiVersion" | "kind" | "metadata") {
                continue;
            }
            match declared.and_then(|d| d.get(&key)) {
                Some(sub) => {
                    if let Some(v) = root.get_mut(&key) {
                        prune_value(v, sub, &key, &mut removed);
                    }
                }
                None if preserve => {}
                None => {
                    root.remove(&key);
                    removed.push(key);
                }
            }
        }
    }
    removed
}

fn prune_metadata(meta: &mut Value, removed: &mut Vec<String>) {
    if let Some(m) = meta.as_object_mut() {
        let unknown: Vec<String> = m
            .keys()
            .filter(|k| !OBJECT_META_FIELDS.contains(&k.as_str()))
            .cloned()
            .collect();
        for k in unknown {
            m.remove(&k);
            removed.push(format!("metadata.{k}"));
        }
    }
}

fn prune_value(value: &mut Value, schema: &Value, path: &str, removed: &mut Vec<String>) {
    if schema.get("x-kubernetes-preserve-unknown-fields") == Some(&Value::Bool(true))
        && schema.get("properties").is_none()
    {
        return;
    }
    match value {
        Value::Object(map) => prune_object(map, schema, path, removed),
        Value::Array(items) => {
            if let Some(item_schema) = schema.get("items") {
                for (i, item) in items.iter_mut().enumerate() {
                    prune_value(item, item_schema, &format!("{path}[{i}]"), removed);
                }
            }
        }
        _ => {}
    }
}

fn prune_object(
    map: &mut Map<String, Value>,
    schema: &Value,
    path: &str,
    removed: &mut Vec<String>,
) {
    if schema.get("x-kubernetes-embedded-resource") == Some(&Value::Bool(true))
        && let Some(meta) = map.get_mut("metadata")
    {
        prune_metadata(meta, removed);
    }
    if let Some(additional) = schema.get("additionalProperties").filter(|a| a.is_object()) {
        for (k, v) in map.iter_mut() {
            prune_value(v, additional, &format!("{path}.{k}"), removed);
        }
        return;
    }
    let preserve = schema.get("x-kubernetes-preserve-unknown-fields") == Some(&Value::Bool(true))
        || schema.get("additionalProperties") == Some(&Value::Bool(true));
    let declared = schema.get("properties").and_then(Value::as_object);
    let embedded = schema.get("x-kubernetes-embedded-resource") == Some(&Value::Bool(true));
    let keys: Vec<String> = map.keys().cloned().collect();
    for key in keys {
        if embedded && matches!(key.as_str(), "apiVersion" | "kind" | "metadata") {
            continue;
        }
        match declared.and_then(|d| d.get(&key)) {
            Some(sub) => {
                if let Some(v) = map.get_mut(&key) {
                    prune_value(v, sub, &format!("{path}.{key}"), removed);
                }
            }
            None if preserve => {}
            None => {
                map.remove(&key);
                removed.push(format!("{path}.{key}"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn crd(schema: Value) -> Value {
        json!({
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": {"name": "widgets.example.org", "creationTimestamp": "2026-01-01T00:00:00Z"},
            "spec": {
                "group": "example.org",
                "scope": "Namespaced",
                "names": {"plural": "widgets", "kind": "Widget", "shortNames": ["wd"]},
                "versions": [{"name": "v1", "served": true, "storage": true,
                    "subresources": {"status": {}},
                    "schema": {"openAPIV3Schema": schema}}],
            },
        })
    }

    #[test]
    fn a_valid_crd_gets_status_finalizer_and_types() {
        let mut c = crd(
            json!({"type": "object", "properties": {"spec": {"type": "object",
            "properties": {"size": {"type": "integer"}}}}}),
        );
        prepare(&mut c).unwrap();
        assert_eq!(c["status"]["acceptedNames"]["listKind"], "WidgetList");
        assert_eq!(c["status"]["conditions"][1]["type"], "Established");
        assert_eq!(c["metadata"]["finalizers"][0], CLEANUP_FINALIZER);
        let t = types(&c);
        assert_eq!(t.len(), 1);
        assert!(t[0].status_subresource && t[0].namespaced);
        assert_eq!(t[0].short_names, ["wd"]);
    }

    #[test]
    fn non_structural_schemas_are_refused_with_their_path() {
        let cases = [
            (
                json!({"type": "object", "properties": {"spec": {"properties": {}}}}),
                "spec.versions[0].schema.openAPIV3Schema.properties[spec].type",
            ),
            (
                json!({"type": "string"}),
                "spec.versions[0].schema.openAPIV3Schema.type",
            ),
            (
                json!({"type": "object", "properties": {"a": {"type": "array"}}}),
                "spec.versions[0].schema.openAPIV3Schema.properties[a].items",
            ),
            (
                json!({"type": "object", "properties": {"a": {"type": "object",
                "properties": {"x": {"type": "string"}}, "additionalProperties": {"type": "string"}}}}),
                "spec.versions[0].schema.openAPIV3Schema.properties[a].additionalProperties",
            ),
            // What schemars makes of `Option<Enum>` before kube rewrites it.
            (
                json!({"type": "object", "properties": {"a": {"type": "string",
                "anyOf": [{"type": "string", "enum": ["x"]}, {"enum": [null], "nullable": true}]}}}),
                "spec.versions[0].schema.openAPIV3Schema.properties[a].anyOf[0].type",
            ),
            (
                json!({"type": "object", "properties": {"a": {"type": "object",
                "oneOf": [{"properties": {"x": {"description": "x", "type": "string"}}}]}}}),
                "spec.versions[0].schema.openAPIV3Schema.properties[a].oneOf[0].properties[x].description",
            ),
            (
                json!({"type": "object", "properties": {"a": {"$ref": "#/definitions/A"}}}),
                "spec.versions[0].schema.openAPIV3Schema.properties[a].$ref",
            ),
            (
                json!({"type": "object", "properties": {"a": {"type": "array",
                "items": {"type": "string"}, "uniqueItems": true}}}),
                "spec.versions[0].schema.openAPIV3Schema.properties[a].uniqueItems",
            ),
        ];
        for (schema, field) in cases {
            let mut c = crd(schema);
            let (f, _) = prepare(&mut c).unwrap_err();
            assert_eq!(f, field);
        }
        // Value validation inside junctors, and the int-or-string pattern, are fine.
        let mut c = crd(json!({"type": "object", "properties": {
            "a": {"type": "object", "properties": {"x": {"type": "string"}, "y": {"type": "string"}},
                  "oneOf": [{"required": ["x"]}, {"required": ["y"]}]},
            "b": {"x-kubernetes-int-or-string": true,
                  "anyOf": [{"type": "integer"}, {"type": "string"}]}}}));
        prepare(&mut c).unwrap();
        let mut c = crd(json!({"type": "object"}));
        c["metadata"]["name"] = json!("wrong");
        assert_eq!(prepare(&mut c).unwrap_err().0, "metadata.name");
    }

    #[test]
    fn pruning_drops_undeclared_fields_and_keeps_preserved_ones() {
        let schema = json!({"type": "object", "properties": {
            "spec": {"type": "object", "properties": {
                "items": {"type": "array", "items": {"type": "object", "properties": {"n": {"type": "string"}}}},
                "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
                "labels": {"type": "object", "additionalProperties": {"type": "string"}}}},
            "status": {"type": "object", "properties": {"phase": {"type": "string"}}}}});
        let mut obj = json!({"apiVersion": "example.org/v1", "kind": "Widget",
            "metadata": {"name": "w", "bogus": 1},
            "spec": {"items": [{"n": "a", "x": 1}], "free": {"any": {"thing": 1}},
                     "labels": {"a": "b"}, "typo": true},
            "status": {"phase": "Ready", "extra": 2}, "top": 3});
        let removed = prune(&mut obj, &schema);
        assert_eq!(
            removed,
            [
                "metadata.bogus",
                "spec.items[0].x",
                "spec.typo",
                "status.extra",
                "top"
            ]
        );
        assert_eq!(obj["spec"]["free"]["any"]["thing"], 1);
        assert_eq!(obj["spec"]["labels"]["a"], "b");
    }
}
