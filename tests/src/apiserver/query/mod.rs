//! Selectors, printer-column JSONPath and Table rendering for a loopback
//! kube-apiserver stand-in.
//!
//! * [`LabelSelector`]: the `labelSelector=` syntax and the structured
//!   `matchLabels`/`matchExpressions` form.
//! * [`FieldSelector`]: `fieldSelector=` with per-kind [`FieldRules`].
//! * [`JsonPath`]: the client-go JSONPath dialect used by CRD
//!   `additionalPrinterColumns`.
//! * [`Column`], [`crd_columns`], [`builtin_columns`] and [`table`]: the
//!   `meta.k8s.io/v1` Table kubectl asks for, with [`negotiate`] /
//!   [`wants_table`] reading the `Accept` header.
//!
//! Every function is pure and works on [`serde_json::Value`]; error
//! messages are the texts kube-apiserver sends with its 400 responses.

mod accept;
mod builtin;
mod catalog;
mod columns;
mod descriptions;
mod duration;
mod fields;
mod gofmt;
mod jsonpath;
mod jsonpath_eval;
mod label_parser;
mod labels;
mod pod;
mod printers;
mod table;
mod validation;

#[cfg(test)]
mod tests;

pub use accept::{ResponseFormat, negotiate, wants_table};
pub use builtin::BuiltinCell;
pub use catalog::builtin_columns;
pub use columns::{CellSource, Column, crd_column, crd_columns, name_column};
pub use duration::{age, format_rfc3339_utc, human_duration, is_go_zero_time, parse_rfc3339};
pub use fields::{FieldOperator, FieldRules, FieldSelector, FieldSelectorError, FieldTerm};
pub use jsonpath::{JsonPath, JsonPathError};
pub use labels::{LabelSelector, LabelSelectorError, Operator, Requirement};
pub use table::{IncludeObject, TableMeta, partial_object_metadata, table};
