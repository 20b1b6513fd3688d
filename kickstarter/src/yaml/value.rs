//! The value tree the loader builds, with the Python semantics the original tool applied to it:
//! `str()` for printing, truthiness for `if`, and `==` for key and repository-name matching.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;

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

/// A mapping with Python `dict` semantics: keys are unique under Python equality and a repeated
/// key replaces the earlier value in place (PyYAML keeps the last of duplicate keys). Lookups
/// are hashed, so a hostile file with many keys cannot make loading quadratic.
#[derive(Debug, Clone, Default)]
pub struct Map {
    entries: Vec<(Node, Node)>,
    /// Hashed positions, built once the map outgrows [`INDEX_FROM`] entries; small maps (the
    /// usual template section) are scanned, which is faster than hashing them.
    index: Option<Index>,
}

/// Maps with more entries than this get a hashed index.
const INDEX_FROM: usize = 16;

#[derive(Debug, Clone, Default)]
struct Index {
    /// Positions of string keys (a string never equals a non-string in Python); looked up by
    /// `&str` without allocating.
    strings: HashMap<String, usize>,
    /// Positions of the other scalar keys.
    others: HashMap<HashKey<'static>, usize>,
}

impl Index {
    fn add(&mut self, key: &Value, at: usize) {
        match key {
            Value::Str(s) => {
                self.strings.insert(s.clone(), at);
            }
            other => {
                if let Some(h) = other.hash_key() {
                    self.others.insert(h.into_owned(), at);
                }
            }
        }
    }

    fn find(&self, key: &Value) -> Option<usize> {
        match key {
            Value::Str(s) => self.strings.get(s.as_str()).copied(),
            // Only timestamp keys allocate here; they are rare.
            other => other
                .hash_key()
                .and_then(|h| self.others.get(&h.into_owned()).copied()),
        }
    }
}

impl PartialEq for Map {
    fn eq(&self, other: &Self) -> bool {
        self.entries == other.entries
    }
}

/// A hashable form of a scalar that is equal for values Python's `==` finds equal
/// (`True == 1 == 1.0`, `"1" != 1`). Collections have none: they are unhashable in Python.
/// It borrows the value's text, so building one allocates nothing.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum HashKey<'a> {
    /// `None`.
    Null,
    /// A bool, int or integral float, as an integer.
    Int(i128),
    /// A float that is not integral, by its bits (NaN never equals anything, see [`py_eq`]).
    Float(u64),
    /// A string.
    Str(Cow<'a, str>),
    /// A timestamp, by its printed form.
    Timestamp(Cow<'a, str>),
}

impl<'a> HashKey<'a> {
    /// The key of a string.
    pub fn str(s: &'a str) -> Self {
        HashKey::Str(Cow::Borrowed(s))
    }

    /// The same key owning its text.
    pub fn into_owned(self) -> HashKey<'static> {
        match self {
            HashKey::Null => HashKey::Null,
            HashKey::Int(i) => HashKey::Int(i),
            HashKey::Float(f) => HashKey::Float(f),
            HashKey::Str(s) => HashKey::Str(Cow::Owned(s.into_owned())),
            HashKey::Timestamp(s) => HashKey::Timestamp(Cow::Owned(s.into_owned())),
        }
    }
}

impl Map {
    /// An empty mapping.
    pub fn new() -> Self {
        Self::default()
    }

    /// Inserts or replaces `key` (Python `d[key] = value`). Keys must be scalars (the loader
    /// refuses collections as keys); a NaN key is always a new entry, as in Python.
    pub fn insert(&mut self, key: Node, value: Node) {
        let found = match &self.index {
            Some(index) => index.find(&key.value),
            None => self
                .entries
                .iter()
                .position(|(k, _)| py_eq(&k.value, &key.value)),
        };
        // NaN hashes by its bits but equals nothing, so it is always a new key.
        match found.filter(|&i| py_eq(&self.entries[i].0.value, &key.value)) {
            Some(i) => self.entries[i].1 = value,
            None => {
                let at = self.entries.len();
                if let Some(index) = &mut self.index {
                    index.add(&key.value, at);
                }
                self.entries.push((key, value));
                if self.index.is_none() && self.entries.len() > INDEX_FROM {
                    let mut index = Index::default();
                    for (i, (k, _)) in self.entries.iter().enumerate() {
                        index.add(&k.value, i);
                    }
                    self.index = Some(index);
                }
            }
        }
    }

    fn position(&self, key: &str) -> Option<usize> {
        match &self.index {
            Some(index) => index.strings.get(key).copied(),
            None => self
                .entries
                .iter()
                .position(|(k, _)| matches!(&k.value, Value::Str(s) if s == key)),
        }
    }

    /// The value stored under the string key `key` (Python `d.get(key)`).
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|(_, v)| v)
    }

    /// The key node and value stored under the string key `key`.
    pub fn entry(&self, key: &str) -> Option<(&Node, &Node)> {
        self.position(key)
            .map(|i| (&self.entries[i].0, &self.entries[i].1))
    }

    /// A mutable reference to the value under the string key `key`.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut Node> {
        self.position(key).map(|i| &mut self.entries[i].1)
    }

    /// Whether the string key exists (Python `d.has_key(key)`), whatever its value.
    pub fn has(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// Removes the string key, returning its value.
    pub fn remove(&mut self, key: &str) -> Option<Node> {
        let pos = self.position(key)?;
        let (_, value) = self.entries.remove(pos);
        if let Some(index) = &mut self.index {
            index.strings.remove(key);
            // Positions after the removed entry shift down by one.
            for i in index.strings.values_mut().chain(index.others.values_mut()) {
                if *i > pos {
                    *i -= 1;
                }
            }
        }
        Some(value)
    }

    /// Entries in insertion order.
    pub fn iter(&self) -> impl Iterator<Item = (&Node, &Node)> {
        self.entries.iter().map(|(k, v)| (k, v))
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the mapping is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Python `dict.update`: every entry of `other` replaces or adds to `self`.
    pub fn update(&mut self, other: &Map) {
        for (k, v) in &other.entries {
            self.insert(k.clone(), v.clone());
        }
    }
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

    #[test]
    fn hash_keys_agree_with_python_equality() {
        let values = [
            Value::Bool(true),
            Value::Int(1),
            Value::Float(1.0),
            Value::Str("1".into()),
            Value::Float(1.5),
            Value::Null,
            Value::Int(0),
            Value::Bool(false),
        ];
        for a in &values {
            for b in &values {
                assert_eq!(a.hash_key() == b.hash_key(), py_eq(a, b), "{a:?} {b:?}");
            }
        }
        let mut m = Map::new();
        m.insert(Node::synthetic(Value::Int(1)), Node::string("int"));
        m.insert(Node::synthetic(Value::Bool(true)), Node::string("bool"));
        assert_eq!(m.len(), 1);
        m.insert(Node::string("a"), Node::string("x"));
        m.insert(Node::string("b"), Node::string("y"));
        assert_eq!(m.remove("a").unwrap().as_str(), Some("x"));
        assert_eq!(m.get("b").unwrap().as_str(), Some("y"));
        assert!(m.get("a").is_none());
        // Past the indexing threshold the same rules hold.
        for i in 0..100 {
            m.insert(
                Node::string(format!("k{i}")),
                Node::synthetic(Value::Int(i)),
            );
        }
        m.insert(Node::synthetic(Value::Float(1.0)), Node::string("float"));
        assert_eq!(m.len(), 102);
        assert_eq!(m.remove("k10").unwrap().value, Value::Int(10));
        assert_eq!(m.get("k99").unwrap().value, Value::Int(99));
        assert_eq!(m.iter().next().unwrap().1.as_str(), Some("float"));
    }

    #[test]
    fn map_keeps_last_duplicate_in_first_position() {
        let mut m = Map::new();
        m.insert(Node::string("a"), Node::string("1"));
        m.insert(Node::string("b"), Node::string("2"));
        m.insert(Node::string("a"), Node::string("3"));
        let keys: Vec<_> = m.iter().map(|(k, _)| k.as_str().unwrap()).collect();
        assert_eq!(keys, ["a", "b"]);
        assert_eq!(m.get("a").unwrap().as_str(), Some("3"));
    }
}
