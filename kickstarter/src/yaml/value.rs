//! The value tree the loader builds, with the Python semantics the original tool applied to it:
//! `str()` for printing, truthiness for `if`, and `==` for key and repository-name matching.

use std::borrow::Cow;
use std::fmt;

use super::map::{HashKey, Map};

/// Where a node starts in its source file (1-based line and column).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Mark {
    /// 1-based line number.
    pub line: u32,
    /// 1-based column number.
    pub col: u32,
}

impl fmt::Display for Mark {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.col)
    }
}

/// A YAML node: a value and the place it was read from.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// The constructed value.
    pub value: Value,
    /// Where the node starts.
    pub mark: Mark,
}

/// A constructed YAML value, typed as PyYAML (YAML 1.1 resolution) would type it.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `~`, `null`, or an empty value.
    Null,
    /// `yes`/`no`/`on`/`off`/`true`/`false` in any of PyYAML's spellings.
    Bool(bool),
    /// An integer (decimal, `0x`, `0b`, leading-zero octal or sexagesimal `1:30`).
    Int(i128),
    /// A float.
    Float(f64),
    /// A string.
    Str(String),
    /// A `!!timestamp`, kept as Python's `str()` of the date or datetime it becomes.
    Timestamp(String),
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping.
    Map(Map),
}

impl Node {
    /// A node built by the program rather than read from a file.
    pub fn synthetic(value: Value) -> Self {
        Node {
            value,
            mark: Mark::default(),
        }
    }

    /// A string node built by the program.
    pub fn string(s: impl Into<String>) -> Self {
        Self::synthetic(Value::Str(s.into()))
    }

    /// The mapping inside this node, if it is one.
    pub fn as_map(&self) -> Option<&Map> {
        match &self.value {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    /// The sequence inside this node, if it is one.
    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.value {
            Value::Seq(s) => Some(s),
            _ => None,
        }
    }

    /// The string inside this node, if it is a string.
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }
}

impl Value {
    /// Python truthiness (`if value:`).
    pub fn truthy(&self) -> bool {
        match self {
            Value::Null => false,
            Value::Bool(b) => *b,
            Value::Int(i) => *i != 0,
            Value::Float(f) => *f != 0.0,
            Value::Str(s) => !s.is_empty(),
            Value::Timestamp(_) => true,
            Value::Seq(s) => !s.is_empty(),
            Value::Map(m) => !m.is_empty(),
        }
    }

    /// The hashable form of a scalar under Python equality; `None` for collections.
    pub fn hash_key(&self) -> Option<HashKey<'_>> {
        Some(match self {
            Value::Null => HashKey::Null,
            Value::Bool(b) => HashKey::Int(i128::from(*b)),
            Value::Int(i) => HashKey::Int(*i),
            // An integral float equals the integer of the same value (1.0 == 1).
            #[allow(clippy::cast_possible_truncation)]
            Value::Float(f) if f.fract() == 0.0 && f.abs() < 1e38 => HashKey::Int(*f as i128),
            Value::Float(f) => HashKey::Float(f.to_bits()),
            Value::Str(s) => HashKey::Str(Cow::Borrowed(s)),
            Value::Timestamp(s) => HashKey::Timestamp(Cow::Borrowed(s)),
            Value::Seq(_) | Value::Map(_) => return None,
        })
    }

    /// A short name of the type, for error messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Int(_) => "integer",
            Value::Float(_) => "float",
            Value::Str(_) => "string",
            Value::Timestamp(_) => "timestamp",
            Value::Seq(_) => "list",
            Value::Map(_) => "mapping",
        }
    }

    /// Whether this is a scalar (anything but a list or a mapping).
    pub fn is_scalar(&self) -> bool {
        !matches!(self, Value::Seq(_) | Value::Map(_))
    }

    /// What the original Cheetah template printed for a scalar: Python 2 `str()`, with `None`
    /// printed as the empty string (Cheetah's default output filter). `None` for collections,
    /// whose Python `repr` no template should ever print.
    pub fn template_str(&self) -> Option<String> {
        Some(match self {
            Value::Null => String::new(),
            Value::Bool(true) => "True".to_owned(),
            Value::Bool(false) => "False".to_owned(),
            Value::Int(i) => i.to_string(),
            Value::Float(f) => py2_float_str(*f),
            Value::Str(s) | Value::Timestamp(s) => s.clone(),
            Value::Seq(_) | Value::Map(_) => return None,
        })
    }
}

/// Python `==` between two YAML values, as used for dict keys and `$rr.Name == $r`.
/// `True == 1 == 1.0`, but `"1" != 1`; collections compare element-wise.
pub fn py_eq(a: &Value, b: &Value) -> bool {
    fn num(v: &Value) -> Option<f64> {
        match v {
            Value::Bool(b) => Some(f64::from(u8::from(*b))),
            // Precision loss above 2^53 only matters for equal-looking giant numbers.
            #[allow(clippy::cast_precision_loss)]
            Value::Int(i) => Some(*i as f64),
            Value::Float(f) => Some(*f),
            _ => None,
        }
    }
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => x == y,
        (Value::Str(x), Value::Str(y)) => x == y,
        (Value::Timestamp(x), Value::Timestamp(y)) => x == y,
        (Value::Null, Value::Null) => true,
        (Value::Seq(x), Value::Seq(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| py_eq(&p.value, &q.value))
        }
        (Value::Map(x), Value::Map(y)) => {
            x.len() == y.len()
                && x.iter().all(|(k, v)| {
                    y.iter()
                        .any(|(k2, v2)| py_eq(&k.value, &k2.value) && py_eq(&v.value, &v2.value))
                })
        }
        _ => match (num(a), num(b)) {
            (Some(x), Some(y)) => x == y,
            _ => false,
        },
    }
}

/// Python 2 `str(float)`: 12 significant digits (`%.12g`), with `.0` added when the result
/// would otherwise look like an integer.
pub fn py2_float_str(f: f64) -> String {
    if f.is_nan() {
        return "nan".to_owned();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf" } else { "-inf" }.to_owned();
    }
    let s = format_g(f, 12);
    if s.contains(['.', 'e', 'n', 'i']) {
        s
    } else {
        format!("{s}.0")
    }
}

/// C `printf("%.{prec}g", f)` for finite `f`.
fn format_g(f: f64, prec: usize) -> String {
    if f == 0.0 {
        return if f.is_sign_negative() { "-0" } else { "0" }.to_owned();
    }
    // Round to `prec` significant digits first; the exponent of the rounded value decides the
    // style, exactly as C does.
    let sci = format!("{:.*e}", prec - 1, f);
    let (mantissa, exp) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let prec_i = i32::try_from(prec).unwrap_or(i32::MAX);
    if exp < -4 || exp >= prec_i {
        let mantissa = trim_fraction(mantissa);
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exp.unsigned_abs())
    } else {
        let decimals = usize::try_from(prec_i - 1 - exp).unwrap_or(0);
        trim_fraction(&format!("{f:.decimals$}")).to_owned()
    }
}

fn trim_fraction(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float_str_matches_python2() {
        assert_eq!(py2_float_str(1.0), "1.0");
        assert_eq!(py2_float_str(1.2), "1.2");
        assert_eq!(py2_float_str(0.1), "0.1");
        assert_eq!(py2_float_str(1e16), "1e+16");
        assert_eq!(py2_float_str(123_456_789_012.0), "123456789012.0");
        assert_eq!(py2_float_str(1_234_567_890_123.0), "1.23456789012e+12");
        assert_eq!(py2_float_str(0.0001), "0.0001");
        assert_eq!(py2_float_str(0.00001), "1e-05");
        assert_eq!(py2_float_str(-2.5), "-2.5");
        assert_eq!(py2_float_str(f64::INFINITY), "inf");
        assert_eq!(py2_float_str(1.0 / 3.0), "0.333333333333");
    }

    #[test]
    fn python_equality_crosses_numeric_types_only() {
        assert!(py_eq(&Value::Bool(true), &Value::Int(1)));
        assert!(py_eq(&Value::Int(1), &Value::Float(1.0)));
        assert!(!py_eq(&Value::Str("1".into()), &Value::Int(1)));
        assert!(!py_eq(&Value::Float(f64::NAN), &Value::Float(f64::NAN)));
    }
}
