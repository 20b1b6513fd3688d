//! Evaluation of parsed JSONPath steps with client-go's semantics.
//!
//! Each step maps a list of values to a new list. JSON `null` values are
//! kept as results (a column pointing at a null field sees it) but are
//! skipped as input to further field/index steps, like nil interfaces in
//! Go. Failures that client-go reports as errors (indexing a map, an index
//! out of range, comparing a string with a number, ...) are errors here too:
//! the table convertor turns them into an empty cell, even when other
//! branches of the path did match.

use super::jsonpath::{Filter, FilterOp, JsonPathError, Operand, SliceEnd, Step};
use serde_json::Value;

fn err(message: impl Into<String>) -> JsonPathError {
    JsonPathError(message.into())
}

/// Go's name for the kind of a decoded JSON value, used in messages.
fn go_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "<nil>",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_i64() => "int64",
        Value::Number(_) => "float64",
        Value::String(_) => "string",
        Value::Array(_) => "[]interface {}",
        Value::Object(_) => "map[string]interface {}",
    }
}

/// Applies `steps` in order to `input`.
pub(super) fn eval_steps<'a>(
    mut values: Vec<&'a Value>,
    steps: &[Step],
) -> Result<Vec<&'a Value>, JsonPathError> {
    for step in steps {
        values = eval_step(values, step)?;
    }
    Ok(values)
}

fn eval_step<'a>(input: Vec<&'a Value>, step: &Step) -> Result<Vec<&'a Value>, JsonPathError> {
    let mut out = Vec::new();
    match step {
        Step::Field(name) => {
            for value in input {
                if let Some(found) = value.as_object().and_then(|m| m.get(name)) {
                    out.push(found);
                }
            }
        }
        Step::Wildcard => {
            for value in input {
                match value {
                    Value::Object(map) => {
                        let mut keys: Vec<&String> = map.keys().collect();
                        keys.sort();
                        out.extend(keys.into_iter().filter_map(|k| map.get(k)));
                    }
                    Value::Array(items) => out.extend(items.iter()),
                    _ => {}
                }
            }
        }
        Step::Slice { start, end } => {
            for value in input {
                if value.is_null() {
                    continue;
                }
                let Value::Array(items) = value else {
                    return Err(err(format!("{} is not array or slice", go_type(value))));
                };
                match slice_bounds(items.len(), *start, *end)? {
                    Some((from, to)) => out.extend(&items[from..to]),
                    // client-go stops at the first zero-length selection and
                    // returns what it has collected so far.
                    None => return Ok(out),
                }
            }
        }
        Step::Union(branches) => {
            for branch in branches {
                out.extend(eval_steps(input.clone(), branch)?);
            }
        }
        Step::Filter(filter) => {
            for value in input {
                let Value::Array(items) = value else {
                    return Err(err(format!(
                        "{} is not array or slice and cannot be filtered",
                        go_type(value)
                    )));
                };
                for item in items {
                    if filter_keeps(filter, item)? {
                        out.push(item);
                    }
                }
            }
        }
    }
    Ok(out)
}

/// Resolves `[start:end]` against a list of `len` items. `Ok(None)` is a
/// request for zero items.
fn slice_bounds(
    len: usize,
    start: Option<i64>,
    end: SliceEnd,
) -> Result<Option<(usize, usize)>, JsonPathError> {
    let n = i64::try_from(len).unwrap_or(i64::MAX);
    let mut from = start.unwrap_or(0);
    if from < 0 {
        from = from.saturating_add(n);
    }
    let to = match end {
        SliceEnd::Open => n,
        SliceEnd::At(e) if e < 0 => e.saturating_add(n),
        SliceEnd::At(e) => e,
        // `[-1]` derives an end of 0, which means "the end".
        SliceEnd::Derived(e) if e <= 0 => e.saturating_add(n),
        SliceEnd::Derived(e) => e,
    };
    if to == from {
        return Ok(None);
    }
    if from < 0 || from >= n {
        return Err(err(format!(
            "array index out of bounds: index {from}, length {n}"
        )));
    }
    if to < 0 || to > n {
        return Err(err(format!(
            "array index out of bounds: index {}, length {n}",
            to.saturating_sub(1)
        )));
    }
    if from > to {
        return Err(err(format!(
            "starting index {from} is greater than ending index {to}"
        )));
    }
    // Both bounds are within 0..=len here.
    Ok(Some((from as usize, to as usize)))
}

/// A comparable scalar, by Go's "basic kind".
#[derive(Debug, Clone, Copy, PartialEq)]
enum Scalar<'a> {
    Str(&'a str),
    Int(i64),
    Float(f64),
    Bool(bool),
    /// null, list or map: not comparable.
    Other,
}

fn scalar_of(value: &Value) -> Scalar<'_> {
    match value {
        Value::String(s) => Scalar::Str(s),
        Value::Bool(b) => Scalar::Bool(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => Scalar::Int(i),
            None => Scalar::Float(n.as_f64().unwrap_or(0.0)),
        },
        _ => Scalar::Other,
    }
}

/// Evaluates one side of a filter against a list item.
fn operand_values<'a>(
    operand: &'a Operand,
    item: &'a Value,
) -> Result<Vec<Scalar<'a>>, JsonPathError> {
    Ok(match operand {
        Operand::Path(steps) => eval_steps(vec![item], steps)?
            .into_iter()
            .map(scalar_of)
            .collect(),
        Operand::Str(s) => vec![Scalar::Str(s)],
        Operand::Int(i) => vec![Scalar::Int(*i)],
        Operand::Float(f) => vec![Scalar::Float(*f)],
        Operand::Bool(b) => vec![Scalar::Bool(*b)],
    })
}

fn single<'a>(values: Vec<Scalar<'a>>) -> Result<Option<Scalar<'a>>, JsonPathError> {
    match values.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some(*one)),
        _ => Err(err("can only compare one element at a time")),
    }
}

fn filter_keeps(filter: &Filter, item: &Value) -> Result<bool, JsonPathError> {
    let lefts = operand_values(&filter.left, item);
    if filter.op == FilterOp::Exists {
        // client-go returns the failing step's (non-empty) input on error,
        // so an erroring path counts as existing.
        return Ok(lefts.map_or(true, |l| !l.is_empty()));
    }
    let Some(left) = single(lefts?)? else {
        return Ok(false);
    };
    let Some(right) = single(operand_values(&filter.right, item)?)? else {
        return Ok(false);
    };
    compare(&filter.op, left, right)
}

/// `a < b` for same-kind scalars; booleans are not ordered.
fn less(left: Scalar<'_>, right: Scalar<'_>) -> Result<bool, JsonPathError> {
    match (left, right) {
        (Scalar::Str(a), Scalar::Str(b)) => Ok(a < b),
        (Scalar::Int(a), Scalar::Int(b)) => Ok(a < b),
        (Scalar::Float(a), Scalar::Float(b)) => Ok(a < b),
        _ => Err(err("invalid type for comparison")),
    }
}

/// Go's template comparison functions: both sides must have the same basic
/// kind (an int64 field does not equal the literal `1.0`, a string never
/// equals a number), otherwise the comparison is an error.
fn compare(op: &FilterOp, left: Scalar<'_>, right: Scalar<'_>) -> Result<bool, JsonPathError> {
    if left == Scalar::Other || right == Scalar::Other {
        return Err(err("invalid type for comparison"));
    }
    if std::mem::discriminant(&left) != std::mem::discriminant(&right) {
        return Err(err("incompatible types for comparison"));
    }
    let equal = left == right;
    match op {
        FilterOp::Eq => Ok(equal),
        FilterOp::Ne => Ok(!equal),
        FilterOp::Lt => less(left, right),
        FilterOp::Le => Ok(less(left, right)? || equal),
        FilterOp::Gt => Ok(!(less(left, right)? || equal)),
        FilterOp::Ge => Ok(!less(left, right)?),
        FilterOp::Exists => Ok(true),
        FilterOp::Unrecognized(other) => Err(err(format!("unrecognized filter operator {other}"))),
    }
}
