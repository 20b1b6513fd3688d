//! Label selectors: the `labelSelector=` query parameter and the structured
//! `{matchLabels, matchExpressions}` form used inside objects.
//!
//! Semantics follow apimachinery's `labels` package: requirements are ANDed,
//! `!=` and `notin` also match objects that lack the label, `>`/`<` compare
//! integers, and a parsed selector is kept sorted by key (stable, so
//! repeated keys keep their order) which makes its [`Display`] form
//! canonical: printing and re-parsing gives back an equal selector.

use super::label_parser;
use super::validation::{
    aggregate, go_string_slice, invalid, invalid_str, label_key_errors, label_value_errors,
};
use serde_json::{Map, Value};
use std::fmt;

/// A label selector that failed to parse or validate. The message is the
/// text kube-apiserver puts in its 400 response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct LabelSelectorError(pub String);

/// How a [`Requirement`] relates a label to its values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operator {
    /// `key in (a,b)`: the label exists and has one of the values.
    In,
    /// `key notin (a,b)`: the label is absent or has none of the values.
    NotIn,
    /// `key=a`.
    Equals,
    /// `key==a` (same meaning as `=`, kept apart for canonical printing).
    DoubleEquals,
    /// `key!=a`: the label is absent or has another value.
    NotEquals,
    /// `key`: the label exists.
    Exists,
    /// `!key`: the label does not exist.
    DoesNotExist,
    /// `key>5`: the label exists and is an integer greater than the value.
    GreaterThan,
    /// `key<5`: the label exists and is an integer less than the value.
    LessThan,
}

/// One condition of a selector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    key: String,
    operator: Operator,
    /// Sorted and de-duplicated, as the parser's string set produces them.
    values: Vec<String>,
}

impl Requirement {
    /// Builds a requirement after validating it like apimachinery's
    /// `NewRequirement`. Errors name the values by their position in
    /// `values` as given; the stored values are then sorted and
    /// de-duplicated (the parser's string set already is).
    pub(super) fn new(
        key: &str,
        operator: Operator,
        mut values: Vec<String>,
    ) -> Result<Self, LabelSelectorError> {
        let mut errs = Vec::new();
        let key_errs = label_key_errors(key);
        if !key_errs.is_empty() {
            errs.push(invalid_str("key", key, &key_errs.join("; ")));
        }
        match operator {
            Operator::In | Operator::NotIn if values.is_empty() => errs.push(invalid(
                "values",
                &go_string_slice(None),
                "for 'in', 'notin' operators, values set can't be empty",
            )),
            Operator::Exists | Operator::DoesNotExist if !values.is_empty() => errs.push(invalid(
                "values",
                &go_string_slice(Some(&values)),
                "values set must be empty for exists and does not exist",
            )),
            Operator::GreaterThan | Operator::LessThan => {
                for (i, v) in values.iter().enumerate() {
                    if v.parse::<i64>().is_err() {
                        errs.push(invalid_str(
                            &format!("values[{i}]"),
                            v,
                            "for 'Gt', 'Lt' operators, the value must be an integer",
                        ));
                    }
                }
            }
            _ => {}
        }
        for (i, v) in values.iter().enumerate() {
            let value_errs = label_value_errors(v);
            if !value_errs.is_empty() {
                errs.push(invalid_str(
                    &format!("values[{i}][{key}]"),
                    v,
                    &value_errs.join("; "),
                ));
            }
        }
        if let Some(message) = aggregate(errs) {
            return Err(LabelSelectorError(message));
        }
        values.sort();
        values.dedup();
        Ok(Self {
            key: key.to_owned(),
            operator,
            values,
        })
    }

    /// The label key this requirement tests.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The operator.
    pub fn operator(&self) -> Operator {
        self.operator
    }

    /// The values (sorted, de-duplicated; empty for `Exists`/`DoesNotExist`).
    pub fn values(&self) -> &[String] {
        &self.values
    }

    /// Whether `labels` satisfy this requirement.
    pub fn matches(&self, labels: &Map<String, Value>) -> bool {
        // A non-string label value cannot come from a valid object; treat it
        // as absent rather than guessing a textual form.
        let label = labels.get(&self.key).and_then(Value::as_str);
        let has_value = |v: &str| self.values.iter().any(|x| x == v);
        match self.operator {
            Operator::In | Operator::Equals | Operator::DoubleEquals => {
                label.is_some_and(has_value)
            }
            Operator::NotIn | Operator::NotEquals => !label.is_some_and(has_value),
            Operator::Exists => labels.contains_key(&self.key),
            Operator::DoesNotExist => !labels.contains_key(&self.key),
            Operator::GreaterThan | Operator::LessThan => {
                let (Some(actual), [wanted]) = (label, self.values.as_slice()) else {
                    return false;
                };
                match (actual.parse::<i64>(), wanted.parse::<i64>()) {
                    (Ok(a), Ok(w)) if self.operator == Operator::GreaterThan => a > w,
                    (Ok(a), Ok(w)) => a < w,
                    _ => false,
                }
            }
        }
    }
}

impl fmt::Display for Requirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.operator == Operator::DoesNotExist {
            f.write_str("!")?;
        }
        f.write_str(&self.key)?;
        let joined = self.values.join(",");
        match self.operator {
            Operator::Exists | Operator::DoesNotExist => Ok(()),
            Operator::Equals => write!(f, "={joined}"),
            Operator::DoubleEquals => write!(f, "=={joined}"),
            Operator::NotEquals => write!(f, "!={joined}"),
            Operator::GreaterThan => write!(f, ">{joined}"),
            Operator::LessThan => write!(f, "<{joined}"),
            Operator::In => write!(f, " in ({joined})"),
            Operator::NotIn => write!(f, " notin ({joined})"),
        }
    }
}

/// A parsed label selector: all requirements must hold.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LabelSelector {
    requirements: Vec<Requirement>,
    /// A nil structured selector selects nothing (apimachinery's `Nothing`).
    nothing: bool,
}

impl LabelSelector {
    /// Parses the `labelSelector=` query syntax. The empty string selects
    /// everything.
    pub fn parse(text: &str) -> Result<Self, LabelSelectorError> {
        let mut requirements = label_parser::parse(text).map_err(LabelSelectorError)?;
        requirements.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(Self {
            requirements,
            nothing: false,
        })
    }

    /// Builds a selector from the structured form found in objects
    /// (`spec.selector` of a Deployment, a PodDisruptionBudget, ...):
    /// `{matchLabels: {k: v}, matchExpressions: [{key, operator, values}]}`.
    ///
    /// `None` or JSON null (an unset selector) selects nothing; an empty
    /// object selects everything, as apimachinery's `LabelSelectorAsSelector`.
    pub fn from_structured(selector: Option<&Value>) -> Result<Self, LabelSelectorError> {
        let map = match selector {
            None | Some(Value::Null) => {
                return Ok(Self {
                    requirements: Vec::new(),
                    nothing: true,
                });
            }
            Some(Value::Object(map)) => map,
            Some(_) => return Err(malformed("the selector must be an object")),
        };
        let mut requirements = Vec::new();
        match map.get("matchLabels") {
            None | Some(Value::Null) => {}
            Some(Value::Object(labels)) => {
                // Go iterates a map here; sorting keeps the first reported
                // error deterministic.
                let mut keys: Vec<&String> = labels.keys().collect();
                keys.sort();
                for key in keys {
                    let value = labels
                        .get(key)
                        .and_then(Value::as_str)
                        .ok_or_else(|| malformed("matchLabels values must be strings"))?;
                    requirements.push(Requirement::new(
                        key,
                        Operator::Equals,
                        vec![value.to_owned()],
                    )?);
                }
            }
            Some(_) => return Err(malformed("matchLabels must be an object")),
        }
        match map.get("matchExpressions") {
            None | Some(Value::Null) => {}
            Some(Value::Array(exprs)) => {
                for expr in exprs {
                    requirements.push(structured_expression(expr)?);
                }
            }
            Some(_) => return Err(malformed("matchExpressions must be a list")),
        }
        requirements.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(Self {
            requirements,
            nothing: false,
        })
    }

    /// The requirements, sorted by key.
    pub fn requirements(&self) -> &[Requirement] {
        &self.requirements
    }

    /// True when the selector does not restrict anything.
    pub fn is_everything(&self) -> bool {
        !self.nothing && self.requirements.is_empty()
    }

    /// Whether an object with these labels is selected. A missing label map
    /// is passed as an empty one.
    pub fn matches(&self, labels: &Map<String, Value>) -> bool {
        !self.nothing && self.requirements.iter().all(|r| r.matches(labels))
    }

    /// Whether `object` (using its `metadata.labels`) is selected.
    pub fn matches_object(&self, object: &Value) -> bool {
        let empty = Map::new();
        let labels = object
            .pointer("/metadata/labels")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        self.matches(labels)
    }
}

impl fmt::Display for LabelSelector {
    /// Canonical form: requirements sorted by key, joined with `,`, values
    /// sorted (the same text apimachinery's `Selector.String()` produces).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, r) in self.requirements.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{r}")?;
        }
        Ok(())
    }
}

fn malformed(why: &str) -> LabelSelectorError {
    LabelSelectorError(format!("invalid label selector: {why}"))
}

/// One `matchExpressions` entry, validated like `LabelSelectorAsSelector`.
fn structured_expression(expr: &Value) -> Result<Requirement, LabelSelectorError> {
    let key = expr
        .get("key")
        .and_then(Value::as_str)
        .ok_or_else(|| malformed("matchExpressions[].key must be a string"))?;
    let op_text = expr.get("operator").and_then(Value::as_str).unwrap_or("");
    let operator = match op_text {
        "In" => Operator::In,
        "NotIn" => Operator::NotIn,
        "Exists" => Operator::Exists,
        "DoesNotExist" => Operator::DoesNotExist,
        other => {
            return Err(LabelSelectorError(format!(
                "{} is not a valid label selector operator",
                super::gofmt::go_quote(other)
            )));
        }
    };
    let values = match expr.get("values") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| v.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| malformed("matchExpressions[].values must be strings"))?,
        Some(_) => return Err(malformed("matchExpressions[].values must be a list")),
    };
    Requirement::new(key, operator, values)
}
