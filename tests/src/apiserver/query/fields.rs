//! Field selectors: the `fieldSelector=` query parameter.
//!
//! Syntax (apimachinery's `fields.ParseSelector`): comma-separated terms
//! `field=value`, `field==value` or `field!=value`; in values, `\`, `,` and
//! `=` must be escaped with a backslash. No whitespace is trimmed, so
//! `a = b` names the field `a `. Terms are processed in sorted order, so
//! when several are wrong the error names the alphabetically first one.
//!
//! Which fields a resource accepts is decided per kind, like the real
//! server's field-label conversion functions; the wording of the rejection
//! differs between kinds with a registered conversion (`field label not
//! supported: X`) and the generic fallback (`"X" is not a known field
//! selector: only "metadata.name", "metadata.namespace"`).

use super::gofmt::go_quote;
use serde_json::Value;
use std::fmt;

/// A field selector that failed to parse or names an unsupported field; the
/// message is the real server's 400 text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FieldSelectorError(pub String);

/// Comparison of one term.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldOperator {
    /// `field=value` or `field==value`.
    Equals,
    /// `field!=value`.
    NotEquals,
}

/// One `field<op>value` term, after unescaping and field-label conversion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldTerm {
    /// The (converted) field label, e.g. `status.phase`.
    pub field: String,
    /// The comparison.
    pub operator: FieldOperator,
    /// The unescaped value.
    pub value: String,
}

/// How a resource reads the values of its selectable fields. Most fields
/// are plain dotted paths; the variants cover the few the real server
/// computes differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Extraction {
    Plain,
    Pod,
    Event,
    Secret,
    Node,
    ReplicationController,
}

/// Which field labels a resource accepts and how it words a rejection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldRules {
    labels: &'static [&'static str],
    /// `true`: `field label not supported: X`; `false`: the generic
    /// `"X" is not a known field selector: ...` text.
    registered: bool,
    extraction: Extraction,
}

const META: &[&str] = &["metadata.name", "metadata.namespace"];
const POD: &[&str] = &[
    "metadata.name",
    "metadata.namespace",
    "spec.nodeName",
    "spec.restartPolicy",
    "spec.schedulerName",
    "spec.serviceAccountName",
    "spec.hostNetwork",
    "status.phase",
    "status.podIP",
    "status.podIPs",
    "status.nominatedNodeName",
    // Legacy alias, converted to spec.nodeName.
    "spec.host",
];
const EVENT: &[&str] = &[
    "involvedObject.kind",
    "involvedObject.namespace",
    "involvedObject.name",
    "involvedObject.uid",
    "involvedObject.apiVersion",
    "involvedObject.resourceVersion",
    "involvedObject.fieldPath",
    "reason",
    "reportingComponent",
    "source",
    "type",
    "metadata.namespace",
    "metadata.name",
];
const SECRET: &[&str] = &["type", "metadata.namespace", "metadata.name"];
const NAMESPACE: &[&str] = &["status.phase", "metadata.name"];
const SERVICE: &[&str] = &[
    "metadata.namespace",
    "metadata.name",
    "spec.clusterIP",
    "spec.type",
];
const NODE: &[&str] = &["metadata.name", "spec.unschedulable"];
const REPLICATION_CONTROLLER: &[&str] = &["metadata.name", "metadata.namespace", "status.replicas"];

impl FieldRules {
    /// The rules kube-apiserver applies to `kind` in API group `group`
    /// (`""` for the core group). Kinds without a dedicated conversion
    /// (ConfigMap, Lease, custom resources, ...) accept only
    /// `metadata.name` and `metadata.namespace`.
    pub fn for_kind(group: &str, kind: &str) -> Self {
        let (labels, extraction) = match (group, kind) {
            ("", "Pod") => (POD, Extraction::Pod),
            ("", "Event") => (EVENT, Extraction::Event),
            ("", "Secret") => (SECRET, Extraction::Secret),
            ("", "Namespace") => (NAMESPACE, Extraction::Plain),
            ("", "Service") => (SERVICE, Extraction::Plain),
            ("", "Node") => (NODE, Extraction::Node),
            ("", "ReplicationController") => {
                (REPLICATION_CONTROLLER, Extraction::ReplicationController)
            }
            _ => {
                return Self {
                    labels: META,
                    registered: false,
                    extraction: Extraction::Plain,
                };
            }
        };
        Self {
            labels,
            registered: true,
            extraction,
        }
    }

    /// The accepted field labels.
    pub fn labels(&self) -> &'static [&'static str] {
        self.labels
    }

    fn reject(&self, label: &str) -> FieldSelectorError {
        if self.registered {
            FieldSelectorError(format!("field label not supported: {label}"))
        } else {
            FieldSelectorError(format!(
                "{} is not a known field selector: only \"metadata.name\", \"metadata.namespace\"",
                go_quote(label)
            ))
        }
    }
}

/// A parsed field selector: every term must hold.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FieldSelector {
    terms: Vec<FieldTerm>,
    extraction: Option<Extraction>,
}

/// Splits on commas not preceded by a backslash escape.
fn split_terms(text: &str) -> Vec<&str> {
    if text.is_empty() {
        return Vec::new();
    }
    let mut terms = Vec::new();
    let mut start = 0;
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == ',' {
            terms.push(&text[start..i]);
            start = i + 1;
        }
    }
    terms.push(&text[start..]);
    terms
}

/// Splits a term at the first operator; at each position `!=` is tried
/// before `==` before `=`, so `a!==b` is `a` `!=` `=b`.
fn split_term(term: &str) -> Option<(&str, FieldOperator, &str)> {
    for (i, _) in term.char_indices() {
        let rest = &term[i..];
        for (op, operator) in [
            ("!=", FieldOperator::NotEquals),
            ("==", FieldOperator::Equals),
            ("=", FieldOperator::Equals),
        ] {
            if let Some(value) = rest.strip_prefix(op) {
                return Some((&term[..i], operator, value));
            }
        }
    }
    None
}

fn unescape(value: &str) -> Result<String, FieldSelectorError> {
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(e @ ('\\' | ',' | '=')) => out.push(e),
                Some(e) => {
                    return Err(FieldSelectorError(format!(
                        "invalid field selector: invalid escape sequence: \\{e}"
                    )));
                }
                None => {
                    return Err(FieldSelectorError(
                        "invalid field selector: invalid escape sequence: \\".to_owned(),
                    ));
                }
            },
            // Go formats the offending rune with %v, i.e. as its code point.
            ',' | '=' => {
                return Err(FieldSelectorError(format!(
                    "invalid field selector: unescaped character in value: {}",
                    c as u32
                )));
            }
            c => out.push(c),
        }
    }
    Ok(out)
}

fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace(',', "\\,")
        .replace('=', "\\=")
}

impl FieldSelector {
    /// Parses `text`, accepting only the field labels in `supported`;
    /// anything else is rejected with `field label not supported: X`.
    /// Values are read from the object by plain dotted paths.
    pub fn parse(text: &str, supported: &[&str]) -> Result<Self, FieldSelectorError> {
        let terms = Self::parse_terms(text)?;
        for term in &terms {
            if !supported.contains(&term.field.as_str()) {
                return Err(FieldSelectorError(format!(
                    "field label not supported: {}",
                    term.field
                )));
            }
        }
        Ok(Self {
            terms,
            extraction: None,
        })
    }

    /// Parses `text` with the accepted labels, rejection wording and value
    /// extraction of one kind (see [`FieldRules::for_kind`]).
    pub fn parse_for(text: &str, rules: &FieldRules) -> Result<Self, FieldSelectorError> {
        let mut terms = Self::parse_terms(text)?;
        for term in &mut terms {
            if !rules.labels.contains(&term.field.as_str()) {
                return Err(rules.reject(&term.field));
            }
            if rules.extraction == Extraction::Pod && term.field == "spec.host" {
                term.field = "spec.nodeName".to_owned();
            }
        }
        Ok(Self {
            terms,
            extraction: Some(rules.extraction),
        })
    }

    /// Syntax only: split, sort, split each term and unescape its value.
    /// All syntax errors are reported before any field-label error, as in
    /// the real server (which converts labels after parsing).
    fn parse_terms(text: &str) -> Result<Vec<FieldTerm>, FieldSelectorError> {
        let mut parts = split_terms(text);
        parts.sort_unstable();
        let mut terms = Vec::new();
        for part in parts.into_iter().filter(|p| !p.is_empty()) {
            let (field, operator, raw) = split_term(part).ok_or_else(|| {
                FieldSelectorError(format!(
                    "invalid selector: '{text}'; can't understand '{part}'"
                ))
            })?;
            terms.push(FieldTerm {
                field: field.to_owned(),
                operator,
                value: unescape(raw)?,
            });
        }
        Ok(terms)
    }

    /// The terms, in the (sorted) order they are evaluated.
    pub fn terms(&self) -> &[FieldTerm] {
        &self.terms
    }

    /// True when the selector does not restrict anything.
    pub fn is_everything(&self) -> bool {
        self.terms.is_empty()
    }

    /// Whether `object` is selected. A field missing from the object
    /// compares as the empty string.
    pub fn matches(&self, object: &Value) -> bool {
        let extraction = self.extraction.unwrap_or(Extraction::Plain);
        self.terms.iter().all(|t| {
            let actual = field_value(object, &t.field, extraction);
            match t.operator {
                FieldOperator::Equals => actual == t.value,
                FieldOperator::NotEquals => actual != t.value,
            }
        })
    }
}

impl fmt::Display for FieldSelector {
    /// Canonical form: sorted terms, `=`/`!=`, values escaped.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, t) in self.terms.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            let op = match t.operator {
                FieldOperator::Equals => "=",
                FieldOperator::NotEquals => "!=",
            };
            write!(f, "{}{op}{}", t.field, escape(&t.value))?;
        }
        Ok(())
    }
}

/// Text of a scalar at a dotted path; missing or null is `""`.
fn plain(object: &Value, path: &str) -> Option<String> {
    let mut cur = object;
    for part in path.split('.') {
        cur = cur.get(part)?;
    }
    match cur {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The value the real server's selectable-field set holds for `field`.
fn field_value(object: &Value, field: &str, extraction: Extraction) -> String {
    let special = match (extraction, field) {
        // The API server reads the primary IP from podIPs; v1 objects that
        // only carry status.podIP are treated as if podIPs had been filled
        // in from it by conversion.
        (Extraction::Pod, "status.podIP") => object
            .pointer("/status/podIPs/0/ip")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .or_else(|| plain(object, "status.podIP")),
        // Accepted by the conversion function but absent from the field
        // set, so it always compares as "".
        (Extraction::Pod, "status.podIPs") => None,
        (Extraction::Pod, "spec.hostNetwork") | (Extraction::Node, "spec.unschedulable") => {
            Some(plain(object, field).unwrap_or_else(|| "false".to_owned()))
        }
        (Extraction::Event, "source") => plain(object, "source.component")
            .filter(|s| !s.is_empty())
            .or_else(|| plain(object, "reportingComponent")),
        // Secrets are stored with their default type.
        (Extraction::Secret, "type") => Some(
            plain(object, "type")
                .filter(|t| !t.is_empty())
                .unwrap_or_else(|| "Opaque".to_owned()),
        ),
        // An int32 in Go: absent means 0.
        (Extraction::ReplicationController, "status.replicas") => {
            Some(plain(object, field).unwrap_or_else(|| "0".to_owned()))
        }
        _ => plain(object, field),
    };
    special.unwrap_or_default()
}
