//! Table columns: definitions plus how each cell is computed.
//!
//! A [`Column`] carries the `columnDefinitions` entry the server sends and a
//! [`CellSource`]: either a JSONPath (CRD `additionalPrinterColumns`,
//! formatted by the column's `type`) or a built-in computation (the
//! kube-apiserver printers for Pods, Services, ...).

use super::builtin::BuiltinCell;
use super::descriptions::{OBJECT_META_CREATION_TIMESTAMP, OBJECT_META_NAME};
use super::duration::{age, is_go_zero_time, parse_rfc3339};
use super::gofmt::go_print_value;
use super::jsonpath::JsonPath;
use jiff::Timestamp;
use serde_json::{Number, Value, json};

/// Where a column's cells come from.
#[derive(Debug, Clone, PartialEq)]
pub enum CellSource {
    /// A CRD printer column: the first value the path selects, formatted
    /// according to the column type.
    JsonPath(JsonPath),
    /// A value computed by one of kube-apiserver's built-in printers.
    Builtin(BuiltinCell),
}

/// One table column.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    /// Column title as the server sends it (`Name`, `Ready`, ...; kubectl
    /// upper-cases it).
    pub name: String,
    /// OpenAPI type: `string`, `integer`, `number`, `boolean` or `date`.
    pub type_: String,
    /// OpenAPI format hint (`name` for the name column), often empty.
    pub format: String,
    /// Human-readable description.
    pub description: String,
    /// 0 for default columns, higher for `-o wide` ones.
    pub priority: i32,
    /// How cells are computed.
    pub source: CellSource,
}

impl Column {
    /// The `columnDefinitions` entry: every field is always present, as
    /// none of them is `omitempty` in `meta.k8s.io/v1`.
    pub fn definition(&self) -> Value {
        json!({
            "name": self.name,
            "type": self.type_,
            "format": self.format,
            "description": self.description,
            "priority": self.priority,
        })
    }

    /// The cell for `object`, relative to `now` for ages.
    pub fn cell(&self, object: &Value, now: Timestamp) -> Value {
        match &self.source {
            CellSource::Builtin(builtin) => builtin.cell(object, now),
            CellSource::JsonPath(path) => jsonpath_cell(&self.type_, path, object, now),
        }
    }
}

/// The `Name` column every CRD table starts with.
pub fn name_column() -> Column {
    Column {
        name: "Name".to_owned(),
        type_: "string".to_owned(),
        format: "name".to_owned(),
        description: OBJECT_META_NAME.to_owned(),
        priority: 0,
        source: CellSource::Builtin(BuiltinCell::Name),
    }
}

/// Builds the column for one `additionalPrinterColumns` entry
/// (`{name, type, format, description, priority, jsonPath}`).
///
/// As in the real server, a missing description becomes
/// `Custom resource definition column (in JSONPath format): <path>`.
pub fn crd_column(definition: &Value) -> Result<Column, super::jsonpath::JsonPathError> {
    let text = |key: &str| {
        definition
            .get(key)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let json_path = text("jsonPath");
    let path = JsonPath::parse(&json_path).map_err(|_| {
        super::jsonpath::JsonPathError(format!(
            "unrecognized column definition {}",
            super::gofmt::go_quote(&json_path)
        ))
    })?;
    let description = match text("description") {
        d if d.is_empty() => {
            format!("Custom resource definition column (in JSONPath format): {json_path}")
        }
        d => d,
    };
    let priority = definition
        .get("priority")
        .and_then(Value::as_i64)
        .and_then(|p| i32::try_from(p).ok())
        .unwrap_or(0);
    Ok(Column {
        name: text("name"),
        type_: text("type"),
        format: text("format"),
        description,
        priority,
        source: CellSource::JsonPath(path),
    })
}

/// Columns for a custom resource served at `version` of `crd` (a
/// `CustomResourceDefinition` object).
///
/// `Name` always comes first, followed by that version's
/// `additionalPrinterColumns` exactly as listed: `Age` is *not* appended
/// when the CRD defines columns (CRDs that want it list it themselves).
/// Only when the version defines no columns does the server serve
/// `Name, Age` (`Age`: type `date`, from `.metadata.creationTimestamp`).
/// If a column's JSONPath does not parse, the real server logs it and
/// keeps the columns before it, so this does the same.
pub fn crd_columns(crd: &Value, version: &str) -> Vec<Column> {
    let defined = crd
        .pointer("/spec/versions")
        .and_then(Value::as_array)
        .and_then(|versions| {
            versions
                .iter()
                .find(|v| v.get("name").and_then(Value::as_str) == Some(version))
        })
        .and_then(|v| v.get("additionalPrinterColumns"))
        .and_then(Value::as_array)
        .filter(|columns| !columns.is_empty());
    let mut columns = vec![name_column()];
    match defined {
        Some(definitions) => {
            for definition in definitions {
                match crd_column(definition) {
                    Ok(column) => columns.push(column),
                    Err(_) => break,
                }
            }
        }
        None => columns.push(Column {
            name: "Age".to_owned(),
            type_: "date".to_owned(),
            format: String::new(),
            description: OBJECT_META_CREATION_TIMESTAMP.to_owned(),
            priority: 0,
            source: CellSource::JsonPath(JsonPath::fields(
                ".metadata.creationTimestamp",
                &["metadata", "creationTimestamp"],
            )),
        }),
    }
    columns
}

/// A float cell serialised the way Go's `encoding/json` writes float64:
/// integral values without a fraction (`42`, not `42.0`).
fn float_cell(f: f64) -> Value {
    if f.fract() == 0.0 && f.abs() < 9e18 {
        Value::Number(Number::from(f as i64))
    } else {
        Number::from_f64(f).map_or(Value::Null, Value::Number)
    }
}

/// Formats a CRD printer-column cell like the apiextensions table
/// convertor: only the *first* selected value is used (several matches
/// are not joined); errors and no match give `null` (`<none>` in kubectl).
fn jsonpath_cell(type_: &str, path: &JsonPath, object: &Value, now: Timestamp) -> Value {
    let first = match path.evaluate(object) {
        Ok(values) => match values.first() {
            Some(first) => *first,
            None => return Value::Null,
        },
        Err(_) => return Value::Null,
    };
    if type_ == "string" {
        // Printed by the JSONPath printer: strings as is, scalars like Go's
        // fmt, objects and lists as compact JSON.
        return Value::String(go_print_value(first));
    }
    match (type_, first) {
        ("integer", Value::Number(n)) => match n.as_i64() {
            Some(i) => Value::from(i),
            // Go converts float64 to int64 by truncation.
            None => Value::from(n.as_f64().unwrap_or(0.0).trunc() as i64),
        },
        ("number", Value::Number(n)) => float_cell(n.as_f64().unwrap_or(0.0)),
        ("boolean", Value::Bool(b)) => Value::Bool(*b),
        ("date", Value::String(s)) => Value::String(date_cell(s, now)),
        _ => Value::Null,
    }
}

/// A `date` cell: the age of an RFC 3339 timestamp; `<unknown>` for an
/// empty or zero time, `<invalid>` when it does not parse.
fn date_cell(text: &str, now: Timestamp) -> String {
    if text.is_empty() || text == "null" {
        return "<unknown>".to_owned();
    }
    match parse_rfc3339(text) {
        Some(ts) if is_go_zero_time(ts) => "<unknown>".to_owned(),
        Some(ts) => age(ts, now),
        None => "<invalid>".to_owned(),
    }
}
