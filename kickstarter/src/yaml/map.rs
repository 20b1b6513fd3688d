//! The YAML mapping: a Python `dict` in miniature (unique keys under Python equality, the last
//! of duplicate keys kept, insertion order), hashed once it grows so hostile input stays linear.

use std::borrow::Cow;
use std::collections::HashMap;

use super::value::{Node, Value, py_eq};

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

#[cfg(test)]
mod tests {
    use super::*;

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
