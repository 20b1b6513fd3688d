//! Schema of a custom resource, read from one CRD version's `openAPIV3Schema`.

use serde_json::Value;

use super::schema::{ListType, Schema};

/// The schema of a custom resource version. Reads `x-kubernetes-list-type`
/// (`atomic` / `set` / `map`), `x-kubernetes-list-map-keys`, `x-kubernetes-map-type` and
/// `additionalProperties`; lists without a list type are atomic, as for the real server.
///
/// The real server refuses strategic merge patches for custom resources (HTTP 415);
/// the caller must do so before ever calling [`super::strategic_merge`] with this schema.
#[derive(Debug, Clone, PartialEq)]
pub struct CrdSchema {
    root: Value,
    /// Stands for every field below `x-kubernetes-preserve-unknown-fields` that the schema
    /// does not declare: structured-merge-diff deduces such values as free-form maps and
    /// atomic lists.
    deduced: Value,
}

impl CrdSchema {
    /// Builds the schema from `spec.versions[].schema.openAPIV3Schema` of a CRD.
    pub fn from_openapi(schema: &Value) -> CrdSchema {
        CrdSchema {
            root: schema.clone(),
            deduced: serde_json::json!({"x-kubernetes-preserve-unknown-fields": true}),
        }
    }

    /// The schema node at `path`: object fields through `properties` (or
    /// `additionalProperties` for map keys), list items through `items` implicitly since
    /// paths omit list positions.
    fn node(&self, path: &[&str]) -> Option<&Value> {
        let mut node = &self.root;
        for segment in path {
            node = through_items(node);
            let additional = node.get("additionalProperties").filter(|a| a.is_object());
            node = match (
                node.get("properties").and_then(|p| p.get(*segment)),
                additional,
            ) {
                (Some(child), _) | (None, Some(child)) => child,
                (None, None) if preserves_unknown(node) => &self.deduced,
                (None, None) => return None,
            };
        }
        Some(node)
    }
}

/// Lists nest their element schema under `items`; paths skip list positions.
fn through_items(mut node: &Value) -> &Value {
    while let Some(items) = node.get("items").filter(|i| i.is_object()) {
        node = items;
    }
    node
}

fn preserves_unknown(node: &Value) -> bool {
    node.get("x-kubernetes-preserve-unknown-fields") == Some(&Value::Bool(true))
}

fn ext<'a>(node: &'a Value, name: &str) -> Option<&'a str> {
    node.get(name).and_then(Value::as_str)
}

impl Schema for CrdSchema {
    fn list_type(&self, path: &[&str]) -> ListType {
        let Some(node) = self.node(path) else {
            return ListType::Atomic;
        };
        match ext(node, "x-kubernetes-list-type") {
            Some("set") => ListType::Set,
            Some("map") => {
                let keys: Vec<String> = node
                    .get("x-kubernetes-list-map-keys")
                    .and_then(Value::as_array)
                    .map(|keys| {
                        keys.iter()
                            .filter_map(|k| k.as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default();
                // The API server rejects a map list without keys when the CRD is created;
                // treat a schema that slipped through as atomic rather than guess.
                if keys.is_empty() {
                    ListType::Atomic
                } else {
                    ListType::Map(keys)
                }
            }
            _ => ListType::Atomic,
        }
    }

    fn atomic_map(&self, path: &[&str]) -> bool {
        self.node(path)
            .is_some_and(|n| ext(n, "x-kubernetes-map-type") == Some("atomic"))
    }

    fn free_form_map(&self, path: &[&str]) -> bool {
        let Some(node) = self.node(path) else {
            return false;
        };
        let has_properties = node.get("properties").is_some();
        let additional = node
            .get("additionalProperties")
            .is_some_and(|a| a.is_object() || a == &Value::Bool(true));
        !has_properties && (additional || preserves_unknown(node))
    }

    fn list_key_default(&self, path: &[&str], key: &str) -> Option<Value> {
        let node = through_items(self.node(path)?);
        node.get("properties")?.get(key)?.get("default").cloned()
    }
}
