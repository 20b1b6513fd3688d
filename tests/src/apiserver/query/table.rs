//! Server-side `meta.k8s.io/v1` Table rendering.
//!
//! The JSON shape follows how kube-apiserver serialises a Table:
//! `metadata` is the list metadata (empty fields omitted),
//! `columnDefinitions` entries always carry all five fields, each row has
//! `cells`, `conditions` only when the printer sets some, and `object`
//! depending on the `includeObject` parameter (`null` for `None`).

use super::builtin::BuiltinCell;
use super::columns::{CellSource, Column};
use jiff::Timestamp;
use serde_json::{Map, Value, json};

use crate::apiserver::meta::OBJECT_META_FIELDS;

/// The `includeObject` query parameter of a Table request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IncludeObject {
    /// `None`: rows carry `"object": null`.
    None,
    /// `Metadata` (the default): rows carry a `PartialObjectMetadata`.
    #[default]
    Metadata,
    /// `Object`: rows carry the full object.
    Object,
}

impl IncludeObject {
    /// Parses the parameter; absent or empty means `Metadata`.
    ///
    /// The error text is the real server's (`unrecognized includeObject
    /// value: "X"`). Note that kube-apiserver only reports it when the
    /// table has at least one row, because it checks the value per row.
    pub fn from_query(value: Option<&str>) -> Result<Self, String> {
        match value.unwrap_or("") {
            "" | "Metadata" => Ok(Self::Metadata),
            "None" => Ok(Self::None),
            "Object" => Ok(Self::Object),
            other => Err(format!(
                "unrecognized includeObject value: {}",
                super::gofmt::go_quote(other)
            )),
        }
    }
}

/// List metadata of a Table (`metadata` of the JSON). For a list the
/// values come from the list; for a single object, its resourceVersion.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TableMeta {
    /// `metadata.resourceVersion`.
    pub resource_version: Option<String>,
    /// `metadata.continue`.
    pub continue_token: Option<String>,
    /// `metadata.remainingItemCount`.
    pub remaining_item_count: Option<i64>,
}

impl TableMeta {
    /// Metadata for a Table built from a single object (a GET).
    pub fn for_object(object: &Value) -> Self {
        Self {
            resource_version: object
                .pointer("/metadata/resourceVersion")
                .and_then(Value::as_str)
                .map(str::to_owned),
            ..Self::default()
        }
    }

    fn to_json(&self) -> Value {
        let mut map = Map::new();
        if let Some(rv) = self.resource_version.as_ref().filter(|s| !s.is_empty()) {
            map.insert("resourceVersion".to_owned(), json!(rv));
        }
        if let Some(token) = self.continue_token.as_ref().filter(|s| !s.is_empty()) {
            map.insert("continue".to_owned(), json!(token));
        }
        if let Some(count) = self.remaining_item_count {
            map.insert("remainingItemCount".to_owned(), json!(count));
        }
        Value::Object(map)
    }
}

/// Whether Go's `omitempty` would drop `field` with this value. Only
/// `generation` is a plain integer; `deletionGracePeriodSeconds` is a
/// pointer, so its 0 is kept.
fn is_empty(field: &str, value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Number(n) => field == "generation" && n.as_f64() == Some(0.0),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        Value::Bool(_) => false,
    }
}

/// The `PartialObjectMetadata` kube-apiserver puts in a row for
/// `includeObject=Metadata`: `kind`, `apiVersion` and the object's
/// `ObjectMeta` fields, empty ones omitted.
pub fn partial_object_metadata(object: &Value) -> Value {
    let mut metadata = Map::new();
    if let Some(meta) = object.get("metadata").and_then(Value::as_object) {
        for field in OBJECT_META_FIELDS {
            if let Some(value) = meta.get(*field).filter(|v| !is_empty(field, v)) {
                metadata.insert((*field).to_owned(), value.clone());
            }
        }
    }
    json!({
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": metadata,
    })
}

/// Renders a Table of `objects` (in order) with `columns`.
///
/// `meta` becomes the Table's list metadata; `now` is the reference time
/// for ages. With [`IncludeObject::Object`] each object is embedded as
/// given, so it should carry its `kind` and `apiVersion` (the real server
/// converts items to the requested version, which sets them).
///
/// For an empty list, `rows` is `[]`, except with the default convertor's
/// columns (`Name`, `Created At`, used for CustomResourceDefinitions), for
/// which kube-apiserver sends `null`.
pub fn table(
    columns: &[Column],
    objects: &[&Value],
    meta: &TableMeta,
    include_object: IncludeObject,
    now: Timestamp,
) -> Value {
    let definitions: Vec<Value> = columns.iter().map(Column::definition).collect();
    let rows: Vec<Value> = objects
        .iter()
        .map(|object| row(columns, object, include_object, now))
        .collect();
    let default_convertor = columns
        .iter()
        .any(|c| c.source == CellSource::Builtin(BuiltinCell::CreatedAt));
    let rows = if rows.is_empty() && default_convertor {
        Value::Null
    } else {
        Value::Array(rows)
    };
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": meta.to_json(),
        "columnDefinitions": definitions,
        "rows": rows,
    })
}

fn row(columns: &[Column], object: &Value, include_object: IncludeObject, now: Timestamp) -> Value {
    let cells: Vec<Value> = columns.iter().map(|c| c.cell(object, now)).collect();
    let mut row = Map::new();
    row.insert("cells".to_owned(), Value::Array(cells));
    let conditions = columns.iter().find_map(|c| match c.source {
        CellSource::Builtin(builtin) => builtin.row_conditions(object),
        CellSource::JsonPath(_) => None,
    });
    if let Some(conditions) = conditions {
        row.insert("conditions".to_owned(), Value::Array(conditions));
    }
    let embedded = match include_object {
        IncludeObject::None => Value::Null,
        IncludeObject::Metadata => partial_object_metadata(object),
        IncludeObject::Object => object.clone(),
    };
    row.insert("object".to_owned(), embedded);
    Value::Object(row)
}
